#include "beacon_codec.hpp"

#include <algorithm>

namespace grav::beacon {
namespace {

// Byte offsets of the layout (all integers big-endian).
constexpr std::size_t kOffVersion = 4;
constexpr std::size_t kOffFlags = 5;
constexpr std::size_t kOffDirect = 6;
constexpr std::size_t kOffFanout = 8;
constexpr std::size_t kOffNode = 10;
constexpr std::size_t kOffGroupLen = 26;
// The seal follows the group, at kHeaderSize + L:
constexpr std::size_t kSealOffStamp = kKeySize;
constexpr std::size_t kSealOffSignature = kKeySize + 8;

void put16(std::uint8_t* at, std::uint16_t v) {
    at[0] = static_cast<std::uint8_t>(v >> 8);
    at[1] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint16_t get16(const std::uint8_t* at) { return static_cast<std::uint16_t>((at[0] << 8) | at[1]); }

void put64(std::uint8_t* at, std::uint64_t v) {
    for (int i = 7; i >= 0; --i, v >>= 8) at[i] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint64_t get64(const std::uint8_t* at) {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | at[i];
    return v;
}

}  // namespace

const char* to_string(Defect defect) noexcept {
    switch (defect) {
        case Defect::foreign: return "foreign";
        case Defect::unknown_version: return "unknown_version";
        case Defect::oversized: return "oversized";
        case Defect::malformed: return "malformed";
    }
    return "unknown";
}

std::optional<Encoded> encode(const Beacon& b) {
    if (b.group.size() > kMaxGroupSize) return std::nullopt;
    Encoded out;
    auto* p = out.bytes.data();
    std::copy(kMagic.begin(), kMagic.end(), p);
    p[kOffVersion] = b.seal ? kSealedVersion : kVersion;
    p[kOffFlags] = b.flags;
    put16(p + kOffDirect, b.direct_port);
    put16(p + kOffFanout, b.fanout_port);
    std::copy(b.node.uuid().bytes().begin(), b.node.uuid().bytes().end(), p + kOffNode);
    p[kOffGroupLen] = static_cast<std::uint8_t>(b.group.size());
    std::copy(b.group.begin(), b.group.end(), p + kHeaderSize);
    out.size = kHeaderSize + b.group.size();
    if (b.seal) {
        auto* s = p + out.size;
        std::copy(b.seal->key.begin(), b.seal->key.end(), s);
        put64(s + kSealOffStamp, b.seal->stamp);
        std::copy(b.seal->signature.begin(), b.seal->signature.end(), s + kSealOffSignature);
        out.size += kSealSize;
    }
    return out;
}

std::variant<Beacon, Defect> decode(std::span<const std::uint8_t> d) {
    if (d.size() > kMaxSize) return Defect::oversized;
    if (d.size() < kMagic.size()) return Defect::malformed;
    if (!std::equal(kMagic.begin(), kMagic.end(), d.begin())) return Defect::foreign;
    if (d.size() <= kOffVersion) return Defect::malformed;
    const bool sealed = d[kOffVersion] == kSealedVersion;
    if (d[kOffVersion] != kVersion && !sealed) return Defect::unknown_version;
    if (d.size() < kHeaderSize) return Defect::malformed;
    const std::size_t group_len = d[kOffGroupLen];
    const std::size_t group_end = kHeaderSize + group_len;
    if (d.size() != group_end + (sealed ? kSealSize : 0)) return Defect::malformed;

    Beacon b;
    b.flags = d[kOffFlags];
    b.direct_port = get16(&d[kOffDirect]);
    b.fanout_port = get16(&d[kOffFanout]);
    Uuid::Bytes id{};
    std::copy_n(d.begin() + kOffNode, id.size(), id.begin());
    b.node = NodeId(Uuid(id));
    // The length check above: exactly group_len bytes, then exactly a seal or nothing.
    b.group.assign(d.begin() + kHeaderSize, d.begin() + static_cast<std::ptrdiff_t>(group_end));
    if (sealed) {
        const auto* s = d.data() + group_end;
        Seal seal;
        std::copy_n(s, kKeySize, seal.key.begin());
        seal.stamp = get64(s + kSealOffStamp);
        std::copy_n(s + kSealOffSignature, kSignatureSize, seal.signature.begin());
        b.seal = seal;
    }
    // A beacon must say who it is and where to dial it; a leaving beacon
    // only needs the id.
    if (b.node.is_nil()) return Defect::malformed;
    if (!b.has(leaving) && (b.direct_port == 0 || b.fanout_port == 0)) return Defect::malformed;
    return b;
}

}  // namespace grav::beacon
