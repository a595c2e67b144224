#pragma once
// The bounded hand-over from nats.c's delivery threads to the bridge's own
// thread. A NATS callback only pushes: it never waits for room (that would
// make the server cut the bridge as a slow consumer); a full queue refuses
// the item and the caller counts it.
//
// outstanding(): items pushed and not yet handled (done()), so a callback
// can tell that nothing it received earlier is still on its way to the
// core, and hand a message over itself without overtaking one.

#include "nats_codec.hpp"
#include "stream_check.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <string>

namespace grav::nats::detail {

struct Inbound {
    Subjects::Kind kind = Subjects::Kind::unknown;
    std::string subject;
    std::string rest;  // the type, node id, capability or message id
    Decoded decoded;   // empty for an inbox status
    // Set when the callback checked the count already (StreamCheck) and
    // then could not deliver: the bridge's thread must not check it again.
    std::optional<StreamCheck::Verdict> verdict;
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
            ++outstanding_;
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

    // The taker handled `n` of the items it took.
    void done(std::size_t n) {
        std::lock_guard lock(mutex_);
        outstanding_ -= n;
    }

    [[nodiscard]] std::size_t outstanding() const {
        std::lock_guard lock(mutex_);
        return outstanding_;
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
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Inbound> items_;
    std::size_t outstanding_ = 0;  // pushed, not yet done()
    bool closed_ = false;
};

}  // namespace grav::nats::detail
