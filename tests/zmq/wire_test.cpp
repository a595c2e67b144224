// The wire codec: what docs/PROTOCOL.md promises, byte by byte, and that
// hostile bytes are rejected with a reason instead of crashing or allocating.
#include "wire/wire.hpp"
#include "wire/batch.hpp"

#include <gtest/gtest.h>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>

#include <algorithm>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace grav::zmq::wire {
namespace {

std::span<const std::byte> as_span(const std::string& s) { return bytes_of(s); }

std::vector<std::uint8_t> raw(const HeaderBytes& b) {
    std::vector<std::uint8_t> out;
    for (auto x : b) out.push_back(static_cast<std::uint8_t>(x));
    return out;
}

TEST(WireHeader, RoundTripsEveryField) {
    Message m("chat.line", "hello");
    Header h = header_of(m, 42);
    h.parent_id = MessageId::random();
    h.reply_to = MessageId::random();
    h.origin = NodeId::random();
    const auto bytes = encode_header(h);
    auto back = decode_header(bytes);
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(back->seq, 42u);
    EXPECT_EQ(back->id, h.id);
    EXPECT_EQ(back->parent_id, h.parent_id);
    EXPECT_EQ(back->reply_to, h.reply_to);
    EXPECT_EQ(back->timestamp_ns, h.timestamp_ns);
    EXPECT_EQ(back->origin, h.origin);
}

TEST(WireHeader, LayoutIsTheDocumentedOne) {
    Header h;
    h.seq = 0x0102030405060708ULL;
    h.id = MessageId(Uuid(Uuid::Bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}));
    h.timestamp_ns = 0x1122334455667788LL;
    h.origin = NodeId(Uuid(Uuid::Bytes{0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbb}));
    const auto b = raw(encode_header(h));
    ASSERT_EQ(b.size(), 82u);
    EXPECT_EQ(b[0], 1);     // cereal: little-endian stream
    EXPECT_EQ(b[1], 1);     // header version
    EXPECT_EQ(b[2], 0x08);  // seq, little-endian
    EXPECT_EQ(b[9], 0x01);
    EXPECT_EQ(b[10], 1);  // id: 16 bytes as is
    EXPECT_EQ(b[25], 16);
    EXPECT_EQ(b[26], 0);     // parent_id nil
    EXPECT_EQ(b[42], 0);     // reply_to nil
    EXPECT_EQ(b[58], 0x88);  // timestamp, little-endian
    EXPECT_EQ(b[65], 0x11);
    EXPECT_EQ(b[66], 0xaa);  // origin
    EXPECT_EQ(b[81], 0xbb);
}

TEST(WireHeader, IsExactlyWhatCerealPortableBinaryWrites) {
    Header h;
    h.seq = 123456789;
    h.id = MessageId::random();
    h.reply_to = MessageId::random();
    h.timestamp_ns = -42;
    h.origin = NodeId::random();
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(header_version, h.seq, h.id.uuid().bytes(), h.parent_id.uuid().bytes(),
                h.reply_to.uuid().bytes(), h.timestamp_ns, h.origin.uuid().bytes());
    }
    const auto ours = encode_header(h);
    EXPECT_EQ(out.str(), std::string(reinterpret_cast<const char*>(ours.data()), ours.size()));
    // And cereal reads ours back.
    std::istringstream in(out.str());
    cereal::PortableBinaryInputArchive archive(in);
    std::uint8_t version = 0;
    std::uint64_t seq = 0;
    archive(version, seq);
    EXPECT_EQ(seq, h.seq);
}

TEST(WireHeader, RejectsWrongSizeAndUnknownVersion) {
    const auto good = encode_header(control_header(NodeId::random()));
    for (std::size_t n = 0; n < good.size(); ++n) {
        auto r = decode_header(std::span<const std::byte>(good.data(), n));
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code(), Errc::decode_failed);
    }
    auto bad = good;
    bad[1] = std::byte{2};
    auto r = decode_header(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().reason().find("unknown header version 2"), std::string::npos) << r.error().reason();
}

TEST(WireHeader, AcceptsBigEndianStreamsAsCerealDoes) {
    Header h;
    h.seq = 7;
    auto b = encode_header(h);
    // Same header written big-endian: flag 0 and the 8-byte fields reversed.
    b[0] = std::byte{0};
    std::reverse(b.begin() + 2, b.begin() + 10);
    std::reverse(b.begin() + 58, b.begin() + 66);
    auto r = decode_header(b);
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->seq, 7u);
}

TEST(WireMessage, RebuildsTheMessageWithItsPayloadUntouched) {
    std::string payload("\x00\x01binary\xff", 9);
    Message m("sensor.raw", std::string_view(payload));
    auto back = message_of("sensor.raw", header_of(m, 1), bytes_of(payload));
    EXPECT_EQ(back->id(), m.id());
    EXPECT_EQ(back->type(), "sensor.raw");
    EXPECT_EQ(back->payload_view(), payload);
    EXPECT_EQ(back->timestamp(), m.timestamp());
}

TEST(WireMessage, RejectsBadTypes) {
    EXPECT_FALSE(check_type("").ok());
    EXPECT_FALSE(check_type(std::string_view("\0x", 2)).ok());
    EXPECT_FALSE(check_type(std::string(max_type + 1, 'a')).ok());
    EXPECT_TRUE(check_type("chat.line").ok());
}

// ---------------------------------------------------------------- data frame (batch)

std::vector<Record> sample_records(const std::vector<std::string>& payloads) {
    std::vector<Record> records;
    std::uint64_t seq = 10;
    for (const auto& p : payloads) {
        Header h = header_of(Message("t", p), ++seq);
        h.parent_id = MessageId::random();
        h.reply_to = MessageId::random();
        h.timestamp_ns = -5 + static_cast<std::int64_t>(seq);
        records.push_back({h, bytes_of(p)});
    }
    return records;
}

void expect_same(const Record& a, const Record& b) {
    EXPECT_EQ(a.header.seq, b.header.seq);
    EXPECT_EQ(a.header.id, b.header.id);
    EXPECT_EQ(a.header.parent_id, b.header.parent_id);
    EXPECT_EQ(a.header.reply_to, b.header.reply_to);
    EXPECT_EQ(a.header.timestamp_ns, b.header.timestamp_ns);
    EXPECT_EQ(a.header.origin, b.header.origin);
    ASSERT_EQ(a.payload.size(), b.payload.size());
    EXPECT_TRUE(std::equal(a.payload.begin(), a.payload.end(), b.payload.begin()));
}

TEST(WireBatch, RoundTripsSeveralRecordsInOrder) {
    const std::vector<std::string> payloads{"one", "", std::string("\x00\xff", 2), std::string(5000, 'x')};
    const auto records = sample_records(payloads);
    const auto frame = encode_batch(records);
    std::size_t expected = batch_prefix_size;
    for (const auto& p : payloads) expected += record_size(p.size());
    EXPECT_EQ(frame.size(), expected);
    std::vector<Record> back;
    ASSERT_TRUE(decode_batch(frame, back).ok());
    ASSERT_EQ(back.size(), records.size());
    for (std::size_t i = 0; i < records.size(); ++i) expect_same(back[i], records[i]);
}

TEST(WireBatch, LayoutIsTheDocumentedOne) {
    Header h;
    h.seq = 0x0102030405060708ull;
    h.timestamp_ns = 0x1112131415161718ll;
    h.id = MessageId::random();
    h.origin = NodeId::random();
    const std::string payload = "abc";
    const auto f = encode_batch(std::vector<Record>{{h, bytes_of(payload)}});
    ASSERT_EQ(f.size(), 6u + 84u + 3u);
    auto at = [&](std::size_t i) { return static_cast<unsigned>(f[i]); };
    EXPECT_EQ(at(0), 1u);  // little-endian
    EXPECT_EQ(at(1), 2u);  // header version 2 = data frame
    EXPECT_EQ(at(2), 1u);  // count, u32 LE
    EXPECT_EQ(at(5), 0u);
    EXPECT_EQ(at(6), 0x08u);  // seq, LE
    EXPECT_EQ(at(13), 0x01u);
    EXPECT_TRUE(std::memcmp(&f[14], h.id.uuid().bytes().data(), 16) == 0);
    EXPECT_EQ(at(62), 0x18u);  // timestamp, LE
    EXPECT_TRUE(std::memcmp(&f[70], h.origin.uuid().bytes().data(), 16) == 0);
    EXPECT_EQ(at(86), 3u);  // payload size, u32 LE
    EXPECT_EQ(at(90), static_cast<unsigned>('a'));
}

TEST(WireBatch, AcceptsBigEndianFrames) {
    const std::string payload = "xy";
    Header h;
    h.seq = 7;
    h.timestamp_ns = 9;
    auto f = encode_batch(std::vector<Record>{{h, bytes_of(payload)}});
    f[0] = std::byte{0};
    std::reverse(f.begin() + 2, f.begin() + 6);    // count
    std::reverse(f.begin() + 6, f.begin() + 14);   // seq
    std::reverse(f.begin() + 62, f.begin() + 70);  // timestamp
    std::reverse(f.begin() + 86, f.begin() + 90);  // payload size
    std::vector<Record> back;
    ASSERT_TRUE(decode_batch(f, back).ok());
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].header.seq, 7u);
    EXPECT_EQ(back[0].header.timestamp_ns, 9);
    EXPECT_EQ(back[0].payload.size(), 2u);
}

TEST(WireBatch, MalformedFramesAreRejectedWholeWithAReason) {
    const auto good = encode_batch(sample_records({"first", std::string(200, 's')}));
    std::vector<Record> out;
    auto rejects = [&](std::vector<std::byte> f, const char* why) {
        out.assign(3, Record{});
        auto r = decode_batch(f, out);
        EXPECT_FALSE(r.ok()) << why;
        if (!r.ok()) {
            EXPECT_NE(r.error().reason().find(why), std::string::npos) << r.error().reason();
        }
        EXPECT_TRUE(out.empty()) << why;  // nothing of a bad batch is delivered
    };
    rejects({}, "prefix");
    auto f = good;
    f[0] = std::byte{2};
    rejects(f, "endianness");
    f = good;
    f[1] = std::byte{1};  // a protocol 1 header is not a data frame
    rejects(f, "version 1");
    f = good;
    f[2] = std::byte{0};
    rejects(f, "no record");
    f = good;
    f[2] = std::byte{3};  // claims one record more than it holds (there is room for its size)
    rejects(f, "truncated");
    f = good;
    f[2] = std::byte{0xff};
    f[3] = std::byte{0xff};
    f[4] = std::byte{0xff};
    f[5] = std::byte{0x7f};  // two billion records: refused before anything is reserved
    rejects(f, "cannot fit");
    f = good;
    f[batch_prefix_size + 80] = std::byte{0xff};  // first payload runs past the end
    f[batch_prefix_size + 83] = std::byte{0x7f};
    rejects(f, "left");
    f = good;
    f.push_back(std::byte{0});
    rejects(f, "trailing");
    f = good;
    f.pop_back();
    rejects(f, "left");
}

Hello sample_hello() {
    return Hello{
        .protocol = protocol_version,
        .node = NodeId::random(),
        .name = "alpha",
        .belongs_to = "lab",
        .interests = {"resize", "thumbnail"},
        .endpoints = {"tcp://*:5670", "tcp://*:5671"},
    };
}

TEST(WireHello, RoundTrips) {
    const Hello h = sample_hello();
    auto back = decode_hello(as_span(encode_hello(h)));
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(back->node, h.node);
    EXPECT_EQ(back->name, "alpha");
    EXPECT_EQ(back->belongs_to, "lab");
    EXPECT_EQ(back->interests, h.interests);
    EXPECT_EQ(back->endpoints, h.endpoints);
}

TEST(WireHello, LayoutIsTheDocumentedOne) {
    Hello h = sample_hello();
    h.name = "n";
    h.belongs_to = "";
    h.interests = {};
    h.endpoints = {"e"};
    const std::string b = encode_hello(h);
    ASSERT_EQ(b.size(), 1u + 2 + 16 + (8 + 1) + 8 + 8 + (8 + 8 + 1));
    EXPECT_EQ(b[0], 1);
    EXPECT_EQ(b[1], 2);  // protocol 2, little-endian u16
    EXPECT_EQ(b[2], 0);
    EXPECT_EQ(0, std::memcmp(b.data() + 3, h.node.uuid().bytes().data(), 16));
    EXPECT_EQ(b[19], 1);  // name length, u64
    EXPECT_EQ(b[27], 'n');
}

TEST(WireHello, EveryTruncationIsRejected) {
    const std::string full = encode_hello(sample_hello());
    for (std::size_t n = 0; n < full.size(); ++n) {
        auto r = decode_hello(as_span(full.substr(0, n)));
        EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes accepted";
    }
    EXPECT_FALSE(decode_hello(as_span(full + "x")).ok());  // trailing byte
}

TEST(WireHello, HugeLengthsAreRejectedBeforeAllocating) {
    std::string b = encode_hello(sample_hello());
    // name length at offset 19: claim 2^62 bytes.
    const std::uint64_t huge = std::uint64_t{1} << 62;
    std::memcpy(b.data() + 19, &huge, sizeof huge);
    auto r = decode_hello(as_span(b));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().reason().find("name is"), std::string::npos) << r.error().reason();
}

TEST(WireHello, UnknownProtocolDecodesOnlyTheVersion) {
    const std::string b =
        std::string("\x01\x07", 2) + std::string(1, '\0') + "later versions may define this";
    auto r = decode_hello(as_span(b));
    ASSERT_TRUE(r.ok()) << r.error().what();
    EXPECT_EQ(r->protocol, 7);
}

TEST(WireReason, RoundTripsAndBounds) {
    auto r = decode_reason(as_span(encode_reason("wrong group")));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, "wrong group");
    EXPECT_EQ(decode_reason(as_span(encode_reason(std::string(5000, 'x'))))->size(), max_text);
    EXPECT_FALSE(decode_reason(as_span(std::string("\x01\xff\xff\xff\xff\xff\xff\xff\x7f", 9))).ok());
}

TEST(WireControl, TopicsParse) {
    for (auto c :
         {Control::hello, Control::welcome, Control::refuse, Control::ready, Control::bye, Control::who,
          Control::iam, Control::resend, Control::resent, Control::got, Control::ping, Control::pong}) {
        auto parsed = parse_control(topic_of(c));
        ASSERT_TRUE(parsed.has_value());
        ASSERT_TRUE(parsed->ok());
        EXPECT_EQ(**parsed, c);
    }
    EXPECT_FALSE(parse_control("chat.line").has_value());
    auto unknown = parse_control(std::string_view("\0NOPE", 5));
    ASSERT_TRUE(unknown.has_value());
    EXPECT_FALSE(unknown->ok());
    EXPECT_EQ(topic_of(Control::hello), std::string_view("\0HELLO", 6));
}

TEST(WireControl, PingTopicsAndEchoBody) {
    EXPECT_EQ(topic_of(Control::ping), std::string_view("\0PING", 5));
    EXPECT_EQ(topic_of(Control::pong), std::string_view("\0PONG", 5));
    const auto echo = encode_echo(0x0102030405060708ull);
    EXPECT_EQ(echo.size(), 9u);  // cereal prologue + 8 bytes
    auto token = decode_echo(as_span(echo));
    ASSERT_TRUE(token.ok());
    EXPECT_EQ(*token, 0x0102030405060708ull);
    EXPECT_FALSE(decode_echo(as_span(echo.substr(0, 5))).ok());
    EXPECT_FALSE(decode_echo(as_span(echo + "x")).ok());
    EXPECT_FALSE(decode_echo({}).ok());
}

TEST(WireControl, WelcomeBodySaysWhatTheNodeCanDo) {
    // An older node's WELCOME is empty: no features, no PINGs for it.
    auto old_node = decode_welcome({});
    ASSERT_TRUE(old_node.ok());
    EXPECT_EQ(old_node->features, 0u);
    const auto body = encode_welcome({.features = feature_ping});
    auto now = decode_welcome(as_span(body));
    ASSERT_TRUE(now.ok());
    EXPECT_EQ(now->features, feature_ping);
    // A later version's extra fields are skipped, not refused.
    auto later = decode_welcome(as_span(body + "more"));
    ASSERT_TRUE(later.ok());
    EXPECT_EQ(later->features, feature_ping);
    EXPECT_FALSE(decode_welcome(as_span(body.substr(0, 3))).ok());
}

TEST(WireControl, SyncTopicAndRoutingIdCarryTheNodeId) {
    const NodeId id = NodeId::random();
    EXPECT_EQ(parse_sync_topic(sync_topic(id)), id);
    EXPECT_FALSE(parse_sync_topic("chat").has_value());
    EXPECT_EQ(routing_id(id).size(), 36u);
    EXPECT_NE(routing_id(id).front(), '\0');
    EXPECT_EQ(parse_routing_id(routing_id(id)), id);
    EXPECT_FALSE(parse_routing_id("junk").has_value());
}

}  // namespace
}  // namespace grav::zmq::wire
