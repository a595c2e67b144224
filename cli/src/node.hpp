#pragma once
// One grav node as the tool runs it: a Bus with the ZeroMQ transport and,
// unless --connect is given, beacon discovery; plus the PeerDirectory that
// follows its peers. The destructor leaves the mesh cleanly (bus.stop()).

#include "metrics_options.hpp"
#include "network_options.hpp"
#include "peer_directory.hpp"

#include <grav/bus.hpp>

#include "interrupt.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace grav::cli {

class Node {
public:
    // Throws CliError (bad_address, cannot_start) when the node cannot start.
    Node(const NetworkOptions& options, std::vector<std::string> interests);
    ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    [[nodiscard]] Bus& bus() noexcept { return *bus_; }
    [[nodiscard]] PeerDirectory& peers() noexcept { return peers_; }
    // Dials the --connect endpoints. Separate from the constructor so that a
    // command sets its pods up first: a peer then sees our subscriptions at once.
    void connect();

    // The largest payload peers accept (zmq::max_payload_size of our options,
    // theirs assumed equal): a larger message must be refused before sending.
    [[nodiscard]] std::size_t max_payload() const noexcept { return max_payload_; }

    // Leaves the mesh (bus.stop(), which waits a bounded time for peers to
    // take what was sent) and says what did not reach them: one line per
    // peer, empty when everything arrived. Idempotent.
    std::vector<std::string> stop();

    // "alice (3fa2b1c0)".
    [[nodiscard]] std::string describe() const;
    // How peers are found, for messages: "beacons on UDP port 5670" or "--connect".
    [[nodiscard]] std::string discovery_text() const;
    // When no peer appeared, without --verbose: "; secure mode refused: ...;
    // run with -v for why" if nodes were refused (or refused this one), else "".
    [[nodiscard]] std::string refusal_hint() const;
    // --nats without `bridge`: no LAN, other sites only.
    [[nodiscard]] bool nats_only() const noexcept { return nats_only_; }
    // With --nats: true once connected to a NATS server, within `timeout`.
    bool wait_for_nats(std::chrono::milliseconds timeout, Interrupt& interrupt);

private:
    NetworkOptions options_;
    bool nats_only_ = false;
    std::size_t max_payload_ = 0;
    PeerDirectory peers_;  // declared before the bus: outlives its callbacks
    std::mutex undelivered_mutex_;
    std::vector<std::string> undelivered_;  // PeerEvent::Kind::unsent, as told
    bool refusals_reported_ = false;
    std::unique_ptr<Bus> bus_;
    std::unique_ptr<MetricsServer> metrics_;  // after bus_: gone before it

    // --verbose: one line with the refusal counters that are not zero.
    void report_refusals();
};

// "beacon.not_admitted=12 (beacons signed by ...), zmq.handshake_rejected=3
// (...)": the secure-mode refusal counters of `stats` that are not zero.
std::string refusal_summary(const std::map<std::string, std::uint64_t>& stats);

}  // namespace grav::cli
