#pragma once
// A child process with its stdout read line by line, for tests that run real
// node processes. Every wait has a deadline; the destructor kills (SIGKILL)
// and reaps a child that is still running, so a failing test leaves nothing.

#include <sys/types.h>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace grav::testkit {

// Monotonic milliseconds (CLOCK_MONOTONIC): the same clock in every process
// and every network namespace of the host, so times printed by children compare.
double monotonic_ms();

class ChildProcess {
public:
    // argv[0] is the program path (no PATH lookup). The child's stderr is
    // ours, or the file `stderr_path` (truncated) when one is given.
    explicit ChildProcess(std::vector<std::string> argv, const std::string& stderr_path = {});
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    [[nodiscard]] bool started() const noexcept { return pid_ > 0; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }

    // The next line (without '\n'), or nullopt at the deadline / end of output.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // The first line from index `from` on (lines already read included) that
    // satisfies `wanted`, reading more until the deadline. Every line read is
    // kept in lines(), so waits in any order see every event.
    std::optional<std::string> wait_for(const std::function<bool(const std::string&)>& wanted,
                                        std::chrono::milliseconds timeout, std::size_t from = 0);
    std::optional<std::string> wait_for_prefix(const std::string& prefix, std::chrono::milliseconds timeout,
                                               std::size_t from = 0);
    [[nodiscard]] std::size_t line_count() const noexcept { return lines_.size(); }
    // For a caller that polls many children at once: the pipe of the
    // child's stdout (-1 once it ended), and a read of whatever is in it now,
    // without waiting; the complete lines go to lines(). False once the
    // output ended (the child exited or closed it).
    [[nodiscard]] int output_fd() const noexcept { return out_; }
    bool read_available();
    [[nodiscard]] const std::vector<std::string>& lines() const noexcept { return lines_; }

    void signal(int sig) const;
    // Waits for the exit; the exit status (or -signal), nullopt on timeout.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

private:
    pid_t pid_ = -1;
    int out_ = -1;
    bool reaped_ = false;
    std::string buffer_;
    std::vector<std::string> lines_;
};

std::vector<std::string> split(const std::string& line);

}  // namespace grav::testkit
