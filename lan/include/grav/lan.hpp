#pragma once
// grav::lan — one node of a LAN mesh in one call: the ZeroMQ transport and
// UDP beacon discovery, both secured (or both plain) by ONE policy.
//
//   grav::LanOptions lan;
//   lan.security = policy;  // null: plain mesh; set: CURVE links and signed beacons
//   lan.discovery.port = 5670;
//   grav::BusOptions options;
//   if (grav::Status s = grav::join_lan(options, std::move(lan)); !s) ...
//   grav::Bus bus(std::move(options));
//
// Why a helper: a secure transport with plain beacons (or the reverse) is a
// node that never meshes, or one that beacons in the clear what its links
// encrypt. Setting the policy once here makes "one switch secures the whole
// node" hold in code, not just in docs/GUIDE.md, section "Security".

#include <grav/beacon.hpp>
#include <grav/bus.hpp>
#include <grav/error.hpp>
#include <grav/security.hpp>
#include <grav/zmq.hpp>

#include <memory>

namespace grav {

struct LanOptions {
    // Bind address, log, heartbeats, windows... Leave .security unset: it is
    // set from `security` below (or equal to it, the same object).
    zmq::Options transport{};
    // Port, interface, seeds, log... Its .security likewise.
    BeaconOptions discovery{};
    // false: no beacon discovery at all, peers only by Bus::connect_endpoint
    // (`grav --connect`); `discovery` is then unused, the transport still
    // secured by `security`.
    bool beacons = true;
    // The one switch. Null: plain mesh (no encryption, unsigned beacons).
    // Set: every link CURVE-encrypted and admitted by the policy, every
    // beacon signed, foreign ones ignored.
    std::shared_ptr<const security::Policy> security{};
};

// Sets options.transport and (when lan.beacons) options.discovery, both with
// lan.security. Fails with Errc::invalid_argument, and leaves `options` as it
// was, when lan.transport.security or lan.discovery.security holds a policy
// other than lan.security (a policy given to one half only), or when
// `options` already has a transport or a discovery (it would be replaced).
Status join_lan(BusOptions& options, LanOptions lan);

}  // namespace grav
