#pragma once
// grav::security — node identities and who may join a cluster.
//
// A node's long-term identity is one Ed25519 signing key pair (libsodium
// crypto_sign). Everything else is derived from it: the X25519 (CURVE) key pair
// the ZeroMQ transport encrypts with, and the signatures on discovery beacons.
// So one key file is all a node needs. A Policy says which identities are
// members: an explicit allow-list of public keys, or "whoever holds the
// cluster secret" (every member derives the same identity from it).
//
// This module links libsodium only (never ZeroMQ); core stays free of both.

#include <grav/error.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace grav::security {

inline constexpr std::size_t public_key_bytes = 32;
inline constexpr std::size_t signature_bytes = 64;
inline constexpr std::size_t curve_key_bytes = 32;
// Text form of a PublicKey: base64url without padding (RFC 4648 §5).
inline constexpr std::size_t public_key_text_chars = 43;
// Shortest cluster secret accepted: anyone who sees a member's public key (it
// is in every beacon) can guess secrets offline, so the secret must be long.
inline constexpr std::size_t min_cluster_secret_bytes = 16;

using CurveKey = std::array<std::uint8_t, curve_key_bytes>;

// An Ed25519 public key: who a node is.
class PublicKey {
public:
    PublicKey() = default;  // all zero: "no key"
    explicit PublicKey(std::span<const std::uint8_t, public_key_bytes> bytes);

    // From 32 raw bytes (e.g. read from a beacon); an error for another
    // length or bytes that are not an Ed25519 point.
    static Result<PublicKey> from_bytes(std::span<const std::uint8_t> bytes);
    // From the text form (43 chars of base64url, no padding).
    static Result<PublicKey> parse(std::string_view text);
    [[nodiscard]] std::string text() const;
    [[nodiscard]] std::span<const std::uint8_t, public_key_bytes> bytes() const { return bytes_; }
    [[nodiscard]] bool empty() const;
    // The X25519 public key ZeroMQ CURVE uses for this identity; an error for
    // bytes that are not a valid Ed25519 point.
    [[nodiscard]] Result<CurveKey> curve() const;

    friend bool operator==(const PublicKey&, const PublicKey&) = default;
    friend auto operator<=>(const PublicKey&, const PublicKey&) = default;

private:
    std::array<std::uint8_t, public_key_bytes> bytes_{};
};

// An Ed25519 detached signature.
class Signature {
public:
    Signature() = default;
    explicit Signature(std::span<const std::uint8_t, signature_bytes> bytes);
    static Result<Signature> from_bytes(std::span<const std::uint8_t> bytes);
    [[nodiscard]] std::span<const std::uint8_t, signature_bytes> bytes() const { return bytes_; }
    friend bool operator==(const Signature&, const Signature&) = default;

private:
    std::array<std::uint8_t, signature_bytes> bytes_{};
};

// True when `signature` is `key`'s signature of exactly `message`.
[[nodiscard]] bool verify(const PublicKey& key, std::span<const std::uint8_t> message,
                          const Signature& signature);

// A node's key pair. Move-only; the secret halves are wiped (sodium_memzero)
// when the Identity is destroyed or moved from.
class Identity {
public:
    static Result<Identity> generate();
    // Reads a key file written by save(). Refuses a file that group or others
    // may read (the secret would not be secret).
    static Result<Identity> load(const std::filesystem::path& path);
    // Creates `path` with mode 0600; refuses to overwrite an existing file.
    [[nodiscard]] Status save(const std::filesystem::path& path) const;
    // Deterministic: every holder of `secret` gets the same identity. The seed
    // is a keyed BLAKE2b hash of the secret (see docs/GUIDE.md, Security).
    static Result<Identity> from_cluster_secret(std::string_view secret);

    Identity(Identity&& other) noexcept;
    Identity& operator=(Identity&& other) noexcept;
    Identity(const Identity&) = delete;
    Identity& operator=(const Identity&) = delete;
    ~Identity();

    [[nodiscard]] const PublicKey& public_key() const { return public_key_; }
    [[nodiscard]] Signature sign(std::span<const std::uint8_t> message) const;
    // 32-byte binary keys for ZMQ_CURVE_PUBLICKEY / ZMQ_CURVE_SECRETKEY.
    [[nodiscard]] const CurveKey& curve_public() const { return curve_public_; }
    [[nodiscard]] std::span<const std::uint8_t, curve_key_bytes> curve_secret() const;

private:
    struct Secrets;  // seed + Ed25519 secret key + X25519 secret key, wiped on destruction
    explicit Identity(std::span<const std::uint8_t, 32> seed);

    std::unique_ptr<Secrets> secrets_;
    PublicKey public_key_;
    CurveKey curve_public_{};
};

// Reads a secret file (e.g. a cluster secret): refuses a file readable by
// group or others, strips one trailing newline.
Result<std::string> read_secret_file(const std::filesystem::path& path);
// Creates a secret file with mode 0600; refuses to overwrite an existing file.
[[nodiscard]] Status write_secret_file(const std::filesystem::path& path, std::string_view content);

// Who is a member of the cluster. Immutable once built; share it as
// std::shared_ptr<const Policy> between the transport and discovery.
class Policy {
public:
    enum class Mode : std::uint8_t { allow_list, cluster_secret };

    // Members are `self` and the keys in `allowed`.
    static Result<std::shared_ptr<const Policy>> allow_list(Identity self, std::vector<PublicKey> allowed);
    // Every member derives the same identity from `secret`; that key is the only member.
    static Result<std::shared_ptr<const Policy>> cluster_secret(std::string_view secret);

    [[nodiscard]] Mode mode() const { return mode_; }
    [[nodiscard]] const Identity& identity() const { return identity_; }
    [[nodiscard]] bool admits(const PublicKey& key) const;
    [[nodiscard]] bool admits_curve(std::span<const std::uint8_t, curve_key_bytes> curve_public) const;
    // The member whose CURVE key this is; an empty PublicKey when none is.
    [[nodiscard]] PublicKey member_for_curve(
        std::span<const std::uint8_t, curve_key_bytes> curve_public) const;

    struct Member {
        PublicKey key;
        CurveKey curve;
    };
    Policy(Mode mode, Identity identity, std::vector<Member> members);

private:
    Mode mode_;
    Identity identity_;
    std::vector<Member> members_;  // sorted by key, no duplicates
};

}  // namespace grav::security
