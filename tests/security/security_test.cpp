// grav::security: identities sign and verify, key files round-trip and are
// refused when others may read them, policies admit exactly their members.
#include <grav/security.hpp>

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

using namespace grav::security;
namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "grav-security-XXXXXX").string();
        path_ = ::mkdtemp(pattern.data());
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

Identity make_identity() {
    auto identity = Identity::generate();
    EXPECT_TRUE(identity.ok());
    return std::move(*identity);
}

const std::string cluster_secret = "correct horse battery staple 2026";

TEST(SecurityKeys, SignatureVerifiesOnlyForItsKeyAndMessage) {
    const Identity alice = make_identity();
    const Identity bob = make_identity();
    const Signature sig = alice.sign(bytes_of("hello"));
    EXPECT_TRUE(verify(alice.public_key(), bytes_of("hello"), sig));
    EXPECT_FALSE(verify(alice.public_key(), bytes_of("hellO"), sig));
    EXPECT_FALSE(verify(bob.public_key(), bytes_of("hello"), sig));
    auto tampered = std::array<std::uint8_t, signature_bytes>{};
    std::copy(sig.bytes().begin(), sig.bytes().end(), tampered.begin());
    tampered[10] ^= 1;
    EXPECT_FALSE(verify(alice.public_key(), bytes_of("hello"), Signature{tampered}));
}

TEST(SecurityKeys, TextFormRoundTripsAndRejectsGarbage) {
    const Identity alice = make_identity();
    const std::string text = alice.public_key().text();
    EXPECT_EQ(text.size(), public_key_text_chars);
    EXPECT_EQ(text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    auto parsed = PublicKey::parse(text);
    ASSERT_TRUE(parsed.ok()) << parsed.error().what();
    EXPECT_EQ(*parsed, alice.public_key());

    auto raw = PublicKey::from_bytes(alice.public_key().bytes());
    ASSERT_TRUE(raw.ok());
    EXPECT_EQ(*raw, alice.public_key());
    EXPECT_FALSE(PublicKey::from_bytes(alice.public_key().bytes().first(31)).ok());

    EXPECT_FALSE(PublicKey::parse("").ok());
    EXPECT_FALSE(PublicKey::parse(text.substr(1)).ok());
    EXPECT_FALSE(PublicKey::parse(text + "A").ok());
    std::string bad = text;
    bad[5] = '+';  // standard base64, not base64url
    auto refused = PublicKey::parse(bad);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().reason().find("base64url"), std::string::npos) << refused.error().reason();
}

TEST(SecurityKeys, CurveKeysAreDerivedFromTheSigningKey) {
    const Identity alice = make_identity();
    auto curve = alice.public_key().curve();
    ASSERT_TRUE(curve.ok());
    EXPECT_EQ(*curve, alice.curve_public());
    // The secret half matches the public half: X25519(secret, base) == public.
    // (Checked through a Policy: the curve public key maps back to the member.)
    auto policy = Policy::allow_list(make_identity(), {alice.public_key()});
    ASSERT_TRUE(policy.ok());
    EXPECT_EQ((*policy)->member_for_curve(alice.curve_public()), alice.public_key());
}

TEST(SecurityKeys, MovedFromIdentityKeepsNoSecret) {
    Identity alice = make_identity();
    const PublicKey key = alice.public_key();
    Identity moved = std::move(alice);
    EXPECT_EQ(moved.public_key(), key);
    EXPECT_TRUE(verify(key, bytes_of("x"), moved.sign(bytes_of("x"))));
}

TEST(SecurityKeyFile, SaveThenLoadGivesTheSameIdentityWithMode0600) {
    const TempDir dir;
    const fs::path file = dir.path() / "node.key";
    const Identity alice = make_identity();
    ASSERT_TRUE(alice.save(file).ok());
    struct stat info {};
    ASSERT_EQ(::stat(file.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);

    auto loaded = Identity::load(file);
    ASSERT_TRUE(loaded.ok()) << loaded.error().what();
    EXPECT_EQ(loaded->public_key(), alice.public_key());
    EXPECT_EQ(loaded->curve_public(), alice.curve_public());
    EXPECT_TRUE(verify(alice.public_key(), bytes_of("m"), loaded->sign(bytes_of("m"))));
}

TEST(SecurityKeyFile, SaveRefusesToOverwrite) {
    const TempDir dir;
    const fs::path file = dir.path() / "node.key";
    const Identity first = make_identity();
    ASSERT_TRUE(first.save(file).ok());
    const grav::Status again = make_identity().save(file);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().reason().find("already exists"), std::string::npos) << again.error().reason();
    auto loaded = Identity::load(file);
    ASSERT_TRUE(loaded.ok());
    EXPECT_EQ(loaded->public_key(), first.public_key());  // the first key survived
}

TEST(SecurityKeyFile, LoadRefusesAFileOthersCanRead) {
    const TempDir dir;
    const fs::path file = dir.path() / "node.key";
    ASSERT_TRUE(make_identity().save(file).ok());
    for (const mode_t mode : {0640, 0604, 0660, 0610}) {
        ASSERT_EQ(::chmod(file.c_str(), mode), 0);
        auto loaded = Identity::load(file);
        ASSERT_FALSE(loaded.ok()) << "mode " << mode;
        EXPECT_NE(loaded.error().reason().find("chmod 600"), std::string::npos) << loaded.error().reason();
    }
    ASSERT_EQ(::chmod(file.c_str(), 0400), 0);
    EXPECT_TRUE(Identity::load(file).ok());
}

TEST(SecurityKeyFile, LoadExplainsMissingAndMalformedFiles) {
    const TempDir dir;
    auto missing = Identity::load(dir.path() / "nope.key");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().reason().find("nope.key"), std::string::npos);

    const fs::path garbage = dir.path() / "garbage.key";
    {
        std::ofstream out(garbage);
        out << "hello world\n";
    }
    ASSERT_EQ(::chmod(garbage.c_str(), 0600), 0);
    auto refused = Identity::load(garbage);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().reason().find("not a grav key file"), std::string::npos)
        << refused.error().reason();

    // A public key line that does not belong to the seed: edited file.
    const fs::path good = dir.path() / "good.key";
    ASSERT_TRUE(make_identity().save(good).ok());
    std::string content(4096, '\0');
    {
        std::FILE* in = std::fopen(good.c_str(), "r");
        ASSERT_NE(in, nullptr);
        content.resize(std::fread(content.data(), 1, content.size(), in));
        std::fclose(in);
    }
    const auto pos = content.find("public-key ") + 11;
    content.replace(pos, public_key_text_chars, make_identity().public_key().text());
    const fs::path edited = dir.path() / "edited.key";
    {
        std::ofstream out(edited);
        out << content;
    }
    ASSERT_EQ(::chmod(edited.c_str(), 0600), 0);
    auto mismatch = Identity::load(edited);
    ASSERT_FALSE(mismatch.ok());
    EXPECT_NE(mismatch.error().reason().find("does not match"), std::string::npos)
        << mismatch.error().reason();
}

TEST(SecurityKeyFile, SecretFileIsPermissionCheckedAndTrimmed) {
    const TempDir dir;
    const fs::path file = dir.path() / "cluster.secret";
    {
        std::ofstream out(file);
        out << cluster_secret << "\n";
    }
    ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
    EXPECT_FALSE(read_secret_file(file).ok());
    ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
    auto secret = read_secret_file(file);
    ASSERT_TRUE(secret.ok()) << secret.error().what();
    EXPECT_EQ(*secret, cluster_secret);
}

TEST(SecurityPolicy, ClusterSecretIsDeterministicAndAdmitsOnlyItsKey) {
    auto a = Policy::cluster_secret(cluster_secret);
    auto b = Policy::cluster_secret(cluster_secret);
    auto other = Policy::cluster_secret(cluster_secret + "!");
    ASSERT_TRUE(a.ok() && b.ok() && other.ok());
    EXPECT_EQ((*a)->mode(), Policy::Mode::cluster_secret);
    EXPECT_EQ((*a)->identity().public_key(), (*b)->identity().public_key());
    EXPECT_EQ((*a)->identity().curve_public(), (*b)->identity().curve_public());
    EXPECT_NE((*a)->identity().public_key(), (*other)->identity().public_key());
    EXPECT_TRUE((*a)->admits((*b)->identity().public_key()));
    EXPECT_TRUE((*a)->admits_curve((*b)->identity().curve_public()));
    EXPECT_FALSE((*a)->admits((*other)->identity().public_key()));
    EXPECT_FALSE((*a)->admits_curve((*other)->identity().curve_public()));
    EXPECT_FALSE((*a)->admits(make_identity().public_key()));
}

TEST(SecurityPolicy, ShortClusterSecretIsRefused) {
    auto refused = Policy::cluster_secret("short");
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().reason().find("at least"), std::string::npos);
}

TEST(SecurityPolicy, AllowListAdmitsSelfAndListedKeysOnly) {
    const Identity friend_ = make_identity();
    const Identity stranger = make_identity();
    Identity self = make_identity();
    const PublicKey self_key = self.public_key();
    const CurveKey self_curve = self.curve_public();
    auto policy = Policy::allow_list(std::move(self), {friend_.public_key(), friend_.public_key()});
    ASSERT_TRUE(policy.ok());
    const Policy& p = **policy;
    EXPECT_EQ(p.mode(), Policy::Mode::allow_list);
    EXPECT_EQ(p.identity().public_key(), self_key);
    EXPECT_TRUE(p.admits(self_key));
    EXPECT_TRUE(p.admits_curve(self_curve));
    EXPECT_TRUE(p.admits(friend_.public_key()));
    EXPECT_TRUE(p.admits_curve(friend_.curve_public()));
    EXPECT_FALSE(p.admits(stranger.public_key()));
    EXPECT_FALSE(p.admits_curve(stranger.curve_public()));
    EXPECT_FALSE(p.admits(PublicKey{}));
    EXPECT_TRUE(p.member_for_curve(stranger.curve_public()).empty());
}

}  // namespace
