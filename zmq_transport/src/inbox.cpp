#include "inbox.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>

namespace grav::zmq {

EventFd::EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

EventFd::~EventFd() { ::close(fd_); }

void EventFd::signal() const noexcept {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd_, &one, sizeof one);
}

void EventFd::clear() const noexcept {
    std::uint64_t value = 0;
    [[maybe_unused]] auto n = ::read(fd_, &value, sizeof value);
}

void Inbox::wake_locked() {
    // One wake-up per batch: the thread takes everything queued at once.
    if (!woken_) {
        woken_ = true;
        wake_.signal();
    }
}

bool Inbox::publish(MessagePtr message) {
    // Declared first, so destroyed last: after the unlock (give_back says why).
    std::vector<MessagePtr> sent;
    std::unique_lock lock(mutex_);
    collect_locked(sent);
    if (publishes_.size() >= max_publishes_ && !closed_ && !stop_) {
        ++blocked_;
        not_full_.wait(lock, [&] { return publishes_.size() < max_publishes_ || closed_ || stop_; });
    }
    if (closed_ || stop_) return false;
    publishes_.push_back(std::move(message));
    wake_locked();
    return true;
}

void Inbox::give_back(std::vector<MessagePtr>& spent) {
    if (spent.empty()) return;
    {
        std::lock_guard lock(mutex_);
        ++returns_;
        if (returned_.empty()) {
            returned_.swap(spent);  // the common case: O(1) under the lock
        } else if (returned_.size() < max_returned) {
            std::move(spent.begin(), spent.end(), std::back_inserter(returned_));
        }
        // Otherwise nobody is collecting: `spent` is dropped below, here.
    }
    spent.clear();
}

void Inbox::collect(std::vector<MessagePtr>& into) {
    std::lock_guard lock(mutex_);
    collect_locked(into);
}

void Inbox::collect_locked(std::vector<MessagePtr>& into) {
    if (into.empty()) {
        into.swap(returned_);
    } else {
        std::move(returned_.begin(), returned_.end(), std::back_inserter(into));
        returned_.clear();
    }
}

void Inbox::drop_uncollected() {
    std::vector<MessagePtr> stale;
    std::lock_guard lock(mutex_);
    if (returns_ == returns_seen_) stale.swap(returned_);
    returns_seen_ = returns_;
}

bool Inbox::push(Command command, Command* rejected) {
    std::lock_guard lock(mutex_);
    if (closed_ || stop_) {
        if (rejected) *rejected = std::move(command);
        return false;
    }
    commands_.push_back(std::move(command));
    wake_locked();
    return true;
}

void Inbox::request_stop() {
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
        woken_ = true;
        wake_.signal();
    }
    not_full_.notify_all();
}

void Inbox::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    not_full_.notify_all();
}

void Inbox::wake() {
    std::lock_guard lock(mutex_);
    wake_locked();
}

bool Inbox::has_commands() const {
    std::lock_guard lock(mutex_);
    return !commands_.empty();
}

bool Inbox::has_publishes() const {
    std::lock_guard lock(mutex_);
    return !publishes_.empty();
}

bool Inbox::stop_requested() const {
    std::lock_guard lock(mutex_);
    return stop_;
}

std::uint64_t Inbox::blocked_publishes() const {
    std::lock_guard lock(mutex_);
    return blocked_;
}

void Inbox::take(std::deque<Command>& commands, std::vector<MessagePtr>& publishes, std::size_t max) {
    bool freed = false;
    {
        std::lock_guard lock(mutex_);
        wake_.clear();
        woken_ = false;
        while (!commands_.empty()) {
            commands.push_back(std::move(commands_.front()));
            commands_.pop_front();
        }
        const std::size_t n = std::min(max, publishes_.size());
        if (n == publishes_.size() && publishes.empty()) {
            publishes.swap(publishes_);  // the common case: O(1) under the lock
        } else {
            const auto end = publishes_.begin() + static_cast<std::ptrdiff_t>(n);
            std::move(publishes_.begin(), end, std::back_inserter(publishes));
            publishes_.erase(publishes_.begin(), end);
        }
        freed = n > 0;
        // Publishes left behind: make sure the thread comes back for them.
        if (!publishes_.empty() && max > 0) wake_locked();
    }
    if (freed) not_full_.notify_all();
}

}  // namespace grav::zmq
