#pragma once
// The key the sealed seeds of fuzz/corpus/beacon are signed with, and the
// policy the beacon fuzzer checks them against: derived from a fixed cluster
// secret (not a secret at all), so make_seeds and the fuzzer agree and the
// seeds are reproducible (Ed25519 signatures are deterministic).
#include <grav/security.hpp>

#include <cstdint>
#include <memory>

namespace grav::fuzz {

inline constexpr const char* kClusterSecret = "grav fuzz seeds, not a secret";
inline constexpr std::uint64_t kSeedStamp = 1'800'000'000'000;  // ms since the epoch

inline const security::Identity& identity() {
    static const security::Identity id = security::Identity::from_cluster_secret(kClusterSecret).value();
    return id;
}

inline std::shared_ptr<const security::Policy> policy() {
    static const auto p = *security::Policy::cluster_secret(kClusterSecret);
    return p;
}

}  // namespace grav::fuzz
