// The beacon layout is a wire contract (docs/PROTOCOL.md): these tests pin
// the bytes and check that every kind of bad datagram is classified, never
// accepted and never read out of bounds.

#include "beacon_codec.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace grav::beacon {
namespace {

Beacon sample() {
    Beacon b;
    b.node = *NodeId::parse("00112233-4455-6677-8899-aabbccddeeff");
    b.direct_port = 0x1234;
    b.fanout_port = 0xabcd;
    b.group = "lab";
    b.flags = reply;
    return b;
}

std::vector<std::uint8_t> bytes_of(const Beacon& b) {
    const auto e = encode(b);
    return {e->view().begin(), e->view().end()};
}

TEST(BeaconCodec, LayoutIsTheDocumentedOne) {
    const std::vector<std::uint8_t> expected{
        'G',  'R',  'V',  'B',  // magic
        1,                      // version
        0x02,                   // flags: reply
        0x12, 0x34,             // direct (ROUTER) port, big-endian
        0xab, 0xcd,             // fan-out (XPUB) port
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99,
        0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 3,    'l',  'a',  'b'};  // group length, group
    EXPECT_EQ(bytes_of(sample()), expected);
}

TEST(BeaconCodec, RoundTripsEveryField) {
    auto b = sample();
    b.flags = leaving | hello;
    b.group = std::string(kMaxGroupSize, 'g');
    const auto bytes = bytes_of(b);
    EXPECT_EQ(bytes.size(), kMaxPlainSize);
    const auto decoded = decode(bytes);
    ASSERT_TRUE(std::holds_alternative<Beacon>(decoded));
    EXPECT_EQ(std::get<Beacon>(decoded), b);
}

TEST(BeaconCodec, RefusesToEncodeAGroupThatDoesNotFit) {
    auto b = sample();
    b.group = std::string(kMaxGroupSize + 1, 'g');
    EXPECT_FALSE(encode(b).has_value());
}

Defect defect_of(const std::vector<std::uint8_t>& bytes) {
    const auto d = decode(bytes);
    EXPECT_TRUE(std::holds_alternative<Defect>(d));
    return std::holds_alternative<Defect>(d) ? std::get<Defect>(d) : Defect::foreign;
}

TEST(BeaconCodec, ClassifiesEveryBadDatagram) {
    const auto good = bytes_of(sample());
    EXPECT_EQ(defect_of({}), Defect::malformed);
    EXPECT_EQ(defect_of({'G', 'R'}), Defect::malformed);

    auto foreign = good;
    foreign[0] = 'Z';
    EXPECT_EQ(defect_of(foreign), Defect::foreign);
    EXPECT_EQ(defect_of({'Z', 'R', 'E', 0x01, 0, 0}), Defect::foreign);  // a Zyre beacon

    auto future = good;
    future[4] = 3;  // 1 is plain, 2 sealed (beacon_seal_test.cpp)
    EXPECT_EQ(defect_of(future), Defect::unknown_version);
    auto sealed_but_short = good;
    sealed_but_short[4] = kSealedVersion;  // version 2 without its 104-byte seal
    EXPECT_EQ(defect_of(sealed_but_short), Defect::malformed);

    EXPECT_EQ(defect_of(std::vector<std::uint8_t>(kMaxSize + 1, 'G')), Defect::oversized);

    // Every truncation of a valid beacon is malformed (never read past the end).
    for (std::size_t n = 5; n < good.size(); ++n) {
        EXPECT_EQ(defect_of({good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)}), Defect::malformed)
            << n;
    }
    auto trailing = good;
    trailing.push_back(0);
    EXPECT_EQ(defect_of(trailing), Defect::malformed);

    auto long_group = good;
    long_group[26] = 200;  // says 200 bytes of group, has 3
    EXPECT_EQ(defect_of(long_group), Defect::malformed);

    auto nil = sample();
    nil.node = NodeId{};
    EXPECT_EQ(defect_of(bytes_of(nil)), Defect::malformed);

    auto no_port = sample();
    no_port.direct_port = 0;
    EXPECT_EQ(defect_of(bytes_of(no_port)), Defect::malformed);
}

TEST(BeaconCodec, LeavingBeaconNeedsNoPorts) {
    auto b = sample();
    b.flags = leaving;
    b.direct_port = 0;
    b.fanout_port = 0;
    EXPECT_TRUE(std::holds_alternative<Beacon>(decode(bytes_of(b))));
}

TEST(BeaconCodec, ReservedFlagBitsAreIgnored) {
    auto bytes = bytes_of(sample());
    bytes[5] = 0xf2;
    const auto d = decode(bytes);
    ASSERT_TRUE(std::holds_alternative<Beacon>(d));
    EXPECT_TRUE(std::get<Beacon>(d).has(reply));
    EXPECT_FALSE(std::get<Beacon>(d).has(leaving));
}

}  // namespace
}  // namespace grav::beacon
