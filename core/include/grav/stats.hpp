#pragma once
#include <cstdint>
#include <map>
#include <string>

namespace grav {

// A snapshot of one pod's counters.
struct PodStats {
    std::uint64_t sent = 0;         // messages this pod sent
    std::uint64_t delivered = 0;    // handler calls that succeeded (redeliveries included)
    std::uint64_t failed = 0;       // handler calls that failed (returned failure or threw)
    std::uint64_t redelivered = 0;  // failed messages delivered again
    std::uint64_t dropped = 0;      // messages meant for this pod that it never handled
    std::uint64_t queue_depth = 0;  // messages waiting in the mailbox now
};

// A snapshot of a bus: totals over every pod it ever had, plus its own.
struct BusStats {
    std::uint64_t pods = 0;          // pods connected now
    std::uint64_t sent = 0;
    std::uint64_t delivered = 0;
    std::uint64_t failed = 0;
    std::uint64_t redelivered = 0;
    std::uint64_t dropped = 0;
    std::uint64_t queue_depth = 0;
    std::uint64_t disconnected_by_bus = 0;  // pods the bus disconnected (failures, overflow)
    std::uint64_t received_from_peers = 0;  // messages that came in through the transport
    std::uint64_t peers = 0;                // peers connected now
    // The transport's and discovery's own counters, by name
    // ("zmq.bytes_sent", "zmq.gaps", "beacon.malformed", ...).
    std::map<std::string, std::uint64_t> network;
};

}  // namespace grav
