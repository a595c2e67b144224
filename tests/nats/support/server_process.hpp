#pragma once
// One nats-server process: started with a config file, its stdout and stderr
// appended to a log file, killed (SIGKILL) and reaped by the destructor.
//
// Nothing outlives the test: the child asks the kernel for SIGKILL when its
// parent dies (PR_SET_PDEATHSIG), so a crashed or timed-out test process
// takes its servers with it. That signal follows the *thread* that forked,
// so every child is forked by one keeper thread that lives as long as the
// process, never by the (possibly short-lived) calling thread.
//
// Not thread-safe: one thread drives a ServerProcess.

#include <sys/types.h>

#include <optional>
#include <string>

namespace grav::natstest {

class ServerProcess {
public:
    // Starts `binary -c config`, output appended to `log_path`. Throws
    // std::runtime_error when the log cannot be opened or fork fails; a
    // binary that cannot be executed exits 127 with the reason in the log.
    ServerProcess(const std::string& binary, const std::string& config, const std::string& log_path);
    ~ServerProcess();  // kill()
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // Still running (not exited, not killed). Does not reap: a dead child
    // stays waitable until kill(), so its exit can still be described.
    [[nodiscard]] bool alive() const;
    // How it ended ("exited with status 1", "killed by signal 9"), nullopt while alive.
    [[nodiscard]] std::optional<std::string> exit_description() const;
    // SIGKILL (if still running) and reap. Idempotent.
    void kill();

private:
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::optional<std::string> ended_;  // set once reaped
};

}  // namespace grav::natstest
