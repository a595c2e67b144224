#include "interrupt.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace grav::cli {
namespace {

sigset_t interrupt_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

Interrupt::Interrupt() {
    std::signal(SIGPIPE, SIG_IGN);
    const sigset_t set = interrupt_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd_ < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
}

Interrupt::~Interrupt() {
    if (fd_ >= 0) ::close(fd_);
}

bool Interrupt::requested() { return sleep_for(std::chrono::milliseconds(0)); }

bool Interrupt::sleep_for(std::chrono::milliseconds timeout) {
    if (seen_) return true;
    pollfd p{fd_, POLLIN, 0};
    int rc = 0;
    do {
        rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    if (rc > 0) {
        signalfd_siginfo info{};
        // Drain it; what counts is that one arrived.
        while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {}
        seen_ = true;
    }
    return seen_;
}

void unblock_interrupt_signals_in_child() {
    const sigset_t set = interrupt_signals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_DFL);
}

}  // namespace grav::cli
