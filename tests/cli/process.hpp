#pragma once
// A program run as a child process, as a user runs it from a terminal: its
// stdin is a pipe we write to, its stdout is read line by line, its stderr
// kept. Every wait has a deadline. The destructor kills (SIGKILL) and reaps
// a child still running, so a failing test leaves no process behind.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace grav::clitest {

class Process {
public:
    // argv[0] is the program's path.
    explicit Process(std::vector<std::string> argv);
    ~Process();
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    void write(std::string_view text);
    void close_stdin();
    void signal(int sig) const;

    // Reads stdout until a line satisfies `wanted` (returned) or the deadline.
    std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& wanted,
                                             std::chrono::milliseconds timeout);
    std::optional<std::string> wait_for_text(const std::string& needle, std::chrono::milliseconds timeout);
    // Waits for the exit, reading all output: the exit code (or 128 + signal),
    // nullopt at the deadline.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

    [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }
    [[nodiscard]] const std::string& err() const noexcept { return err_; }
    // Everything seen so far, for failure messages.
    [[nodiscard]] std::string transcript() const;

private:
    // Reads what is available within `timeout`; false when both pipes closed.
    bool pump(std::chrono::milliseconds timeout);

    pid_t pid_ = -1;
    int in_ = -1, out_ = -1, errfd_ = -1;
    std::optional<int> exit_code_;
    std::string out_buffer_;
    std::vector<std::string> lines_;
    std::string err_;
};

// A UDP beacon port for this test process only (derived from the pid), so
// parallel ctest runs never see each other's nodes.
std::uint16_t unique_beacon_port();

// `grav` with the network options the tests share: loopback only, beacons on
// `port`, the node named `name`; then `args`.
std::vector<std::string> grav_on_loopback(std::uint16_t port, const std::string& name,
                                          std::vector<std::string> args);

// Reads the process's output until its stderr holds `needle` or the timeout.
bool wait_for_stderr(Process& p, const std::string& needle, std::chrono::milliseconds timeout);

}  // namespace grav::clitest
