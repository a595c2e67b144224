// PublicKey, Signature and verify(): the public halves and their text form.
#include "sodium.hpp"

#include <grav/security.hpp>

#include <sodium.h>

#include <algorithm>

namespace grav::security {

static_assert(public_key_bytes == crypto_sign_PUBLICKEYBYTES);
static_assert(signature_bytes == crypto_sign_BYTES);
static_assert(curve_key_bytes == crypto_scalarmult_curve25519_BYTES);

namespace {
constexpr int text_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
}

PublicKey::PublicKey(std::span<const std::uint8_t, public_key_bytes> bytes) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

Result<PublicKey> PublicKey::from_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != public_key_bytes) {
        return Error{Errc::decode_failed, "public key is " + std::to_string(bytes.size()) +
                                              " bytes, expected " + std::to_string(public_key_bytes)};
    }
    PublicKey key{bytes.first<public_key_bytes>()};
    if (!key.curve().ok()) return Error{Errc::decode_failed, "public key is not an Ed25519 key"};
    return key;
}

Result<PublicKey> PublicKey::parse(std::string_view text) {
    detail::ensure_sodium();
    if (text.size() != public_key_text_chars) {
        return Error{Errc::invalid_argument, "public key '" + std::string(text) + "' is " +
                                                 std::to_string(text.size()) + " characters, expected " +
                                                 std::to_string(public_key_text_chars) +
                                                 " (base64url, as printed by grav keygen)"};
    }
    std::array<std::uint8_t, public_key_bytes> bytes{};
    std::size_t decoded = 0;
    const char* end = nullptr;
    if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &decoded, &end,
                          text_variant) != 0 ||
        decoded != bytes.size() || end != text.data() + text.size()) {
        return Error{Errc::invalid_argument,
                     "public key '" + std::string(text) + "' is not base64url (A-Z a-z 0-9 - _)"};
    }
    PublicKey key{bytes};
    if (!key.curve().ok()) {
        return Error{Errc::invalid_argument, "public key '" + std::string(text) + "' is not an Ed25519 key"};
    }
    return key;
}

std::string PublicKey::text() const {
    detail::ensure_sodium();
    std::string out(sodium_base64_ENCODED_LEN(public_key_bytes, text_variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes_.data(), bytes_.size(), text_variant);
    out.resize(public_key_text_chars);  // drop the terminating NUL
    return out;
}

bool PublicKey::empty() const {
    return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

Result<CurveKey> PublicKey::curve() const {
    detail::ensure_sodium();
    CurveKey out{};
    if (crypto_sign_ed25519_pk_to_curve25519(out.data(), bytes_.data()) != 0) {
        return Error{Errc::invalid_argument, "not a valid Ed25519 public key"};
    }
    return out;
}

Signature::Signature(std::span<const std::uint8_t, signature_bytes> bytes) {
    std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

Result<Signature> Signature::from_bytes(std::span<const std::uint8_t> bytes) {
    if (bytes.size() != signature_bytes) {
        return Error{Errc::decode_failed, "signature is " + std::to_string(bytes.size()) +
                                              " bytes, expected " + std::to_string(signature_bytes)};
    }
    return Signature{bytes.first<signature_bytes>()};
}

bool verify(const PublicKey& key, std::span<const std::uint8_t> message, const Signature& signature) {
    detail::ensure_sodium();
    return crypto_sign_verify_detached(signature.bytes().data(), message.data(), message.size(),
                                       key.bytes().data()) == 0;
}

}  // namespace grav::security
