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

void put16(std::uint8_t* at, std::uint16_t v) {
    at[0] = static_cast<std::uint8_t>(v >> 8);
    at[1] = static_cast<std::uint8_t>(v & 0xff);
}

std::uint16_t get16(const std::uint8_t* at) { return static_cast<std::uint16_t>((at[0] << 8) | at[1]); }

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
    p[kOffVersion] = kVersion;
    p[kOffFlags] = b.flags;
    put16(p + kOffDirect, b.direct_port);
    put16(p + kOffFanout, b.fanout_port);
    std::copy(b.node.uuid().bytes().begin(), b.node.uuid().bytes().end(), p + kOffNode);
    p[kOffGroupLen] = static_cast<std::uint8_t>(b.group.size());
    std::copy(b.group.begin(), b.group.end(), p + kHeaderSize);
    out.size = kHeaderSize + b.group.size();
    return out;
}

std::variant<Beacon, Defect> decode(std::span<const std::uint8_t> d) {
    if (d.size() > kMaxSize) return Defect::oversized;
    if (d.size() < kMagic.size()) return Defect::malformed;
    if (!std::equal(kMagic.begin(), kMagic.end(), d.begin())) return Defect::foreign;
    if (d.size() <= kOffVersion) return Defect::malformed;
    if (d[kOffVersion] != kVersion) return Defect::unknown_version;
    if (d.size() < kHeaderSize) return Defect::malformed;
    const std::size_t group_len = d[kOffGroupLen];
    if (d.size() != kHeaderSize + group_len) return Defect::malformed;

    Beacon b;
    b.flags = d[kOffFlags];
    b.direct_port = get16(&d[kOffDirect]);
    b.fanout_port = get16(&d[kOffFanout]);
    Uuid::Bytes id{};
    std::copy_n(d.begin() + kOffNode, id.size(), id.begin());
    b.node = NodeId(Uuid(id));
    b.group.assign(d.begin() + kHeaderSize, d.end());  // the length check above: exactly group_len bytes
    // A beacon must say who it is and where to dial it; a leaving beacon
    // only needs the id.
    if (b.node.is_nil()) return Defect::malformed;
    if (!b.has(leaving) && (b.direct_port == 0 || b.fanout_port == 0)) return Defect::malformed;
    return b;
}

}  // namespace grav::beacon
