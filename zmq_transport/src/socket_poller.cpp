#include "socket_poller.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <cerrno>

namespace grav::zmq {

namespace {
thread_local SocketPoller* active_poller = nullptr;
}  // namespace

void SocketPoller::clear() {
    kept_asked_.clear();
    // A socket found with input at the last wait is asked again: its
    // signal is spent, and its input may not have been read (the loop stops
    // at a set gone stale).
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        if (sockets_[i]) kept_asked_[sockets_[i]] = static_cast<char>(asked_[i] || ready_[i]);
    }
    for (void* socket : fresh_) kept_asked_.erase(socket);
    fresh_.clear();
    sockets_.clear();
    fds_.clear();
    asked_.clear();
    ready_.clear();
    index_.clear();
}

void SocketPoller::add_socket(void* socket) {
    int fd = -1;
    std::size_t size = sizeof fd;
    if (zmq_getsockopt(socket, ZMQ_FD, &fd, &size) != 0) throw ::zmq::error_t();
    index_[socket] = sockets_.size();
    sockets_.push_back(socket);
    fds_.push_back(pollfd{fd, POLLIN, 0});
    const auto kept = kept_asked_.find(socket);
    const bool fresh = std::find(fresh_.begin(), fresh_.end(), socket) != fresh_.end();
    asked_.push_back(kept == kept_asked_.end() || fresh ? 1 : kept->second);
    ready_.push_back(0);
}

void SocketPoller::note_new(void* socket) {
    fresh_.push_back(socket);
    // Its address may be that of a socket of the current set, now closed.
    if (auto it = index_.find(socket); it != index_.end()) asked_[it->second] = 1;
}

void SocketPoller::add_fd(int fd) {
    sockets_.push_back(nullptr);
    fds_.push_back(pollfd{fd, POLLIN, 0});
    asked_.push_back(0);
    ready_.push_back(0);
}

void SocketPoller::touch(void* socket) noexcept {
    if (auto it = index_.find(socket); it != index_.end()) asked_[it->second] = 1;
}

void SocketPoller::untouch(void* socket) noexcept {
    if (auto it = index_.find(socket); it != index_.end()) asked_[it->second] = 0;
}

void SocketPoller::touch_item(std::size_t index) noexcept {
    if (sockets_[index]) asked_[index] = 1;
}

void SocketPoller::touch_all() noexcept {
    for (std::size_t i = 0; i < sockets_.size(); ++i) touch_item(i);
}

bool SocketPoller::socket_has_input(std::size_t index) const {
    int events = 0;
    std::size_t size = sizeof events;
    if (zmq_getsockopt(sockets_[index], ZMQ_EVENTS, &events, &size) != 0) throw ::zmq::error_t();
    return (events & ZMQ_POLLIN) != 0;
}

bool SocketPoller::used_socket_has_input() const {
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        if (asked_[i] && socket_has_input(i)) return true;
    }
    return false;
}

std::size_t SocketPoller::wait(std::chrono::milliseconds timeout, std::unique_lock<std::mutex>* asleep) {
    try {
        return wait_for_input(timeout, asleep);
    } catch (...) {
        // Some sockets may have been asked (their signal taken) before the
        // failure: ask them all again next time rather than miss their input.
        touch_all();
        throw;
    }
}

std::size_t SocketPoller::wait_for_input(std::chrono::milliseconds timeout,
                                         std::unique_lock<std::mutex>* asleep) {
    std::fill(ready_.begin(), ready_.end(), 0);
    std::size_t count = 0;
    // Sockets used since the last wait may hold input that their fd no
    // longer shows.
    for (std::size_t i = 0; i < sockets_.size(); ++i) {
        if (!asked_[i]) continue;
        asked_[i] = 0;
        if (socket_has_input(i)) {
            ready_[i] = 1;
            ++count;
        }
    }
    // Then one poll(2) over every fd, without waiting when input is there:
    // the other items still get their turn.
    const int wait_ms = count > 0 ? 0 : static_cast<int>(std::max<long long>(timeout.count(), 0));
    int rc = 0;
    if (asleep && wait_ms > 0) {
        // Only poll(2) runs unlocked: it reads fds_ and writes their revents,
        // which no other thread touches; a thread holding the lock meanwhile
        // may only mark asked_ (touch), read again below once we hold it.
        asleep->unlock();
        rc = ::poll(fds_.data(), fds_.size(), wait_ms);
        const int poll_errno = errno;
        asleep->lock();
        errno = poll_errno;
    } else {
        rc = ::poll(fds_.data(), fds_.size(), wait_ms);
    }
    if (rc < 0) {
        if (errno == EINTR) return count;
        throw ::zmq::error_t();
    }
    if (rc == 0) return count;
    for (std::size_t i = 0; i < fds_.size(); ++i) {
        if (fds_[i].revents == 0 || ready_[i]) continue;
        // A plain fd is level-triggered; a socket's readable fd only says
        // "ask me".
        if (!sockets_[i] || socket_has_input(i)) {
            ready_[i] = 1;
            ++count;
        }
    }
    return count;
}

void SocketPoller::note_use(void* socket) noexcept {
    if (active_poller) active_poller->touch(socket);
}

void SocketPoller::note_drained(void* socket) noexcept {
    if (active_poller) active_poller->untouch(socket);
}

SocketPoller::ActiveOnThisThread::ActiveOnThisThread(SocketPoller& poller) noexcept
    : previous_(active_poller) {
    active_poller = &poller;
}

SocketPoller::ActiveOnThisThread::~ActiveOnThisThread() { active_poller = previous_; }

}  // namespace grav::zmq
