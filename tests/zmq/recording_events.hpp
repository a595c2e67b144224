#pragma once
// A TransportEvents that records everything, for tests that drive a
// grav::zmq transport directly (no Bus). Thread-safe: the transport calls it
// from its own thread, the test reads from the test thread.

#include <grav/transport.hpp>

#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace grav::ztest {

struct Left {
    NodeId id;
    LeaveReason reason;
    std::string detail;
};
struct Refused {
    std::string endpoint;
    std::string reason;
};
struct Received {
    NodeId from;
    MessagePtr message;
};
struct Lost {
    NodeId from;
    std::string stream;
    std::uint64_t count;
};

class RecordingEvents : public TransportEvents {
public:
    // Decides admissions (default: admit everyone).
    std::function<Status(const PeerInfo&)> admit_fn;
    // Runs on the transport thread for each message (e.g. to be slow).
    std::function<void(const Message&)> on_message_fn;
    // Stands for the bus's has_room(): false while a pod's mailbox is full.
    std::function<bool()> has_room_fn;

    Status admit(const PeerInfo& peer) override { return admit_fn ? admit_fn(peer) : success(); }
    void on_peer_joined(const PeerInfo& peer) override {
        std::lock_guard lock(mutex_);
        joined_.push_back(peer);
    }
    void on_peer_left(const NodeId& peer, LeaveReason reason, std::string_view detail) override {
        std::lock_guard lock(mutex_);
        left_.push_back({peer, reason, std::string(detail)});
    }
    void on_peer_refused(std::string_view endpoint, std::string_view reason) override {
        std::lock_guard lock(mutex_);
        refused_.push_back({std::string(endpoint), std::string(reason)});
    }
    bool has_room() override { return !has_room_fn || has_room_fn(); }
    void on_message(const NodeId& from, MessagePtr message) override {
        if (on_message_fn) on_message_fn(*message);
        std::lock_guard lock(mutex_);
        messages_.push_back({from, std::move(message)});
    }

    void on_messages_lost(const NodeId& from, std::string_view stream, std::uint64_t count) override {
        std::lock_guard lock(mutex_);
        lost_.push_back({from, std::string(stream), count});
    }

    std::vector<PeerInfo> joined() const { return copy(joined_); }
    std::vector<Lost> lost() const { return copy(lost_); }
    std::vector<Left> left() const { return copy(left_); }
    std::vector<Refused> refused() const { return copy(refused_); }
    std::vector<Received> messages() const { return copy(messages_); }
    std::size_t message_count() const {
        std::lock_guard lock(mutex_);
        return messages_.size();
    }
    bool has_joined(const NodeId& id) const {
        std::lock_guard lock(mutex_);
        for (const auto& p : joined_) {
            if (p.id == id) return true;
        }
        return false;
    }
    bool has_left(const NodeId& id) const {
        std::lock_guard lock(mutex_);
        for (const auto& l : left_) {
            if (l.id == id) return true;
        }
        return false;
    }

private:
    template <class T>
    std::vector<T> copy(const std::vector<T>& v) const {
        std::lock_guard lock(mutex_);
        return v;
    }
    mutable std::mutex mutex_;
    std::vector<PeerInfo> joined_;
    std::vector<Left> left_;
    std::vector<Refused> refused_;
    std::vector<Received> messages_;
    std::vector<Lost> lost_;
};

}  // namespace grav::ztest
