#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <utility>

namespace grav::clitest {
namespace {

using Clock = std::chrono::steady_clock;

std::array<int, 2> make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    return fds;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

}  // namespace

Process::Process(std::vector<std::string> argv) {
    ::signal(SIGPIPE, SIG_IGN);  // writing to a child that exited must not kill the test
    const auto in = make_pipe();
    const auto out = make_pipe();
    const auto err = make_pipe();
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(in[0], STDIN_FILENO);
        ::dup2(out[1], STDOUT_FILENO);
        ::dup2(err[1], STDERR_FILENO);
        ::signal(SIGPIPE, SIG_DFL);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_ = in[1];
    out_ = out[0];
    errfd_ = err[0];
}

Process::~Process() {
    if (!exit_code_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    for (int fd : {in_, out_, errfd_})
        if (fd >= 0) ::close(fd);
}

void Process::write(std::string_view text) {
    while (!text.empty() && in_ >= 0) {
        const ssize_t n = ::write(in_, text.data(), text.size());
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

void Process::close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
}

void Process::signal(int sig) const {
    if (!exit_code_ && pid_ > 0) ::kill(pid_, sig);
}

bool Process::pump(std::chrono::milliseconds timeout) {
    std::array<pollfd, 2> fds{{{out_, POLLIN, 0}, {errfd_, POLLIN, 0}}};
    if (out_ < 0 && errfd_ < 0) return false;
    if (::poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) return true;
    char chunk[4096];
    if (out_ >= 0 && fds[0].revents != 0) {
        const ssize_t n = ::read(out_, chunk, sizeof chunk);
        if (n <= 0) {
            ::close(out_);
            out_ = -1;
            if (!out_buffer_.empty()) lines_.push_back(std::exchange(out_buffer_, {}));
        } else {
            out_buffer_.append(chunk, static_cast<std::size_t>(n));
            for (auto nl = out_buffer_.find('\n'); nl != std::string::npos; nl = out_buffer_.find('\n')) {
                lines_.push_back(out_buffer_.substr(0, nl));
                out_buffer_.erase(0, nl + 1);
            }
        }
    }
    if (errfd_ >= 0 && fds[1].revents != 0) {
        const ssize_t n = ::read(errfd_, chunk, sizeof chunk);
        if (n <= 0) {
            ::close(errfd_);
            errfd_ = -1;
        } else {
            err_.append(chunk, static_cast<std::size_t>(n));
        }
    }
    return true;
}

std::optional<std::string> Process::wait_for_line(const std::function<bool(const std::string&)>& wanted,
                                                  std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::size_t checked = 0;
    for (;;) {
        for (; checked < lines_.size(); ++checked)
            if (wanted(lines_[checked])) return lines_[checked++];
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::nullopt;
        if (!pump(std::min(left, std::chrono::milliseconds(50))) && checked == lines_.size()) return std::nullopt;
    }
}

std::optional<std::string> Process::wait_for_text(const std::string& needle, std::chrono::milliseconds timeout) {
    return wait_for_line([&](const std::string& line) { return line.find(needle) != std::string::npos; }, timeout);
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!exit_code_) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_code_ = decode_status(status);
            break;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return std::nullopt;
        if (!pump(std::min(left, std::chrono::milliseconds(20)))) {
            // Pipes closed: the child is exiting; poll its status briefly.
            ::usleep(5000);
        }
    }
    // Whatever is left in the pipes.
    while (pump(std::chrono::milliseconds(0)) && (out_ >= 0 || errfd_ >= 0)) {
        pollfd p[2] = {{out_, POLLIN, 0}, {errfd_, POLLIN, 0}};
        if (::poll(p, 2, 100) <= 0) break;
    }
    return exit_code_;
}

std::string Process::transcript() const {
    std::string text = "--- stdout:\n";
    for (const auto& line : lines_) text += line + "\n";
    text += out_buffer_;
    text += "--- stderr:\n" + err_;
    return text;
}

std::vector<std::string> grav_on_loopback(std::uint16_t port, const std::string& name,
                                          std::vector<std::string> args) {
    std::vector<std::string> argv{GRAV_TOOL, "--interface", "lo", "--beacon-port", std::to_string(port),
                                  "--name",  name};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
}

bool wait_for_stderr(Process& p, const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (p.err().find(needle) == std::string::npos) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        p.wait_for_line([](const std::string&) { return false; }, std::chrono::milliseconds(50));
    }
    return true;
}

std::uint16_t unique_beacon_port() {
    // 20000..59999, a different port per call within the process.
    static std::atomic<unsigned> calls{0};
    const unsigned base = static_cast<unsigned>(::getpid()) * 13u + calls.fetch_add(1) * 7919u;
    return static_cast<std::uint16_t>(20000 + base % 40000);
}

}  // namespace grav::clitest
