#pragma once
// The receiving side of secure mode: whether a decoded beacon may be used,
// and if not, why (each reason has its counter). Pure: no sockets, so that
// the unit tests and the beacon fuzzer run exactly what discovery runs.

#include "beacon_codec.hpp"
#include "freshness.hpp"

#include <grav/security.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace grav::beacon {

class Authenticator {
public:
    enum class Verdict : std::uint8_t {
        authentic,
        unsigned_beacon,  // a plain beacon
        not_admitted,     // signed by a key the policy does not admit
        bad_signature,
        replayed,   // older than the latest accepted from that node id
        duplicate,  // the latest accepted from that node id, heard again
        stale,      // outside now ± max_clock_skew
        full,       // too many senders remembered within the tolerance
    };

    Authenticator(std::shared_ptr<const security::Policy> policy, std::chrono::milliseconds max_clock_skew,
                  std::size_t capacity);

    // `datagram`: the bytes `beacon` was decoded from. Checks, cheapest
    // first: sealed, key admitted, signature, freshness (remembered only
    // when everything else passed, so a forgery cannot advance it).
    Verdict check(const Beacon& beacon, std::span<const std::uint8_t> datagram, std::uint64_t now_ms);

private:
    std::shared_ptr<const security::Policy> policy_;
    FreshnessGuard freshness_;
};

}  // namespace grav::beacon
