#pragma once
// One peer's share of the counters (grav::PeerTraffic): written by the loop
// lock's holder (node.hpp) through its PeerLink, read by Node::traffic()
// from any thread. Shared, so that a reader's copy stays valid while the
// loop drops the link; relaxed atomics, like counters.hpp.

#include <grav/peer_traffic.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

namespace grav::zmq {

struct PeerCounters {
    std::atomic<std::uint64_t> messages_sent{0};  // direct messages handed to its DEALER
    std::atomic<std::uint64_t> bytes_sent{0};
    std::atomic<std::uint64_t> messages_received{0};  // delivered from it (fan-out + direct)
    std::atomic<std::uint64_t> bytes_received{0};
    std::atomic<std::uint64_t> resent{0};       // sent to it again on its RESEND
    std::atomic<std::uint64_t> lost{0};         // from it, given up
    std::atomic<std::int64_t> rtt_us{-1};       // last round trip; -1: none yet
    std::atomic<std::int64_t> last_seen_ns{0};  // system clock of its last frame; 0: none

    void seen() noexcept {
        last_seen_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count(),
                           std::memory_order_relaxed);
    }
    void round_trip(std::chrono::steady_clock::duration took) noexcept {
        rtt_us.store(std::chrono::duration_cast<std::chrono::microseconds>(took).count(),
                     std::memory_order_relaxed);
    }

    [[nodiscard]] PeerTraffic snapshot(const NodeId& peer) const {
        auto get = [](const std::atomic<std::uint64_t>& c) { return c.load(std::memory_order_relaxed); };
        PeerTraffic t{
            .peer = peer,
            .messages_sent = get(messages_sent),
            .bytes_sent = get(bytes_sent),
            .messages_received = get(messages_received),
            .bytes_received = get(bytes_received),
            .resent = get(resent),
            .lost = get(lost),
        };
        if (const auto rtt = rtt_us.load(std::memory_order_relaxed); rtt >= 0)
            t.rtt = std::chrono::microseconds(rtt);
        if (const auto seen = last_seen_ns.load(std::memory_order_relaxed); seen != 0) {
            t.last_seen = std::chrono::system_clock::time_point(
                std::chrono::duration_cast<std::chrono::system_clock::duration>(
                    std::chrono::nanoseconds(seen)));
        }
        return t;
    }
};

}  // namespace grav::zmq
