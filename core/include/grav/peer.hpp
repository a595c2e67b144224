#pragma once
// What the bus knows about other nodes, and why they come and go.

#include <grav/id.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace grav {

// This node, as told to peers in the handshake and to discovery.
struct LocalNode {
    NodeId id;
    std::string name;
    std::string belongs_to = "*";
    std::vector<std::string> interests;
};

// True when nodes of these two groups may mesh ("*" matches any group).
bool groups_match(const std::string& a, const std::string& b) noexcept;

struct PeerInfo {
    NodeId id;
    std::string name;
    std::string belongs_to;
    std::vector<std::string> interests;  // capabilities it serves (tunnel targets)
    std::vector<std::string> endpoints;  // how to reach it, transport-specific text
    std::string address;                 // the address it was seen at, for humans
    std::chrono::steady_clock::time_point last_seen{};
};

enum class LeaveReason : std::uint8_t {
    withdrew,    // it said goodbye (clean stop, withdraw, destruction)
    timed_out,   // no sign of life within the expiry / heartbeat timeout
    refused,     // the handshake was refused (other group, bad version, ...)
    replaced,    // a new node id appeared at the same address (restart)
    local_stop,  // this node stopped
};

const char* to_string(LeaveReason reason) noexcept;

struct PeerEvent {
    // lost_messages: the peer stays, but `lost` of the messages it sent
    // (detail says which stream) never arrived and never will.
    // unsent: this node stopped (withdraw/stop) before `lost` of the
    // messages it sent reached the peer (0 with unconfirmed: the peer did
    // not say what it took, so some may not have). Reported during
    // withdraw()/stop(), before the peer's `left`.
    enum class Kind : std::uint8_t { joined, left, lost_messages, unsent };
    Kind kind = Kind::joined;
    PeerInfo peer;
    std::optional<LeaveReason> reason;  // set when kind == left
    std::string detail;                 // human-readable, e.g. the refusal reason
    std::uint64_t lost = 0;             // set when kind == lost_messages or unsent
    bool unconfirmed = false;           // kind == unsent: the count is unknown
};

}  // namespace grav
