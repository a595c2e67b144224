#pragma once
// Discovered peers waiting for a dial slot (DialBudget): when 100 nodes
// start at once, each finds 99 peers within a second but may dial only 64
// of them. Without this queue a peer found while no slot was free would wait
// for discovery to report it again, one expiry later (3 s by default) and
// then with backoff, and when both ends of a pair had deferred each other
// the pair would stay apart that long (issue 20). Here it waits for the next
// free slot instead.
//
// Bounded (kept small: entries are the forged beacons' target too): when
// full, a peer is not queued, and discovery's report later still dials it.
// One entry per node id; the oldest first.
//
// Thread-safe.

#include <grav/discovery.hpp>

#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace grav::detail {

class PendingDials {
public:
    explicit PendingDials(std::size_t capacity) : capacity_(capacity) {}

    // False when full (or that node id waits already: then it is refreshed).
    bool add(const DiscoveredPeer& peer);
    void remove(const NodeId& peer);
    // The oldest waiting peer that `fits` (is given a slot), taken out of
    // the queue; nullopt when none does. `fits` runs under the queue's lock
    // and must not call back into it.
    std::optional<DiscoveredPeer> take_first(const std::function<bool(const DiscoveredPeer&)>& fits);
    [[nodiscard]] std::size_t size() const;

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::deque<DiscoveredPeer> waiting_;
};

}  // namespace grav::detail
