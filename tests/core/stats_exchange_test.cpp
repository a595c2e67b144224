// The grav.sys.stats report codec and the asker's bookkeeping alone (no
// transport): what one node encodes another decodes field for field; a
// hostile or cut report is an Error, never an allocation or a crash.
#include "stats_exchange.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace grav::detail {
namespace {

using namespace std::chrono_literals;

std::span<const std::byte> bytes(const std::string& s) {
    return std::as_bytes(std::span(s.data(), s.size()));
}

NodeReport sample() {
    NodeReport r;
    r.node = NodeId::random();
    r.name = "alpha";
    r.stats.pods = 2;
    r.stats.sent = 11;
    r.stats.delivered = 12;
    r.stats.failed = 1;
    r.stats.redelivered = 3;
    r.stats.dropped = 4;
    r.stats.queue_depth = 5;
    r.stats.disconnected_by_bus = 6;
    r.stats.received_from_peers = 7;
    r.stats.peers = 1;
    r.stats.network = {{"zmq.gaps", 9}, {"zmq.messages_sent", 1234567890123ull}};
    PeerTraffic t;
    t.peer = NodeId::random();
    t.messages_sent = 1;
    t.bytes_sent = 2;
    t.messages_received = 3;
    t.bytes_received = 4;
    t.resent = 5;
    t.lost = 6;
    t.rtt = 250us;
    t.last_seen = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(1700000000123456789ns));
    r.peers.push_back(t);
    PeerTraffic never;
    never.peer = NodeId::random();
    r.peers.push_back(never);
    return r;
}

TEST(StatsReport, RoundTripsEveryField) {
    const NodeReport r = sample();
    auto back = decode_report(bytes(encode_report(r)));
    ASSERT_TRUE(back.ok()) << back.error().what();
    EXPECT_EQ(back->node, r.node);
    EXPECT_EQ(back->name, "alpha");
    EXPECT_EQ(back->stats.sent, 11u);
    EXPECT_EQ(back->stats.delivered, 12u);
    EXPECT_EQ(back->stats.queue_depth, 5u);
    EXPECT_EQ(back->stats.received_from_peers, 7u);
    EXPECT_EQ(back->stats.peers, 1u);
    EXPECT_EQ(back->stats.network, r.stats.network);
    ASSERT_EQ(back->peers.size(), 2u);
    const PeerTraffic& t = back->peers[0];
    EXPECT_EQ(t.peer, r.peers[0].peer);
    EXPECT_EQ(t.messages_sent, 1u);
    EXPECT_EQ(t.bytes_received, 4u);
    EXPECT_EQ(t.lost, 6u);
    EXPECT_EQ(t.rtt, 250us);
    EXPECT_EQ(t.last_seen, r.peers[0].last_seen);
    EXPECT_FALSE(back->peers[1].rtt.has_value());
    EXPECT_FALSE(back->peers[1].last_seen.has_value());
}

TEST(StatsReport, CutOrPaddedOrForeignReportsAreErrors) {
    const std::string good = encode_report(sample());
    for (std::size_t n = 0; n < good.size(); n += 7)
        EXPECT_FALSE(decode_report(bytes(good.substr(0, n))).ok());
    EXPECT_FALSE(decode_report(bytes(good + "x")).ok());
    std::string other_version = good;
    other_version[1] = '\x02';  // after cereal's endianness byte
    auto r = decode_report(bytes(other_version));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().reason().find("version"), std::string::npos);
    // A count far beyond the bounds: refused, not allocated.
    NodeReport many;
    many.node = NodeId::random();
    std::string huge = encode_report(many);
    // The network counters' count follows version, id, name, 10 fields.
    const std::size_t at = 1 + 1 + 16 + 8 + 80;  // (its name is empty)
    ASSERT_GT(huge.size(), at + 8);
    for (std::size_t i = 0; i < 8; ++i) huge[at + i] = '\xff';
    EXPECT_FALSE(decode_report(bytes(huge)).ok());
}

Message reply_to(const MessageId& request, const NodeReport& report, const NodeId& from) {
    MessageHeader h;
    h.id = MessageId::random();
    h.reply_to = request;
    h.type = std::string(kStatsReplyType);
    h.origin = from;
    return {std::move(h), encode_report(report)};
}

TEST(StatsRequests, AnswersAreMatchedOnceAndTheRestTimeOut) {
    StatsRequests requests;
    const MessageId asked = MessageId::random();
    const MessageId silent = MessageId::random();
    requests.expect({asked, silent});
    const NodeReport r = sample();
    std::thread answer([&] {
        std::this_thread::sleep_for(20ms);
        EXPECT_TRUE(requests.answer(reply_to(asked, r, r.node)));
        EXPECT_FALSE(requests.answer(reply_to(asked, r, r.node)));                // once
        EXPECT_FALSE(requests.answer(reply_to(MessageId::random(), r, r.node)));  // unasked
    });
    auto out = requests.collect({asked, silent}, std::chrono::steady_clock::now() + 300ms);
    answer.join();
    ASSERT_EQ(out.size(), 2u);
    ASSERT_TRUE(out[0].ok());
    EXPECT_EQ(out[0]->name, "alpha");
    ASSERT_FALSE(out[1].ok());
    EXPECT_EQ(out[1].error().code(), Errc::timeout);
    // Forgotten after collect: a late answer matches nothing.
    EXPECT_FALSE(requests.answer(reply_to(silent, r, r.node)));
}

TEST(StatsRequests, AReportInAnotherNodesNameIsRefused) {
    StatsRequests requests;
    const MessageId asked = MessageId::random();
    requests.expect({asked});
    EXPECT_TRUE(requests.answer(reply_to(asked, sample(), NodeId::random())));
    auto out = requests.collect({asked}, std::chrono::steady_clock::now() + 100ms);
    ASSERT_FALSE(out[0].ok());
    EXPECT_EQ(out[0].error().code(), Errc::decode_failed);
}

}  // namespace
}  // namespace grav::detail
