#pragma once
// A DiscoveryEvents that records what discovery reports, with bounded waits.

#include <grav/discovery.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <vector>

namespace grav::testkit {

class Recorder final : public DiscoveryEvents {
public:
    struct Lost {
        NodeId id;
        LeaveReason reason;
        std::chrono::steady_clock::time_point at;
    };

    void on_peer_found(const DiscoveredPeer& peer) override {
        const std::lock_guard lock(mutex_);
        found_.push_back(peer);
        changed_.notify_all();
    }
    void on_peer_lost(const NodeId& peer, LeaveReason reason) override {
        const std::lock_guard lock(mutex_);
        lost_.push_back({peer, reason, std::chrono::steady_clock::now()});
        changed_.notify_all();
    }
    bool peer_alive(const NodeId&) override {
        alive_asked_.fetch_add(1);
        return alive_.load();
    }

    std::optional<DiscoveredPeer> wait_found(const NodeId& id, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        std::optional<DiscoveredPeer> out;
        changed_.wait_for(lock, timeout, [&] {
            for (const auto& p : found_) {
                if (p.id == id) out = p;
            }
            return out.has_value();
        });
        return out;
    }
    std::optional<Lost> wait_lost(const NodeId& id, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        std::optional<Lost> out;
        changed_.wait_for(lock, timeout, [&] {
            for (const auto& l : lost_) {
                if (l.id == id) out = l;
            }
            return out.has_value();
        });
        return out;
    }
    std::vector<DiscoveredPeer> found() {
        const std::lock_guard lock(mutex_);
        return found_;
    }
    std::vector<Lost> lost() {
        const std::lock_guard lock(mutex_);
        return lost_;
    }

    std::atomic<bool> alive_{false};  // what peer_alive answers
    std::atomic<int> alive_asked_{0};

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<DiscoveredPeer> found_;
    std::vector<Lost> lost_;
};

}  // namespace grav::testkit
