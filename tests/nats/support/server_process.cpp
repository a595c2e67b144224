#include "server_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

namespace grav::natstest {
namespace {

// Runs jobs on one thread that never exits (detached; it ends with the
// process). Its state is shared with the thread, so the static handle below
// may be destroyed at exit while the thread still waits on it.
struct Keeper {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::function<void()>> jobs;
};

std::shared_ptr<Keeper> start_keeper() {
    auto keeper = std::make_shared<Keeper>();
    std::thread([keeper] {
        while (true) {
            std::function<void()> job;
            {
                std::unique_lock lock(keeper->mutex);
                keeper->wake.wait(lock, [&] { return !keeper->jobs.empty(); });
                job = std::move(keeper->jobs.front());
                keeper->jobs.pop_front();
            }
            job();
        }
    }).detach();
    return keeper;
}

template <typename F>
auto on_keeper(F f) -> decltype(f()) {
    static const std::shared_ptr<Keeper> keeper = start_keeper();
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto result = task->get_future();
    {
        std::lock_guard lock(keeper->mutex);
        keeper->jobs.emplace_back([task] { (*task)(); });
    }
    keeper->wake.notify_one();
    return result.get();
}

// Only async-signal-safe calls between fork and exec: the parent has threads.
[[noreturn]] void exec_child(pid_t parent, int log_fd, int null_fd, const char* path, char* const* argv) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // No inherited sockets or files: a server must not keep a test's ports open.
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(path, argv);
    static const char msg[] = "grav nats harness: exec of the nats-server binary failed\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
    return "ended with wait status " + std::to_string(status);
}

}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::string& config,
                             const std::string& log_path) {
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot open " + log_path + ": " + std::strerror(errno));
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    std::vector<std::string> args{binary, "-c", config};
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    // errno is per thread: the keeper hands it back with the result.
    const auto [pid, fork_errno] = on_keeper([&] {
        const pid_t child = ::fork();
        if (child == 0) exec_child(parent, log_fd, null_fd, argv[0], argv.data());
        return std::pair<pid_t, int>(child, child < 0 ? errno : 0);
    });
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(fork_errno));
    pid_ = pid;
}

ServerProcess::~ServerProcess() { kill(); }

bool ServerProcess::alive() const { return !exit_description().has_value(); }

std::optional<std::string> ServerProcess::exit_description() const {
    if (reaped_) return ended_;
    siginfo_t info{};
    // WNOWAIT: look without reaping, so this stays const and kill() reaps.
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
        return std::string("cannot be waited for: ") + std::strerror(errno);
    }
    if (info.si_pid == 0) return std::nullopt;
    if (info.si_code == CLD_EXITED) return "exited with status " + std::to_string(info.si_status);
    return "killed by signal " + std::to_string(info.si_status);
}

void ServerProcess::kill() {
    if (reaped_ || pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t r = 0;
    do {
        r = ::waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    reaped_ = true;
    ended_ = r == pid_ ? describe(status) : std::string("lost (waitpid failed)");
}

}  // namespace grav::natstest
