// Identity: one Ed25519 key pair, its X25519 (CURVE) twin, and its key file.
#include "private_file.hpp"
#include "sodium.hpp"

#include <grav/security.hpp>

#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace grav::security {

namespace {

constexpr int text_variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr std::string_view file_header =
    "# grav node identity (Ed25519). Secret: keep this file mode 0600.\n";
constexpr std::string_view public_label = "public-key";
constexpr std::string_view seed_label = "secret-seed";
// Domain separation for the cluster-secret seed (a BLAKE2b key, 16..64 bytes).
constexpr std::string_view cluster_secret_domain = "grav.cluster-secret.v1";

using Seed = std::array<std::uint8_t, crypto_sign_SEEDBYTES>;

// Wipes a string that held secret text before it is freed.
class WipeOnExit {
public:
    explicit WipeOnExit(std::string& text) : text_(text) {}
    WipeOnExit(const WipeOnExit&) = delete;
    WipeOnExit& operator=(const WipeOnExit&) = delete;
    ~WipeOnExit() { sodium_memzero(text_.data(), text_.size()); }

private:
    std::string& text_;
};

}  // namespace

struct Identity::Secrets {
    Seed seed{};
    std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> sign_secret{};
    std::array<std::uint8_t, curve_key_bytes> curve_secret{};

    Secrets() = default;
    Secrets(const Secrets&) = delete;
    Secrets& operator=(const Secrets&) = delete;
    ~Secrets() {
        sodium_memzero(seed.data(), seed.size());
        sodium_memzero(sign_secret.data(), sign_secret.size());
        sodium_memzero(curve_secret.data(), curve_secret.size());
    }
};

Identity::Identity(std::span<const std::uint8_t, 32> seed) : secrets_(std::make_unique<Secrets>()) {
    detail::ensure_sodium();
    std::copy(seed.begin(), seed.end(), secrets_->seed.begin());
    std::array<std::uint8_t, public_key_bytes> pk{};
    crypto_sign_seed_keypair(pk.data(), secrets_->sign_secret.data(), secrets_->seed.data());
    public_key_ = PublicKey{pk};
    // Both conversions succeed for a key pair crypto_sign just made; a
    // failure would mean a broken libsodium, where no key can be trusted.
    if (crypto_sign_ed25519_pk_to_curve25519(curve_public_.data(), pk.data()) != 0 ||
        crypto_sign_ed25519_sk_to_curve25519(secrets_->curve_secret.data(), secrets_->sign_secret.data()) !=
            0) {
        std::abort();
    }
}

Identity::Identity(Identity&& other) noexcept = default;
Identity& Identity::operator=(Identity&& other) noexcept = default;
Identity::~Identity() = default;

Result<Identity> Identity::generate() {
    detail::ensure_sodium();
    Seed seed{};
    randombytes_buf(seed.data(), seed.size());
    Identity identity{seed};
    sodium_memzero(seed.data(), seed.size());
    return identity;
}

Result<Identity> Identity::from_cluster_secret(std::string_view secret) {
    detail::ensure_sodium();
    if (secret.size() < min_cluster_secret_bytes) {
        return Error{Errc::invalid_argument,
                     "cluster secret is " + std::to_string(secret.size()) + " bytes; at least " +
                         std::to_string(min_cluster_secret_bytes) +
                         " are needed (use a long random one, e.g. grav keygen --cluster-secret)"};
    }
    // A keyed BLAKE2b hash, not a password hash (Argon2): the secret is meant
    // to be long and random, and every node start and test would otherwise pay
    // Argon2's deliberate cost. The length check above is what keeps offline
    // guessing (from a public key seen in a beacon) out of reach.
    Seed seed{};
    crypto_generichash(seed.data(), seed.size(), reinterpret_cast<const unsigned char*>(secret.data()),
                       secret.size(), reinterpret_cast<const unsigned char*>(cluster_secret_domain.data()),
                       cluster_secret_domain.size());
    Identity identity{seed};
    sodium_memzero(seed.data(), seed.size());
    return identity;
}

Signature Identity::sign(std::span<const std::uint8_t> message) const {
    std::array<std::uint8_t, signature_bytes> sig{};
    crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secrets_->sign_secret.data());
    return Signature{sig};
}

std::span<const std::uint8_t, curve_key_bytes> Identity::curve_secret() const {
    return secrets_->curve_secret;
}

Status Identity::save(const std::filesystem::path& path) const {
    std::string seed_text(sodium_base64_ENCODED_LEN(secrets_->seed.size(), text_variant), '\0');
    sodium_bin2base64(seed_text.data(), seed_text.size(), secrets_->seed.data(), secrets_->seed.size(),
                      text_variant);
    seed_text.resize(seed_text.size() - 1);  // drop the NUL
    std::string content = std::string(file_header) + std::string(public_label) + " " + public_key_.text() +
                          "\n" + std::string(seed_label) + " " + seed_text + "\n";
    const WipeOnExit wipe_seed{seed_text};
    const WipeOnExit wipe_content{content};
    return detail::write_private_file(path, content, "key file");
}

Result<Identity> Identity::load(const std::filesystem::path& path) {
    detail::ensure_sodium();
    auto content = detail::read_private_file(path, "key file");
    if (!content) return content.error();
    const WipeOnExit wipe_content{*content};
    const std::string where = "key file " + path.string();

    std::string public_text;
    std::string seed_text;
    const WipeOnExit wipe_seed{seed_text};
    std::istringstream lines{*content};
    std::string line;
    while (std::getline(lines, line)) {
        const WipeOnExit wipe_line{line};
        if (line.empty() || line.front() == '#') continue;
        const auto space = line.find(' ');
        const std::string_view label = std::string_view(line).substr(0, space);
        const std::string_view value =
            space == std::string::npos ? std::string_view{} : std::string_view(line).substr(space + 1);
        if (label == public_label) {
            public_text = value;
        } else if (label == seed_label) {
            seed_text = value;
        } else {
            return Error{Errc::invalid_argument, where + ": unknown line '" + std::string(label) +
                                                     "' (not a grav key file? create one with grav keygen)"};
        }
    }
    if (seed_text.empty()) {
        return Error{Errc::invalid_argument, where + " has no '" + std::string(seed_label) +
                                                 "' line (not a grav key file? create one with grav keygen)"};
    }
    Seed seed{};
    std::size_t decoded = 0;
    const char* end = nullptr;
    const bool decoded_ok = sodium_base642bin(seed.data(), seed.size(), seed_text.data(), seed_text.size(),
                                              nullptr, &decoded, &end, text_variant) == 0 &&
                            decoded == seed.size() && end == seed_text.data() + seed_text.size();
    if (!decoded_ok) {
        sodium_memzero(seed.data(), seed.size());
        return Error{Errc::invalid_argument,
                     where + ": '" + std::string(seed_label) + "' is not 32 bytes of base64url"};
    }
    Identity identity{seed};
    sodium_memzero(seed.data(), seed.size());
    if (!public_text.empty() && public_text != identity.public_key().text()) {
        return Error{Errc::invalid_argument,
                     where + ": its public key does not match its secret (file edited or corrupted)"};
    }
    return identity;
}

Status write_secret_file(const std::filesystem::path& path, std::string_view content) {
    return detail::write_private_file(path, content, "secret file");
}

Result<std::string> read_secret_file(const std::filesystem::path& path) {
    auto content = detail::read_private_file(path, "secret file");
    if (!content) return content;
    std::string& text = *content;
    if (!text.empty() && text.back() == '\n') text.pop_back();
    if (!text.empty() && text.back() == '\r') text.pop_back();
    return content;
}

}  // namespace grav::security
