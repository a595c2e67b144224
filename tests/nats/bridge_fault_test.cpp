// The bridge under faults, with real nats-server processes: a server killed
// mid-traffic, NATS absent when the bus starts, authenticated clusters (TLS too),
// and a plain NATS client talking to a grav site.
#include "nats_client.hpp"
#include "nats_cluster.hpp"
#include "sites.hpp"
#include "test_certs.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <iterator>
#include <sstream>
#include <thread>
#include <vector>

namespace grav::natstest {
namespace {

#define SKIP_WITHOUT_NATS_SERVER() \
    if (!nats_server_binary()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)"

TEST(BridgeFaults, AKilledServerLosesOnlyWhatIsCountedAndTrafficResumes) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(3);
    auto a_opts = bridge_options(cluster->urls(), {"feed.*"});
    a_opts.randomize_servers = false;  // on server 0, the one that dies
    auto b_opts = bridge_options({cluster->url(2), cluster->url(1)}, {"feed.*"});
    b_opts.randomize_servers = false;
    Site a({{"a1", a_opts}});
    Site b({{"b1", b_opts}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    std::atomic<std::uint64_t> reported{0};
    b.node(0).on_peer([&](const PeerEvent& e) {
        if (e.kind == PeerEvent::Kind::lost_messages) reported += e.lost;
    });
    Listener far(b.node(0), "feed.*");
    Pod sender = a.node(0).connect();
    ASSERT_TRUE(warm_up(sender, "feed.tick", *far.inbox));

    const int n = 1500;
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(sender.send(Message("feed.tick", std::to_string(i))).status().ok());
        if (i == n / 3) cluster->kill(0);
        std::this_thread::sleep_for(1ms);
    }
    // The last message arrives (traffic resumed), and so shows every gap before it.
    ASSERT_TRUE(test::eventually([&] { auto v = numbers(*far.inbox); return !v.empty() && v.back() == n - 1; }, 20s))
        << numbers(*far.inbox).size() << " arrived";
    std::this_thread::sleep_for(300ms);
    const auto got = numbers(*far.inbox);
    for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LT(got[i - 1], got[i]) << "out of order or duplicated";
    const auto lost = stat(b.node(0), "nats.lost");
    EXPECT_EQ(got.size() + lost, static_cast<std::size_t>(n)) << "a message went missing without being counted";
    EXPECT_EQ(reported.load(), lost) << "counted but not reported";
    EXPECT_GE(stat(a.node(0), "nats.reconnects"), 1u);
    EXPECT_GT(got.size(), static_cast<std::size_t>(n / 2));
}

TEST(BridgeFaults, ASlowSiteOverflowsItsOwnQueueCountedAndIsNeverCutByNats) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1);
    auto slow = bridge_options(cluster->urls(), {"feed.*"});
    slow.queue_capacity = 64;
    Site a({{"a1", bridge_options(cluster->urls(), {"feed.*"})}});
    Site b({{"b1", slow}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    test::Gate gate;
    auto inbox = std::make_shared<test::Inbox>();
    Pod reader = b.node(0).connect();
    const Status reader_handler = reader.on_type("feed.*", [&gate, inbox](const Message& m) {
        inbox->add(m);
        if (!std::string(m.payload_view()).starts_with("warm:"))
            gate.wait(10s);  // a site that cannot keep up
    });
    ASSERT_TRUE(reader_handler.ok()) << reader_handler.error().what();
    Pod sender = a.node(0).connect();
    ASSERT_TRUE(warm_up(sender, "feed.tick", *inbox));

    const int n = 20000;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(sender.send(Message("feed.tick", std::to_string(i))).status().ok());
    ASSERT_TRUE(test::eventually([&] { return stat(b.node(0), "nats.queue_overflow") > 0; }, 10s));
    gate.open();
    // Once the site caught up, one more message: its count shows every gap before it.
    for (std::size_t before = 0, rounds = 0; inbox->size() != before && rounds < 100; ++rounds) {
        before = inbox->size();
        std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(sender.send(Message("feed.tick", std::to_string(n))).status().ok());
    ASSERT_TRUE(test::eventually([&] { auto v = numbers(*inbox); return !v.empty() && v.back() == n; }, 10s));
    const auto got = numbers(*inbox);
    const auto lost = stat(b.node(0), "nats.lost");
    EXPECT_GT(stat(b.node(0), "nats.queue_overflow"), 0u);
    for (std::size_t i = 1; i < got.size(); ++i) ASSERT_LT(got[i - 1], got[i]) << "out of order or duplicated";
    // Every message sent is delivered or counted lost.
    EXPECT_EQ(got.size() - 1 + lost, static_cast<std::size_t>(n)) << "delivered " << got.size() - 1 << ", lost " << lost;
    EXPECT_EQ(stat(b.node(0), "nats.disconnects"), 0u) << "NATS cut the slow site";
    EXPECT_EQ(stat(b.node(0), "nats.slow_consumer"), 0u);
}

TEST(BridgeFaults, NatsDownAtStartTheBusServesItsSiteAndTheBridgeConnectsLater) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1);
    cluster->kill(0);
    // Both buses start although no server answers.
    Site a({{"a1", bridge_options(cluster->urls(), {"chat.*"})}, {"a2"}});
    Site b({{"b1", bridge_options(cluster->urls(), {"chat.*"})}});
    EXPECT_EQ(stat(a.node(0), "nats.connected"), 0u);
    Listener local(a.node(1), "chat.*");
    Pod pod = a.node(0).connect();
    ASSERT_TRUE(pod.send(Message("chat.line", "local")).status().ok());
    ASSERT_TRUE(test::eventually([&] { return local.inbox->size() == 1; }, 5s)) << "the site is not served";

    cluster->restart(0);
    ASSERT_TRUE(bridge_connected(a.node(0), 15s));
    Listener far(b.node(0), "chat.*");
    ASSERT_TRUE(warm_up(pod, "chat.line", *far.inbox));
    ASSERT_TRUE(pod.send(Message("chat.line", "crossed")).status().ok());
    EXPECT_TRUE(test::eventually([&] { return !real_payloads(*far.inbox).empty() &&
                                              real_payloads(*far.inbox).back() == "crossed"; }, 5s));
}

TEST(BridgeFaults, AnAuthenticatedClusterTakesOnlyBridgesWithTheRightCredentials) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(3, {.user = "grav", .password = "s3cret"});
    auto good = [&](std::size_t server) {
        auto o = bridge_options({cluster->url(server)}, {"chat.*"});
        o.user = "grav";
        o.password = "s3cret";
        return o;
    };
    auto bad = good(1);
    bad.password = "wrong";
    Site a({{"a1", good(0)}});
    Site b({{"b1", good(2)}});
    Site c({{"c1", bad}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    Listener far(b.node(0), "chat.*");
    Pod pod = a.node(0).connect();
    ASSERT_TRUE(warm_up(pod, "chat.line", *far.inbox));
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(stat(c.node(0), "nats.connected"), 0u) << "a wrong password was let in";
}

TEST(BridgeFaults, AToken) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1, {.token = "t0ken"});
    auto o = bridge_options(cluster->urls(), {"chat.*"});
    o.token = "t0ken";
    Site a({{"a1", o}});
    EXPECT_TRUE(bridge_connected(a.node(0)));
    o.token = "other";
    Site b({{"b1", o}});
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(stat(b.node(0), "nats.connected"), 0u);
}

TEST(BridgeFaults, TlsWithClientCertificatesTakesOnlyBridgesTheServersTrust) {
    SKIP_WITHOUT_NATS_SERVER();
    if (!openssl_binary()) GTEST_SKIP() << "openssl not installed (apt-get install openssl)";
    TestCerts certs;
    auto cluster = NatsCluster::start(
        2, {.tls_cert = certs.server_cert(), .tls_key = certs.server_key(), .tls_ca = certs.ca()});
    auto with = [&](std::size_t server, std::string ca, std::string cert, std::string key) {
        auto o = bridge_options({cluster->url(server)}, {"chat.*"});
        o.tls = {.enabled = true,
                 .ca_file = std::move(ca),
                 .cert_file = std::move(cert),
                 .key_file = std::move(key)};
        return o;
    };
    Site a({{"a1", with(0, certs.ca(), certs.client_cert(), certs.client_key())}});
    Site b({{"b1", with(1, certs.ca(), certs.client_cert(), certs.client_key())}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(bridge_connected(b.node(0)));
    Listener far(b.node(0), "chat.*");
    Pod pod = a.node(0).connect();
    ASSERT_TRUE(warm_up(pod, "chat.line", *far.inbox));
    ASSERT_TRUE(pod.send(Message("chat.line", "over tls")).status().ok());
    EXPECT_TRUE(test::eventually(
        [&] { return !real_payloads(*far.inbox).empty() && real_payloads(*far.inbox).back() == "over tls"; },
        5s));
    // No client certificate, one from another CA, or servers checked against
    // another CA: never connected.
    Site no_cert({{"c1", with(0, certs.ca(), "", "")}});
    Site foreign_cert({{"d1", with(1, certs.ca(), certs.other_cert(), certs.other_key())}});
    Site wrong_ca({{"e1", with(0, certs.other_ca(), certs.client_cert(), certs.client_key())}});
    std::this_thread::sleep_for(1s);
    for (auto* site : {&no_cert, &foreign_cert, &wrong_ca}) {
        EXPECT_EQ(stat(site->node(0), "nats.connected"), 0u)
            << "a bridge the servers do not trust was let in";
    }
}

// docs/PROTOCOL.md, "NATS mapping": what a plain NATS client needs to know.
TEST(BridgeInterop, APlainNatsClientPublishesToAndReadsFromASite) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1);
    Site a({{"a1", bridge_options(cluster->urls(), {"chat.*"})}, {"a2"}});
    ASSERT_TRUE(bridge_connected(a.node(0)));
    auto client = connect_client({.urls = cluster->urls()});
    ASSERT_TRUE(client.connection) << client.error;
    natsConnection* nc = client.connection.get();

    // Reading: a grav message arrives with its payload as the body and its fields as headers.
    natsSubscription* raw_sub = nullptr;
    ASSERT_EQ(natsConnection_SubscribeSync(&raw_sub, nc, "grav.sites.msg.chat.>"), NATS_OK);
    std::unique_ptr<natsSubscription, void (*)(natsSubscription*)> sub(raw_sub, natsSubscription_Destroy);
    ASSERT_EQ(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
    Pod pod = a.node(1).connect();
    const std::string body("bytes\0and\xff more", 15);
    natsMsg* got = nullptr;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got == nullptr && std::chrono::steady_clock::now() < deadline) {
        ASSERT_TRUE(pod.send(Message("chat.line", body)).status().ok());
        natsSubscription_NextMsg(&got, sub.get(), 200);
    }
    ASSERT_NE(got, nullptr) << "nothing from the site on NATS";
    std::unique_ptr<natsMsg, void (*)(natsMsg*)> msg(got, natsMsg_Destroy);
    EXPECT_EQ(std::string(natsMsg_GetData(msg.get()), static_cast<std::size_t>(natsMsg_GetDataLength(msg.get()))),
              body);
    // The type is the subject's; the fields every message has are one header,
    // Grav: <id> <origin> <time> <bridge> <seq>.
    EXPECT_STREQ(natsMsg_GetSubject(msg.get()), "grav.sites.msg.chat.line");
    const char* value = nullptr;
    EXPECT_NE(natsMsgHeader_Get(msg.get(), "Grav-Type", &value), NATS_OK) << "the subject names the type";
    ASSERT_EQ(natsMsgHeader_Get(msg.get(), "Grav", &value), NATS_OK);
    std::istringstream in(value);
    const std::vector<std::string> fields{std::istream_iterator<std::string>(in),
                                          std::istream_iterator<std::string>()};
    ASSERT_EQ(fields.size(), 5u) << value;
    EXPECT_TRUE(MessageId::parse(fields[0]).has_value()) << fields[0];
    EXPECT_EQ(fields[1], a.node(1).node_id().str());
    const auto sent_ns = std::stoll(fields[2]);
    const auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    EXPECT_LT(std::llabs(now_ns - sent_ns), 60'000'000'000LL) << "time in ns since the Unix epoch";
    EXPECT_EQ(fields[3], a.node(0).node_id().str()) << "the bridge node";
    EXPECT_GE(std::stoull(fields[4]), 1u) << "its count on the subject";

    // Writing: a message with no headers at all reaches the site's pods, typed by its subject.
    Listener seen(a.node(1), "chat.*");
    ASSERT_TRUE(publish_until(
        nc, "grav.sites.msg.chat.hello", "plain ", [&] { return seen.inbox->size() > 0; }, 10s));
    const auto first = seen.inbox->messages().front();
    EXPECT_EQ(first.type(), "chat.hello");
    EXPECT_TRUE(first.payload_view().starts_with("plain "));

    // With headers: the Grav header may carry only its first fields (here the
    // id and the origin), and Grav-Type names the type where the subject does not.
    const MessageId id = MessageId::random();
    const NodeId origin = NodeId::random();
    const std::string grav = id.str() + " " + origin.str();
    natsMsg* raw_out = nullptr;
    ASSERT_EQ(natsMsg_Create(&raw_out, "grav.sites.msg.chat.hello", nullptr, "with headers", 12), NATS_OK);
    std::unique_ptr<natsMsg, void (*)(natsMsg*)> out(raw_out, natsMsg_Destroy);
    ASSERT_EQ(natsMsgHeader_Set(out.get(), "Grav", grav.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishMsg(nc, out.get()), NATS_OK);
    ASSERT_TRUE(test::eventually(
        [&] {
            for (const auto& m : seen.inbox->messages()) {
                if (m.id() == id) return true;
            }
            return false;
        },
        10s));
    for (const auto& m : seen.inbox->messages()) {
        if (m.id() != id) continue;
        EXPECT_EQ(m.origin(), origin);
        EXPECT_EQ(m.type(), "chat.hello");
        EXPECT_EQ(m.payload_view(), "with headers");
    }
}

}  // namespace
}  // namespace grav::natstest
