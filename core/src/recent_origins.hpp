#pragma once
// Which node sent each of the last N messages that came in from another site,
// so that a reply to one of them, made anywhere on this site, is routed back
// to that node. Bounded: the oldest entry goes first; a reply to a request
// older than the last `capacity` ones is not routed (and counted by the caller).

#include <grav/id.hpp>

#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace grav::detail {

class RecentOrigins {
public:
    explicit RecentOrigins(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

    // Runs for every message that comes in from another site: once full, it
    // allocates nothing (the oldest entry's node and ring slot are reused).
    void remember(const MessageId& message, const NodeId& origin) {
        std::lock_guard lock(mutex_);
        if (auto it = origins_.find(message); it != origins_.end()) {
            it->second = origin;
            return;
        }
        if (ring_.size() < capacity_) {
            if (ring_.empty()) origins_.reserve(capacity_);  // no rehash as it fills
            ring_.push_back(message);
            origins_.emplace(message, origin);
            return;
        }
        MessageId& oldest = ring_[head_];
        auto node = origins_.extract(oldest);
        node.key() = message;
        node.mapped() = origin;
        origins_.insert(std::move(node));
        oldest = message;
        head_ = (head_ + 1) % capacity_;
    }

    [[nodiscard]] std::optional<NodeId> origin_of(const MessageId& message) const {
        std::lock_guard lock(mutex_);
        auto it = origins_.find(message);
        if (it == origins_.end()) return std::nullopt;
        return it->second;
    }

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::unordered_map<MessageId, NodeId> origins_;
    std::vector<MessageId> ring_;  // the remembered ids, oldest at head_ once full
    std::size_t head_ = 0;
};

}  // namespace grav::detail
