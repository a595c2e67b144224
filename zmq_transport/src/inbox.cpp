#include "inbox.hpp"

#include "wire/batch.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
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
    if (!woken_) signal_wake();
}

void Inbox::signal_wake() {
    woken_ = true;
    wake_.signal();
    if (listener_) listener_();
}

bool Inbox::publish(const Message& message) { return offer(message, true) == Offer::queued; }

Inbox::Offer Inbox::try_publish(const Message& message) { return offer(message, false); }

Inbox::Offer Inbox::offer(const Message& message, bool may_wait) {
    // A large one is copied before the lock (FanoutQueue::encode_alone).
    std::optional<FanoutQueue::Batch> alone;
    if (FanoutQueue::travels_alone(message) && wire::check_data(message)) {
        alone = FanoutQueue::encode_alone(message);
    }
    std::unique_lock lock(mutex_);
    if (publishes_.messages() >= max_publishes_ && !closed_ && !stop_) {
        if (!may_wait) return Offer::full;
        ++blocked_;
        not_full_.wait(lock, [&] { return publishes_.messages() < max_publishes_ || closed_ || stop_; });
    }
    if (closed_ || stop_) return Offer::closed;
    publishes_.push(message, std::move(alone));
    wake_locked();
    return Offer::queued;
}

bool Inbox::publish_alone(const Message& message, std::deque<FanoutQueue::Batch>& batches) {
    if (FanoutQueue::travels_alone(message)) return false;  // copied before any lock: publish()
    std::lock_guard lock(mutex_);
    if (!publishes_.empty() || closed_ || stop_) return false;
    publishes_.push(message);
    // Nobody waits for room: the queue was empty.
    publishes_.take(batches);
    return true;
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
        signal_wake();  // even if a wake-up is pending: the stop must be seen
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

bool Inbox::wake_pending() const {
    std::lock_guard lock(mutex_);
    return woken_;
}

bool Inbox::stop_requested() const {
    std::lock_guard lock(mutex_);
    return stop_;
}

std::uint64_t Inbox::blocked_publishes() const {
    std::lock_guard lock(mutex_);
    return blocked_;
}

void Inbox::take(std::deque<Command>& commands, std::deque<FanoutQueue::Batch>& batches, bool publishes) {
    bool freed = false;
    {
        std::lock_guard lock(mutex_);
        wake_.clear();
        woken_ = false;
        while (!commands_.empty()) {
            commands.push_back(std::move(commands_.front()));
            commands_.pop_front();
        }
        if (publishes) {
            freed = publishes_.messages() > 0;
            publishes_.take(batches);
        }
    }
    if (freed) not_full_.notify_all();
}

void Inbox::recycle(std::vector<std::vector<std::byte>>& frames) {
    if (frames.empty()) return;
    {
        std::lock_guard lock(mutex_);
        publishes_.recycle(frames);
    }
    frames.clear();
}

}  // namespace grav::zmq
