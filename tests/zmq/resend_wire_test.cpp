// The resend bodies of docs/PROTOCOL.md, byte for byte, and hostile input.
#include "wire/resend_wire.hpp"

#include <gtest/gtest.h>

namespace grav::zmq::wire {
namespace {

std::string hex(std::string_view bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        if (!out.empty()) out += ' ';
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

TEST(ResendWire, ResendRequestMatchesTheDocumentedBytes) {
    const auto bytes = encode_resend({.kind = StreamKind::fanout, .type = "t", .from = 5, .to = 9});
    EXPECT_EQ(hex(bytes), "01 00 01 00 00 00 00 00 00 00 74 05 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00");
    auto back = decode_resend(bytes_of(bytes));
    ASSERT_TRUE(back) << back.error().reason();
    EXPECT_EQ(back->kind, StreamKind::fanout);
    EXPECT_EQ(back->type, "t");
    EXPECT_EQ(back->from, 5u);
    EXPECT_EQ(back->to, 9u);
}

TEST(ResendWire, ResentMatchesTheDocumentedBytes) {
    const auto bytes = encode_resent(StreamKind::fanout, "t", bytes_of("hi"));
    EXPECT_EQ(hex(bytes), "01 00 01 00 00 00 00 00 00 00 74 68 69");
}

TEST(ResendWire, BigEndianIsAcceptedToo) {
    const std::string be(
        "\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"
        "\x00\x00\x00\x00\x00\x00\x00\x03",
        26);
    auto r = decode_resend(bytes_of(be));
    ASSERT_TRUE(r) << r.error().reason();
    EXPECT_EQ(r->kind, StreamKind::direct);
    EXPECT_EQ(r->from, 2u);
    EXPECT_EQ(r->to, 3u);
}

TEST(ResendWire, AnnouncementAndResentRoundTrip) {
    Announcement a{.direct_last = 7, .fanout = {{"chat.line", 42}, {"x", 1}}};
    auto back = decode_announcement(bytes_of(encode_announcement(a)));
    ASSERT_TRUE(back) << back.error().reason();
    EXPECT_EQ(back->direct_last, 7u);
    ASSERT_EQ(back->fanout.size(), 2u);
    EXPECT_EQ(back->fanout[0].type, "chat.line");
    EXPECT_EQ(back->fanout[0].last, 42u);
    EXPECT_TRUE(decode_announcement({}).ok());  // an empty READY body announces nothing

    const std::string payload("\0raw\xff", 5);
    const auto resent = encode_resent(StreamKind::fanout, "chat.line", bytes_of(payload));
    auto r = decode_resent(bytes_of(resent));
    ASSERT_TRUE(r) << r.error().reason();
    EXPECT_EQ(r->type, "chat.line");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(r->payload.data()), r->payload.size()), payload);
}

TEST(ResendWire, HostileBodiesAreErrorsWithReasons) {
    auto good = encode_resend({.kind = StreamKind::fanout, .type = "t", .from = 1, .to = 2});
    for (std::size_t n = 0; n < good.size(); ++n) {
        EXPECT_FALSE(decode_resend(bytes_of(std::string_view(good).substr(0, n)))) << "truncated to " << n;
    }
    EXPECT_FALSE(decode_resend(bytes_of(good + "x")));  // trailing byte
    EXPECT_FALSE(decode_resend(
        bytes_of(encode_resend({.kind = StreamKind::fanout, .type = "t", .from = 3, .to = 2}))));
    EXPECT_FALSE(decode_resend(
        bytes_of(encode_resend({.kind = StreamKind::fanout, .type = "t", .from = 0, .to = 2}))));
    std::string bad_kind = good;
    bad_kind[1] = 9;
    EXPECT_FALSE(decode_resend(bytes_of(bad_kind)));
    std::string huge_length = good;
    huge_length[9] = '\x7f';  // type length > 2^56
    auto r = decode_resend(bytes_of(huge_length));
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().reason().find("at most"), std::string::npos) << r.error().reason();
    EXPECT_FALSE(decode_resent(bytes_of(encode_resent(StreamKind::fanout, std::string_view("\0x", 2), {}))));
    std::string many("\x01\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff", 17);
    EXPECT_FALSE(decode_announcement(bytes_of(many)));
}

}  // namespace
}  // namespace grav::zmq::wire
