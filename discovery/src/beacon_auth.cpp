#include "beacon_auth.hpp"

#include "beacon_seal.hpp"

#include <utility>

namespace grav::beacon {

Authenticator::Authenticator(std::shared_ptr<const security::Policy> policy,
                             std::chrono::milliseconds max_clock_skew, std::size_t capacity)
    : policy_(std::move(policy)), freshness_(max_clock_skew, capacity) {}

Authenticator::Verdict Authenticator::check(const Beacon& beacon, std::span<const std::uint8_t> datagram,
                                            std::uint64_t now_ms) {
    if (!beacon.seal) return Verdict::unsigned_beacon;
    if (!policy_->admits(key_of(*beacon.seal))) return Verdict::not_admitted;
    if (!signature_valid(datagram, *beacon.seal)) return Verdict::bad_signature;
    switch (freshness_.check(beacon.node, beacon.seal->stamp, now_ms)) {
        case FreshnessGuard::Verdict::fresh: return Verdict::authentic;
        case FreshnessGuard::Verdict::duplicate: return Verdict::duplicate;
        case FreshnessGuard::Verdict::replayed: return Verdict::replayed;
        case FreshnessGuard::Verdict::stale: return Verdict::stale;
        case FreshnessGuard::Verdict::full: return Verdict::full;
    }
    return Verdict::stale;
}

}  // namespace grav::beacon
