#pragma once
// Discovery's counters: written by the discovery thread, read by stats() from
// any thread.

#include <grav/metric.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace grav::beacon {

enum class Counter : std::size_t {
    sent,         // beacons sent (every datagram, every target)
    send_failed,  // a send the kernel refused (interface down, no route)
    received,     // datagrams that decoded as beacons
    answered,     // immediate answers to a new (or restarted) peer
    own,          // our own beacons, heard back
    foreign,      // wrong magic
    unknown_version,
    oversized,
    malformed,
    foreign_group,     // a node of a group that does not match ours
    other_interface,   // arrived on an interface the options exclude
    peer_limit,        // a new peer ignored because max_peers are tracked
    found,             // on_peer_found calls
    lost_withdrew,     // on_peer_lost(withdrew) calls
    lost_timed_out,    // on_peer_lost(timed_out) calls
    replaced,          // on_peer_lost(replaced): a new id at a known address
    address_conflict,  // two live nodes beacon the same address and port
    redial,            // found again: still beaconing, but the transport has no live link
    kept_alive,        // silent past expiry, but the transport still saw it alive
    callback_threw,    // a DiscoveryEvents callback threw (caught)
    // Secure mode (BeaconOptions::security): beacons dropped before they count.
    unsigned_beacon,  // a plain beacon
    not_admitted,     // signed by a key the policy does not admit
    bad_signature,    // the signature does not match the bytes
    replayed,         // stamp older than the last one accepted from that node
    duplicate,        // the beacon accepted last from that node, heard again (another path)
    stale,            // stamp outside this node's clock ± max_clock_skew
    // Plain mode:
    signed_ignored,  // a sealed beacon: its sender is secure, this node is not
    count_
};

class Counters {
public:
    void add(Counter c, std::uint64_t n = 1) noexcept {
        values_[static_cast<std::size_t>(c)].fetch_add(n, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t get(Counter c) const noexcept {
        return values_[static_cast<std::size_t>(c)].load(std::memory_order_relaxed);
    }
    [[nodiscard]] std::map<std::string, std::uint64_t> snapshot() const;
    // Every counter's key, as a counter with its help line (for the metrics).
    [[nodiscard]] static std::vector<MetricInfo> describe();

private:
    std::array<std::atomic<std::uint64_t>, static_cast<std::size_t>(Counter::count_)> values_{};
};

}  // namespace grav::beacon
