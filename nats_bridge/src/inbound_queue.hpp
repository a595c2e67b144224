#pragma once
// The bounded hand-over from nats.c's delivery threads to the bridge's own
// thread. A NATS callback only pushes: it never waits for room (that would
// make the server cut the bridge as a slow consumer); a full queue refuses
// the item and the caller counts it.

#include "nats_codec.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>

namespace grav::nats::detail {

struct Inbound {
    Subjects::Kind kind = Subjects::Kind::unknown;
    std::string subject;
    std::string rest;  // the type, node id, capability or message id
    Decoded decoded;   // empty for an inbox status
};

class InboundQueue {
public:
    explicit InboundQueue(std::size_t capacity) : capacity_(capacity) {}

    // false when full or closed.
    bool push(Inbound item) {
        {
            std::lock_guard lock(mutex_);
            if (closed_ || items_.size() >= capacity_) return false;
            items_.push_back(std::move(item));
        }
        ready_.notify_one();
        return true;
    }

    // Waits for items and takes them all; false once closed and empty.
    bool take(std::deque<Inbound>& out) {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !items_.empty(); });
        if (items_.empty()) return false;
        out.swap(items_);
        return true;
    }

    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
    }

private:
    const std::size_t capacity_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Inbound> items_;
    bool closed_ = false;
};

}  // namespace grav::nats::detail
