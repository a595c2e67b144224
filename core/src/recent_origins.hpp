#pragma once
// Which node sent each of the last N messages that came in from another site,
// so that a reply to one of them, made anywhere on this site, is routed back
// to that node. Bounded: the oldest entry goes first; a reply to a request
// older than the last `capacity` ones is not routed (and counted by the caller).

#include <grav/id.hpp>

#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace grav::detail {

class RecentOrigins {
public:
    explicit RecentOrigins(std::size_t capacity) : capacity_(capacity) {}

    void remember(const MessageId& message, const NodeId& origin) {
        std::lock_guard lock(mutex_);
        if (!origins_.insert_or_assign(message, origin).second) return;
        order_.push_back(message);
        while (order_.size() > capacity_) {
            origins_.erase(order_.front());
            order_.pop_front();
        }
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
    std::deque<MessageId> order_;
};

}  // namespace grav::detail
