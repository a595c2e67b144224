#pragma once
// The beacon datagram: one fixed, versioned binary layout (docs/PROTOCOL.md,
// "Discovery beacon"). Encoding and decoding only; no sockets and no crypto
// here (signing and verifying the seal: beacon_seal.hpp).

#include <grav/id.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>

namespace grav::beacon {

inline constexpr std::array<std::uint8_t, 4> kMagic{'G', 'R', 'V', 'B'};
inline constexpr std::uint8_t kVersion = 1;        // a plain beacon
inline constexpr std::uint8_t kSealedVersion = 2;  // the same, sealed: key, stamp, signature
inline constexpr std::size_t kHeaderSize = 27;     // everything before the group text
inline constexpr std::size_t kMaxGroupSize = 255;
inline constexpr std::size_t kKeySize = 32;        // Ed25519 public key
inline constexpr std::size_t kSignatureSize = 64;  // Ed25519 signature
inline constexpr std::size_t kSealSize = kKeySize + 8 + kSignatureSize;
inline constexpr std::size_t kMaxPlainSize = kHeaderSize + kMaxGroupSize;
inline constexpr std::size_t kMaxSize = kMaxPlainSize + kSealSize;

// Flag bits; bits not listed are reserved: sent as 0, ignored when received.
enum Flag : std::uint8_t {
    leaving = 0x01,  // the node stops: forget it now
    reply = 0x02,    // an answer to a beacon: do not answer it back
    hello = 0x04,    // the node just started: answer even if you know it
};

// What a secure node appends: who signs, how fresh, and the signature over
// every byte before it.
struct Seal {
    std::array<std::uint8_t, kKeySize> key{};
    std::uint64_t stamp = 0;  // ms since the Unix epoch, strictly increasing per sender
    std::array<std::uint8_t, kSignatureSize> signature{};
    bool operator==(const Seal&) const = default;
};

struct Beacon {
    NodeId node;
    std::uint16_t direct_port = 0;
    std::uint16_t fanout_port = 0;
    std::string group;
    std::uint8_t flags = 0;
    std::optional<Seal> seal;  // set: a version-2 (sealed) beacon

    [[nodiscard]] bool has(Flag f) const noexcept { return (flags & f) != 0; }
    bool operator==(const Beacon&) const = default;
};

// Why a datagram is not a beacon; each has its own counter.
enum class Defect : std::uint8_t {
    foreign,          // wrong magic: another protocol on our port
    unknown_version,  // our magic, a version this build does not speak
    oversized,        // longer than any beacon can be
    malformed,        // truncated, length mismatch, nil node id, port 0
};

const char* to_string(Defect defect) noexcept;

struct Encoded {
    std::array<std::uint8_t, kMaxSize> bytes{};
    std::size_t size = 0;
    [[nodiscard]] std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
    // What a seal's signature covers: every byte before the signature.
    [[nodiscard]] std::span<const std::uint8_t> signed_part() const noexcept {
        return {bytes.data(), size - kSignatureSize};
    }
};

// nullopt when the beacon cannot be encoded (group longer than kMaxGroupSize).
std::optional<Encoded> encode(const Beacon& beacon);

std::variant<Beacon, Defect> decode(std::span<const std::uint8_t> datagram);

}  // namespace grav::beacon
