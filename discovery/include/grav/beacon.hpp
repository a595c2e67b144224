#pragma once
// UDP beacon discovery: nodes on a LAN (or on one host with only loopback)
// find each other with no configuration and no central server.
//
//   grav::Bus bus({.transport = grav::zmq::transport(),
//                  .discovery = grav::beacon_discovery(),
//                  .belongs_to = "lab"});
//
// The beacon layout and the rules for sending and answering it are in
// docs/PROTOCOL.md, section "Discovery beacon".

#include <grav/discovery.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace grav::security {
class Policy;
}

namespace grav {

struct BeaconOptions {
    // UDP port every node of a cluster listens on; separate clusters sharing
    // a LAN pick different ports.
    std::uint16_t port = 5670;
    // A beacon goes out at start, then every `interval` (each one jittered
    // down by up to a quarter, so nodes started together do not stay in step).
    std::chrono::milliseconds interval{500};
    // A peer silent this long (and not kept alive by its TCP link) is lost.
    std::chrono::milliseconds expiry{3000};
    // Which IPv4 interfaces to beacon and listen on: a name ("eth0"), an
    // address of the interface ("10.0.0.2") or a CIDR ("10.0.0.0/24").
    // Empty: every up, broadcast-capable interface plus loopback. The list is
    // read again every interval (interfaces come and go); start() fails when
    // the option matches no up interface at all.
    std::string interface {};
    // Beacon to this IPv4 multicast group instead of broadcasting (loopback
    // still uses its broadcast address). Empty: broadcast.
    std::string multicast_group{};
    int multicast_ttl = 1;
    // false: no broadcast or multicast at all, only `seeds` (and the peers
    // that beacon to this node by unicast).
    bool broadcast = true;
    // Unicast beacons to these "host:port" (numeric or resolvable names),
    // for networks without broadcast: containers, clouds, VPNs.
    std::vector<std::string> seeds{};
    // At most this many peers are tracked; beacons from more are counted
    // ("beacon.peer_limit") and ignored, so a flood cannot exhaust memory.
    std::size_t max_peers = 4096;
    // Secure mode (null: plain beacons). Every beacon is signed with
    // security->identity() and carries its public key; a beacon that is not
    // signed, not signed by a key the policy admits, badly signed, replayed or
    // outside the clock tolerance is dropped and counted before anyone hears
    // of it, so no TCP connection is ever made to it. A discovered peer's key
    // is in DiscoveredPeer::contact.public_key. Nodes of one cluster must all
    // be secure or all plain: each ignores the other kind (counted).
    std::shared_ptr<const security::Policy> security{};
    // Secure mode: how far a beacon's timestamp may be from this node's clock
    // (either way). It bounds how long a captured beacon can be replayed to a
    // node that never heard its sender; the clocks of the nodes must agree
    // within it (NTP does, by far).
    std::chrono::milliseconds max_clock_skew{30000};
    // Where discovery says why it ignored a node's beacons (signed by a key
    // the policy does not admit, unsigned in secure mode, signed in plain
    // mode, badly signed, off the clock tolerance): one line per source and
    // reason every 10 s at most. Null: standard error, prefixed
    // "grav.beacon[<node id>]: ". A function that does nothing silences it.
    std::function<void(std::string_view line)> log{};
};

std::unique_ptr<Discovery> beacon_discovery(BeaconOptions options = {});

}  // namespace grav
