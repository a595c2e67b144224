// Sealed (secure-mode) beacons without sockets: the layout, the signature
// over every byte, and the receiver's checks — key admitted, signature,
// freshness (replay and clock tolerance).

#include "beacon_seal.hpp"
#include "beacon_auth.hpp"
#include "beacon_codec.hpp"
#include "freshness.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace grav::beacon {
namespace {

using namespace std::chrono_literals;
using security::Identity;
using security::Policy;

constexpr std::uint64_t kNow = 1'800'000'000'000;  // ms since the epoch

Identity identity() { return Identity::generate().value(); }

Beacon sample() {
    Beacon b;
    b.node = *NodeId::parse("00112233-4455-6677-8899-aabbccddeeff");
    b.direct_port = 0x1234;
    b.fanout_port = 0xabcd;
    b.group = "lab";
    b.flags = hello;
    return b;
}

std::vector<std::uint8_t> bytes(const Encoded& e) { return {e.view().begin(), e.view().end()}; }

struct Cluster {
    Identity member = identity();
    security::PublicKey member_key = member.public_key();
    std::shared_ptr<const Policy> policy = *Policy::allow_list(identity(), {member_key});
    Authenticator receiver{policy, 30s, 16};
};

TEST(BeaconSeal, LayoutIsTheDocumentedOne) {
    const Identity id = identity();
    const auto e = encode_sealed(sample(), 0x0102030405060708, id);
    const auto b = bytes(e);
    ASSERT_EQ(b.size(), kHeaderSize + 3 + kSealSize);  // 27 + L + 104
    EXPECT_EQ(b[4], kSealedVersion);
    // The v1 part is unchanged but for the version byte.
    auto plain = bytes(*encode(sample()));
    plain[4] = kSealedVersion;
    EXPECT_TRUE(std::equal(plain.begin(), plain.end(), b.begin()));
    const auto key = id.public_key().bytes();
    EXPECT_TRUE(std::equal(key.begin(), key.end(), b.begin() + 30));  // key at 27 + L
    const std::vector<std::uint8_t> stamp(b.begin() + 62, b.begin() + 70);
    EXPECT_EQ(stamp, (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}));  // big-endian
    const security::Signature signature = id.sign(std::span(b).first(70));  // over bytes 0..69
    EXPECT_TRUE(std::ranges::equal(signature.bytes(), std::span(b).subspan(70)));
}

TEST(BeaconSeal, RoundTripsAndVerifies) {
    const Identity id = identity();
    auto b = sample();
    b.group = std::string(kMaxGroupSize, 'g');
    const auto e = encode_sealed(b, kNow, id);
    EXPECT_EQ(e.size, kMaxSize);
    const auto decoded = decode(e.view());
    ASSERT_TRUE(std::holds_alternative<Beacon>(decoded));
    const auto& got = std::get<Beacon>(decoded);
    ASSERT_TRUE(got.seal);
    EXPECT_EQ(key_of(*got.seal), id.public_key());
    EXPECT_EQ(got.seal->stamp, kNow);
    b.seal = got.seal;
    EXPECT_EQ(got, b);
    EXPECT_TRUE(signature_valid(e.view(), *got.seal));
}

TEST(BeaconSeal, TamperingWithAnyByteIsRefused) {
    Cluster c;
    const auto good = bytes(encode_sealed(sample(), kNow, c.member));
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (std::uint8_t bit : {0x01, 0x80}) {
            auto bad = good;
            bad[i] ^= bit;
            const auto decoded = decode(bad);
            if (!std::holds_alternative<Beacon>(decoded)) continue;  // no longer a beacon at all
            EXPECT_NE(c.receiver.check(std::get<Beacon>(decoded), bad, kNow),
                      Authenticator::Verdict::authentic)
                << "byte " << i << " bit " << static_cast<int>(bit);
        }
    }
    // None of that was remembered: the genuine beacon is still fresh.
    EXPECT_EQ(c.receiver.check(std::get<Beacon>(decode(good)), good, kNow),
              Authenticator::Verdict::authentic);
}

TEST(BeaconSeal, ABadSignatureByAnAdmittedKeyIsABadSignature) {
    Cluster c;
    auto b = bytes(encode_sealed(sample(), kNow, c.member));
    b.back() ^= 1;
    EXPECT_EQ(c.receiver.check(std::get<Beacon>(decode(b)), b, kNow), Authenticator::Verdict::bad_signature);
}

TEST(BeaconSeal, AKeyThePolicyDoesNotAdmitIsRefused) {
    Cluster c;
    const Identity stranger = identity();
    const auto b = bytes(encode_sealed(sample(), kNow, stranger));
    EXPECT_EQ(c.receiver.check(std::get<Beacon>(decode(b)), b, kNow), Authenticator::Verdict::not_admitted);
}

TEST(BeaconSeal, APlainBeaconIsUnsigned) {
    Cluster c;
    const auto b = bytes(*encode(sample()));
    EXPECT_EQ(c.receiver.check(std::get<Beacon>(decode(b)), b, kNow),
              Authenticator::Verdict::unsigned_beacon);
}

TEST(BeaconSeal, AReplayedBeaconIsRefused) {
    Cluster c;
    const auto first = bytes(encode_sealed(sample(), kNow, c.member));
    const auto second = bytes(encode_sealed(sample(), kNow + 1, c.member));
    auto check = [&](const std::vector<std::uint8_t>& b) {
        return c.receiver.check(std::get<Beacon>(decode(b)), b, kNow + 2);
    };
    EXPECT_EQ(check(first), Authenticator::Verdict::authentic);
    EXPECT_EQ(check(first), Authenticator::Verdict::duplicate);  // the same beacon, another path
    EXPECT_EQ(check(second), Authenticator::Verdict::authentic);
    EXPECT_EQ(check(first), Authenticator::Verdict::replayed);
    EXPECT_EQ(check(second), Authenticator::Verdict::duplicate);
}

TEST(BeaconSeal, AStampOutsideTheClockToleranceIsStale) {
    Cluster c;
    auto at = [&](std::uint64_t stamp) {
        auto b = sample();
        b.node = NodeId::random();  // each its own sender: only the clock decides
        const auto e = bytes(encode_sealed(b, stamp, c.member));
        return c.receiver.check(std::get<Beacon>(decode(e)), e, kNow);
    };
    EXPECT_EQ(at(kNow - 30'000), Authenticator::Verdict::authentic);
    EXPECT_EQ(at(kNow + 30'000), Authenticator::Verdict::authentic);
    EXPECT_EQ(at(kNow - 30'001), Authenticator::Verdict::stale);
    EXPECT_EQ(at(kNow + 30'001), Authenticator::Verdict::stale);
    EXPECT_EQ(at(0), Authenticator::Verdict::stale);
    EXPECT_EQ(at(~std::uint64_t{0}), Authenticator::Verdict::stale);
}

TEST(BeaconSeal, AClusterSecretAdmitsEveryHolder) {
    auto policy = *Policy::cluster_secret("a long enough cluster secret");
    Authenticator receiver(policy, 30s, 16);
    const Identity holder = Identity::from_cluster_secret("a long enough cluster secret").value();
    const Identity other = Identity::from_cluster_secret("another long cluster secret!").value();
    const auto good = bytes(encode_sealed(sample(), kNow, holder));
    const auto bad = bytes(encode_sealed(sample(), kNow, other));
    EXPECT_EQ(receiver.check(std::get<Beacon>(decode(good)), good, kNow), Authenticator::Verdict::authentic);
    EXPECT_EQ(receiver.check(std::get<Beacon>(decode(bad)), bad, kNow), Authenticator::Verdict::not_admitted);
}

TEST(Freshness, StampsStrictlyIncreaseEvenWhenTheClockStepsBack) {
    Stamper s;
    EXPECT_EQ(s.next(1000), 1000U);
    EXPECT_EQ(s.next(1000), 1001U);  // two beacons in one ms
    EXPECT_EQ(s.next(500), 1002U);   // clock stepped back
    EXPECT_EQ(s.next(5000), 5000U);
}

TEST(Freshness, MemoryIsBoundedAndForgetsOnlyWhatTheToleranceCovers) {
    FreshnessGuard guard(1000ms, 2);
    const NodeId a = NodeId::random(), b = NodeId::random(), c = NodeId::random();
    EXPECT_EQ(guard.check(a, 10'000, 10'000), FreshnessGuard::Verdict::fresh);
    EXPECT_EQ(guard.check(b, 10'000, 10'000), FreshnessGuard::Verdict::fresh);
    EXPECT_EQ(guard.check(c, 10'000, 10'000), FreshnessGuard::Verdict::full);  // a and b still in the window
    // Later, a's and b's latest fell out of the window: anything at or below
    // them would be stale anyway, so they make room.
    EXPECT_EQ(guard.check(c, 11'500, 11'500), FreshnessGuard::Verdict::fresh);
    EXPECT_EQ(guard.remembered(), 1U);
    EXPECT_EQ(guard.check(a, 10'000, 11'500), FreshnessGuard::Verdict::stale);
}

}  // namespace
}  // namespace grav::beacon
