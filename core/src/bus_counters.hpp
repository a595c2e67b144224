#pragma once
// Bus-wide counters, shared by the bus and every pod state, so a pod can
// count what it does without reaching back into the bus.

#include "room_wait.hpp"

#include <atomic>
#include <cstdint>

namespace grav::detail {

struct BusCounters {
    std::atomic<std::uint64_t> sent{0};
    std::atomic<std::uint64_t> delivered{0};
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> redelivered{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<std::uint64_t> disconnected_by_bus{0};
    std::atomic<std::uint64_t> received_from_peers{0};
    // Set when the bus starts stopping: senders blocked on a full mailbox
    // stop waiting (the message is still queued, past capacity).
    std::atomic<bool> stopping{false};
    // Who wants and who runs the transport's loop: which senders may wait
    // for room (room_wait.hpp).
    LoopClaims loop;
};

}  // namespace grav::detail
