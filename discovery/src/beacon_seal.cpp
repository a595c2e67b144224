#include "beacon_seal.hpp"

#include <algorithm>

namespace grav::beacon {

Encoded encode_sealed(Beacon beacon, std::uint64_t stamp, const security::Identity& identity) {
    Seal seal;
    const auto key = identity.public_key().bytes();
    std::copy(key.begin(), key.end(), seal.key.begin());
    seal.stamp = stamp;
    beacon.seal = seal;
    Encoded out = *encode(beacon);  // callers checked the group length
    const security::Signature signature = identity.sign(out.signed_part());
    std::ranges::copy(signature.bytes(),
                      out.bytes.begin() + static_cast<std::ptrdiff_t>(out.size - kSignatureSize));
    return out;
}

security::PublicKey key_of(const Seal& seal) { return security::PublicKey(std::span(seal.key)); }

bool signature_valid(std::span<const std::uint8_t> datagram, const Seal& seal) {
    if (datagram.size() < kSealSize) return false;
    return security::verify(key_of(seal), datagram.first(datagram.size() - kSignatureSize),
                            security::Signature(std::span(seal.signature)));
}

}  // namespace grav::beacon
