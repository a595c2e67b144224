#include "child_process.hpp"

#include "interrupt.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace grav::cli {
namespace {

// Closes on destruction; -1 = closed.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    void reset() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_ = -1;
};

struct Pipe {
    Fd read, write;
};

Result<Pipe> make_pipe() {
    std::array<int, 2> fds{};
    if (::pipe2(fds.data(), O_CLOEXEC) != 0)
        return Error(Errc::handler_failed, std::string("pipe: ") + std::strerror(errno));
    return Pipe{Fd(fds[0]), Fd(fds[1])};
}

int wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

}  // namespace

Result<CommandOutput> run_command(const std::string& command, std::string_view input,
                                  std::chrono::milliseconds timeout) {
    auto in = make_pipe();
    if (!in) return in.error();
    auto out = make_pipe();
    if (!out) return out.error();

    const pid_t pid = ::fork();
    if (pid < 0) return Error(Errc::handler_failed, std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        ::dup2(in->read.get(), STDIN_FILENO);
        ::dup2(out->write.get(), STDOUT_FILENO);
        unblock_interrupt_signals_in_child();
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    in->read.reset();
    out->write.reset();
    ::fcntl(in->write.get(), F_SETFL, O_NONBLOCK);

    // Feed stdin and drain stdout together: a command that writes a lot
    // before reading everything must not deadlock us.
    CommandOutput result;
    std::size_t written = 0;
    if (input.empty()) in->write.reset();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out->read.get() >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            ::kill(pid, SIGKILL);
            wait_child(pid);
            return Error(Errc::timeout, "command '" + command + "' ran longer than " +
                                            std::to_string(timeout.count()) + " ms and was killed");
        }
        std::array<pollfd, 2> fds{{{out->read.get(), POLLIN, 0}, {in->write.get(), POLLOUT, 0}}};
        const nfds_t count = in->write.get() >= 0 ? 2 : 1;
        if (::poll(fds.data(), count, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        if (count == 2 && fds[1].revents != 0) {
            const ssize_t n = ::write(in->write.get(), input.data() + written, input.size() - written);
            if (n > 0) written += static_cast<std::size_t>(n);
            if (n < 0 && errno != EAGAIN) written = input.size();  // it stopped reading (EPIPE): fine
            if (written >= input.size()) in->write.reset();
        }
        if (fds[0].revents != 0) {
            char chunk[4096];
            const ssize_t n = ::read(out->read.get(), chunk, sizeof chunk);
            if (n > 0)
                result.out.append(chunk, static_cast<std::size_t>(n));
            else if (n == 0 || errno != EINTR)
                out->read.reset();
        }
    }
    in->write.reset();
    result.exit_status = wait_child(pid);
    return result;
}

}  // namespace grav::cli
