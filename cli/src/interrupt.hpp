#pragma once
// Ctrl-C (SIGINT) and SIGTERM as something a loop can poll, instead of a
// signal handler: the signals are blocked in every thread (the bus's threads
// inherit the mask, so it must be built first) and read from a signalfd.
// That lets the tool leave the mesh cleanly with bus.stop() on Ctrl-C.

#include <chrono>

namespace grav::cli {

class Interrupt {
public:
    Interrupt();  // blocks SIGINT/SIGTERM, ignores SIGPIPE (a closed stdout is an error, not a kill)
    ~Interrupt();
    Interrupt(const Interrupt&) = delete;
    Interrupt& operator=(const Interrupt&) = delete;

    // True once SIGINT or SIGTERM arrived. Never blocks.
    [[nodiscard]] bool requested();
    // Sleeps up to `timeout`; true when interrupted (at once if already).
    bool sleep_for(std::chrono::milliseconds timeout);
    // For poll() together with other fds: readable when a signal is pending.
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    int fd_ = -1;
    bool seen_ = false;
};

// Child processes must not inherit the blocked mask: call in the child
// (or give it to posix_spawn) to restore the default signal behaviour.
void unblock_interrupt_signals_in_child();

}  // namespace grav::cli
