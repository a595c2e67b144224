#pragma once
// The dials in flight to discovered peers not yet heard on their TCP side.
// Discovery believes any beacon, and a plain beacon can be forged by anyone
// on the LAN: every dial costs the transport sockets (grav::zmq: a DEALER and
// its monitor) until the handshake completes or times out, so an unbounded
// number of them lets a flood of forged ids exhaust the sockets of the
// process. The budget caps them in total and per source host (one forging
// host cannot take every slot from the others). A dial refused here is
// deferred, not lost: discovery reports a peer that keeps beaconing without
// a link again, with backoff, and a real peer dials this node anyway (its
// inbound handshake needs no slot).
//
// Thread-safe.

#include <grav/id.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace grav::detail {

class DialBudget {
public:
    DialBudget(std::size_t total, std::size_t per_host) : total_(total), per_host_(per_host) {}

    enum class Take { taken, in_flight, full };
    // A slot for a dial to `peer` at `host`; in_flight: one is already held.
    // When taken, `*serial` names this dial (for release_if).
    Take take(const NodeId& peer, const std::string& host, std::uint64_t* serial = nullptr);
    // The dial ended (joined, failed, lost). True when a slot was held.
    bool release(const NodeId& peer);
    // The same, only if the slot held is still that of dial `serial` (a
    // deadline set for one dial must not end a later one).
    bool release_if(const NodeId& peer, std::uint64_t serial);
    [[nodiscard]] std::size_t in_flight() const;

private:
    bool release_matching(const NodeId& peer, std::optional<std::uint64_t> serial);

    const std::size_t total_;
    const std::size_t per_host_;
    mutable std::mutex mutex_;
    struct Dial {
        std::string host;
        std::uint64_t serial = 0;
    };
    std::unordered_map<NodeId, Dial> dials_;
    std::uint64_t next_serial_ = 0;
    std::map<std::string, std::size_t> per_host_count_;
};

}  // namespace grav::detail
