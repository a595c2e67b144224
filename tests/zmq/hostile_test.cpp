// Hostile and broken peers, played by raw ZeroMQ sockets: every bad input is
// rejected with a counter (and a logged reason) while the node keeps serving
// well-behaved peers.
#include "test_node.hpp"
#include "wire/batch.hpp"
#include "wire/wire.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <zmq.hpp>

#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
namespace wire = grav::zmq::wire;

std::uint64_t stat(TestNode& n, const std::string& name) { return n.transport->stats().at(name); }

// A well-behaved peer still joins and exchanges both ways.
void expect_still_serving(TestNode& victim) {
    TestNode good("good");
    ASSERT_TRUE(good.start().ok());
    ASSERT_TRUE(good.transport->connect(victim.transport->endpoint()).ok());
    ASSERT_TRUE(eventually(
        [&] { return victim.events.has_joined(good.id()) && good.events.has_joined(victim.id()); }, 10s));
    victim.transport->publish(make("t", "to good", victim.id()));
    good.transport->publish(make("t", "to victim", good.id()));
    ASSERT_TRUE(eventually([&] { return good.events.message_count() == 1; }, 5s));
    ASSERT_TRUE(eventually(
        [&] {
            for (const auto& r : victim.events.messages()) {
                if (r.from == good.id()) return true;
            }
            return false;
        },
        5s));
}

std::vector<::zmq::message_t> frames_of(std::vector<std::string> parts) {
    std::vector<::zmq::message_t> out;
    for (auto& p : parts) out.emplace_back(p.data(), p.size());
    return out;
}

void send(::zmq::socket_t& s, std::vector<std::string> parts) {
    auto frames = frames_of(std::move(parts));
    for (std::size_t i = 0; i < frames.size(); ++i) {
        s.send(frames[i], i + 1 < frames.size() ? ::zmq::send_flags::sndmore : ::zmq::send_flags::none);
    }
}

std::string header_bytes(const NodeId& origin) {
    const auto h = wire::encode_header(wire::control_header(origin));
    return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

std::optional<std::vector<std::string>> recv_all(::zmq::socket_t& s, std::chrono::milliseconds timeout) {
    ::zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
    if (::zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
    std::vector<std::string> parts;
    ::zmq::message_t m;
    do {
        (void)s.recv(m);
        parts.emplace_back(static_cast<const char*>(m.data()), m.size());
    } while (m.more());
    return parts;
}

TEST(ZmqHostile, JunkFromARawClientIsCountedAndIgnored) {
    TestNode victim("victim");
    ASSERT_TRUE(victim.start().ok());
    ::zmq::context_t ctx;
    ::zmq::socket_t raw(ctx, ::zmq::socket_type::dealer);
    raw.set(::zmq::sockopt::linger, 0);
    raw.connect(victim.transport->endpoint());
    const std::string header = header_bytes(NodeId::random());
    send(raw, {"just one frame"});
    send(raw, {"a", "b", "c", "d", "e", "f", "g", "h"});                                 // too many frames
    send(raw, {"chat.line", "not a header", "payload"});                                 // data, no handshake
    send(raw, {std::string("\0NOPE", 5), header, ""});                                   // unknown command
    send(raw, {std::string(wire::topic_of(wire::Control::hello)), header, "\x01\x01"});  // truncated HELLO
    send(raw, {std::string(wire::topic_of(wire::Control::hello)), header,
               wire::encode_hello({.protocol = wire::protocol_version,
                                   .node = NodeId::random(),
                                   .name = "x",
                                   .belongs_to = "*",
                                   .interests = {},
                                   .endpoints = {}})
                   .substr(0, 30)});
    ASSERT_TRUE(eventually([&] { return stat(victim, "zmq.malformed") >= 5; }, 5s))
        << stat(victim, "zmq.malformed");
    expect_still_serving(victim);
    EXPECT_TRUE(victim.events.joined().size() == 1);
}

TEST(ZmqHostile, UnknownProtocolVersionIsRefusedWithTheReason) {
    TestNode victim("victim");
    ASSERT_TRUE(victim.start().ok());
    ::zmq::context_t ctx;
    ::zmq::socket_t raw(ctx, ::zmq::socket_type::dealer);
    const NodeId id = NodeId::random();
    raw.set(::zmq::sockopt::routing_id, wire::routing_id(id));
    raw.set(::zmq::sockopt::linger, 0);
    raw.connect(victim.transport->endpoint());
    wire::Hello hello{.protocol = 99,
                      .node = id,
                      .name = "future",
                      .belongs_to = "*",
                      .interests = {},
                      .endpoints = {"tcp://127.0.0.1:1", "tcp://127.0.0.1:2"}};
    send(raw,
         {std::string(wire::topic_of(wire::Control::hello)), header_bytes(id), wire::encode_hello(hello)});
    auto reply = recv_all(raw, 5s);
    ASSERT_TRUE(reply.has_value());
    ASSERT_EQ(reply->size(), 3u);
    EXPECT_EQ((*reply)[0], wire::topic_of(wire::Control::refuse));
    auto reason = wire::decode_reason(wire::bytes_of((*reply)[2]));
    ASSERT_TRUE(reason.ok());
    EXPECT_NE(reason->find("unsupported protocol version 99"), std::string::npos) << *reason;
    EXPECT_EQ(stat(victim, "zmq.refused"), 1u);
    expect_still_serving(victim);
}

TEST(ZmqHostile, DataFromANodeThatNeverShookHandsIsDropped) {
    TestNode victim("victim");
    ASSERT_TRUE(victim.start().ok());
    ::zmq::context_t ctx;
    ::zmq::socket_t raw(ctx, ::zmq::socket_type::dealer);
    const NodeId id = NodeId::random();
    raw.set(::zmq::sockopt::routing_id, wire::routing_id(id));
    raw.set(::zmq::sockopt::linger, 0);
    raw.connect(victim.transport->endpoint());
    const auto m = make("chat.line", "sneaky", id);
    const auto f = wire::encode_batch(std::vector<wire::Record>{{wire::header_of(*m, 1), m->payload()}});
    send(raw, {"chat.line", std::string(reinterpret_cast<const char*>(f.data()), f.size())});
    ASSERT_TRUE(eventually([&] { return stat(victim, "zmq.unknown_sender") == 1; }, 5s));
    EXPECT_EQ(victim.events.message_count(), 0u);
}

TEST(ZmqHostile, OversizedMessagesAreCutOffByMaxMessageSize) {
    auto options = fast_options();
    options.max_message_size = 4096;
    TestNode victim("victim", options);
    ASSERT_TRUE(victim.start().ok());
    ::zmq::context_t ctx;
    ::zmq::socket_t raw(ctx, ::zmq::socket_type::dealer);
    raw.set(::zmq::sockopt::linger, 0);
    raw.connect(victim.transport->endpoint());
    send(raw, {std::string(wire::topic_of(wire::Control::who)), header_bytes(NodeId::random()),
               std::string(100000, 'x')});
    // libzmq drops the connection: no answer, nothing handled.
    EXPECT_FALSE(recv_all(raw, 500ms).has_value());
    expect_still_serving(victim);
    EXPECT_EQ(stat(victim, "zmq.malformed"), 0u);
}

TEST(ZmqHostile, AHandshakeThatNeverFinishesIsAbandoned) {
    auto options = fast_options();
    options.handshake_timeout = 500ms;
    TestNode victim("victim", options);
    ASSERT_TRUE(victim.start().ok());
    ::zmq::context_t ctx;
    // It says HELLO with endpoints that accept connections but never answer.
    ::zmq::socket_t mute_router(ctx, ::zmq::socket_type::router);
    ::zmq::socket_t mute_xpub(ctx, ::zmq::socket_type::xpub);
    mute_router.set(::zmq::sockopt::linger, 0);
    mute_xpub.set(::zmq::sockopt::linger, 0);
    mute_router.bind("tcp://127.0.0.1:0");
    mute_xpub.bind("tcp://127.0.0.1:0");
    ::zmq::socket_t raw(ctx, ::zmq::socket_type::dealer);
    const NodeId id = NodeId::random();
    raw.set(::zmq::sockopt::routing_id, wire::routing_id(id));
    raw.set(::zmq::sockopt::linger, 0);
    raw.connect(victim.transport->endpoint());
    wire::Hello hello{.protocol = wire::protocol_version,
                      .node = id,
                      .name = "mute",
                      .belongs_to = "*",
                      .interests = {},
                      .endpoints = {mute_router.get(::zmq::sockopt::last_endpoint),
                                    mute_xpub.get(::zmq::sockopt::last_endpoint)}};
    send(raw,
         {std::string(wire::topic_of(wire::Control::hello)), header_bytes(id), wire::encode_hello(hello)});
    auto welcome = recv_all(raw, 5s);
    ASSERT_TRUE(welcome.has_value());
    EXPECT_EQ(welcome->front(), wire::topic_of(wire::Control::welcome));
    ASSERT_TRUE(eventually([&] { return stat(victim, "zmq.handshake_timeouts") == 1; }, 5s));
    EXPECT_TRUE(victim.events.joined().empty());
    EXPECT_FALSE(victim.transport->alive(id));
    expect_still_serving(victim);
}

// docs/PROTOCOL.md, "Control messages": every control header is checked;
// a HELLO with a broken one is never answered.
TEST(ZmqHostile, ABrokenControlHeaderIsNeverAnsweredAndCounted) {
    auto options = fast_options();
    options.handshake_timeout = 500ms;
    TestNode victim("victim", options);
    ASSERT_TRUE(victim.start().ok());
    ::zmq::context_t ctx;
    ::zmq::socket_t mute_router(ctx, ::zmq::socket_type::router);
    ::zmq::socket_t mute_xpub(ctx, ::zmq::socket_type::xpub);
    mute_router.set(::zmq::sockopt::linger, 0);
    mute_xpub.set(::zmq::sockopt::linger, 0);
    mute_router.bind("tcp://127.0.0.1:0");
    mute_xpub.bind("tcp://127.0.0.1:0");
    ::zmq::socket_t raw(ctx, ::zmq::socket_type::dealer);
    const NodeId id = NodeId::random();
    raw.set(::zmq::sockopt::routing_id, wire::routing_id(id));
    raw.set(::zmq::sockopt::linger, 0);
    raw.connect(victim.transport->endpoint());
    const std::string hello =
        wire::encode_hello({.protocol = wire::protocol_version,
                            .node = id,
                            .name = "broken",
                            .belongs_to = "*",
                            .interests = {},
                            .endpoints = {mute_router.get(::zmq::sockopt::last_endpoint),
                                          mute_xpub.get(::zmq::sockopt::last_endpoint)}});
    const std::string good = header_bytes(id);
    auto with_byte = [&](std::size_t at, char value) {
        std::string h = good;
        h[at] = value;
        return h;
    };
    const std::vector<std::pair<std::string, std::string>> broken = {
        {"empty", ""},
        {"81 bytes", good.substr(0, 81)},
        {"83 bytes", good + '\0'},
        {"version 9", with_byte(1, 9)},
        {"endianness flag 7", with_byte(0, 7)},
        {"seq 1", with_byte(2, 1)},
        {"a reply_to", with_byte(42, 1)},
        {"a timestamp", with_byte(58, 1)},
        {"another origin", header_bytes(NodeId::random())},
    };
    const std::string hello_topic(wire::topic_of(wire::Control::hello));
    std::uint64_t malformed = stat(victim, "zmq.malformed");
    for (const auto& [what, header] : broken) {
        send(raw, {hello_topic, header, hello});
        EXPECT_FALSE(recv_all(raw, 300ms).has_value()) << "a HELLO with " << what << " was answered";
        EXPECT_TRUE(eventually([&] { return stat(victim, "zmq.malformed") == malformed + 1; }, 2s)) << what;
        malformed = stat(victim, "zmq.malformed");
    }
    // READY with a 2-byte header, BYE with an empty one: refused and counted too.
    send(raw, {std::string(wire::topic_of(wire::Control::ready)), "\x01\x01", ""});
    send(raw, {std::string(wire::topic_of(wire::Control::bye)), "", ""});
    EXPECT_TRUE(eventually([&] { return stat(victim, "zmq.malformed") == malformed + 2; }, 2s));
    // The same HELLO with its header as the document says is answered.
    send(raw, {hello_topic, good, hello});
    auto welcome = recv_all(raw, 5s);
    ASSERT_TRUE(welcome.has_value());
    EXPECT_EQ(welcome->front(), wire::topic_of(wire::Control::welcome));
    expect_still_serving(victim);
}

}  // namespace
}  // namespace grav::ztest
