#pragma once
// Per-peer health and traffic of a transport link, for `grav peers`, the
// metrics' peer labels and programs that watch their mesh.

#include <grav/id.hpp>

#include <chrono>
#include <cstdint>
#include <optional>

namespace grav {

struct PeerTraffic {
    NodeId peer;
    // Point-to-point messages to this peer (send_to, replies). A publish is
    // one send to the fan-out socket, which filters per subscriber: what
    // it delivered to whom the sender cannot tell (the receiver counts it).
    std::uint64_t messages_sent = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t messages_received = 0;  // data messages accepted from it
    std::uint64_t bytes_received = 0;
    std::uint64_t resent = 0;                        // messages sent to it again on its request
    std::uint64_t lost = 0;                          // messages from it given up (gaps not recovered)
    std::optional<std::chrono::microseconds> rtt{};  // last measured round trip, if any
    // When the last sign of life came from it (any frame), if ever.
    std::optional<std::chrono::system_clock::time_point> last_seen{};
};

}  // namespace grav
