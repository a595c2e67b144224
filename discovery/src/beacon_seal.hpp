#pragma once
// Sealing a beacon (secure mode): the sender's Ed25519 key, a freshness
// stamp and a signature over every byte before it (docs/PROTOCOL.md,
// "Authenticated beacons"). The layout is in beacon_codec.hpp; the crypto,
// grav::security, is only here.

#include "beacon_codec.hpp"

#include <grav/security.hpp>

#include <cstdint>
#include <span>

namespace grav::beacon {

// `beacon` (whatever its seal was) sealed by `identity` with `stamp`.
Encoded encode_sealed(Beacon beacon, std::uint64_t stamp, const security::Identity& identity);

// The seal's key, as grav::security knows it.
security::PublicKey key_of(const Seal& seal);

// True when `datagram` (a decoded sealed beacon, `seal` its seal) carries a
// valid signature by the seal's key over every byte before the signature.
bool signature_valid(std::span<const std::uint8_t> datagram, const Seal& seal);

}  // namespace grav::beacon
