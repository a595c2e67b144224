// Durable mode (nats::Options::durable) on real JetStream-enabled
// nats-server processes: a site whose bridge was away gets what it missed,
// once and in order; a copy with the same Nats-Msg-Id reaches the pods once;
// NATS down at start: the bus starts and the stream is made when a server comes.
#include "nats_client.hpp"
#include "nats_cluster.hpp"
#include "sites.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace grav::natstest {
namespace {

#define SKIP_WITHOUT_NATS_SERVER() \
    if (!nats_server_binary()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)"

nats::Options durable_options(std::vector<std::string> servers, std::vector<std::string> types,
                              const std::string& consumer) {
    auto o = bridge_options(std::move(servers), std::move(types));
    o.durable.enabled = true;
    o.durable.consumer = consumer;
    o.durable.settle = 300ms;  // a lone node: its pods connect right after the bus starts
    return o;
}

std::unique_ptr<Site> lone_site(const std::string& name, const nats::Options& options) {
    return std::make_unique<Site>(std::vector<NodeSpec>{{name, options}});
}

bool stream_ready(Bus& bus, std::chrono::milliseconds timeout = 10s) {
    return test::eventually([&] { return stat(bus, "nats.stream_ready") == 1; }, timeout);
}

// Publishes a raw message on `subject` with a Nats-Msg-Id header, as any NATS client may.
void publish_with_id(natsConnection* nc, const std::string& subject, const std::string& body, const std::string& id) {
    natsMsg* raw = nullptr;
    ASSERT_EQ(natsMsg_Create(&raw, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())), NATS_OK);
    NatsPtr<natsMsg> msg(raw);
    ASSERT_EQ(natsMsgHeader_Set(msg.get(), "Nats-Msg-Id", id.c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_PublishMsg(nc, msg.get()), NATS_OK);
    ASSERT_EQ(natsConnection_FlushTimeout(nc, 2000), NATS_OK);
}

TEST(BridgeDurable, ABridgeStoppedWhileOthersPublishGetsWhatItMissedOnceAndInOrder) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1, {.jetstream = true});
    Site a({{"a1", durable_options(cluster->urls(), {"feed.*"}, "site-a")}});
    const auto b_options = durable_options(cluster->urls(), {"feed.*"}, "site-b");
    auto b = lone_site("b1", b_options);
    ASSERT_TRUE(bridge_connected(a.node(0)));
    ASSERT_TRUE(stream_ready(a.node(0)));
    auto far = std::make_unique<Listener>(b->node(0), "feed.*");
    Pod sender = a.node(0).connect();
    ASSERT_TRUE(warm_up(sender, "feed.tick", *far->inbox)) << "site B does not read the stream";
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(sender.send(Message("feed.tick", "before" + std::to_string(i))).status().ok());
    ASSERT_TRUE(test::eventually([&] { return real_payloads(*far->inbox).size() == 20; }, 10s));

    // Site B's only bridge goes away cleanly; site A goes on publishing.
    far.reset();
    b.reset();
    const int n = 300;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(sender.send(Message("feed.tick", std::to_string(i))).status().ok());
    EXPECT_EQ(stat(a.node(0), "nats.publish_failed"), 0u);

    // A new bus for site B, with the same consumer: exactly what it missed.
    b = lone_site("b1", b_options);
    Listener back(b->node(0), "feed.*");
    ASSERT_TRUE(test::eventually([&] { return back.inbox->size() >= static_cast<std::size_t>(n); }, 20s))
        << back.inbox->size() << " of " << n << " arrived";
    std::this_thread::sleep_for(500ms);  // room for a duplicate to show
    const auto got = back.inbox->payloads();
    ASSERT_EQ(got.size(), static_cast<std::size_t>(n)) << "duplicates, or messages from before the stop again";
    for (int i = 0; i < n; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i)) << "at " << i;
    EXPECT_EQ(stat(b->node(0), "nats.lost"), 0u);
    EXPECT_EQ(stat(b->node(0), "bridge.lost"), 0u);

    // And it goes on live.
    ASSERT_TRUE(sender.send(Message("feed.tick", "live")).status().ok());
    EXPECT_TRUE(test::eventually([&] { return back.inbox->size() == static_cast<std::size_t>(n) + 1; }, 10s));
}

// The stop comes in the middle of the traffic: what the first bus handed to
// its pods and what the second one does, together, are every message once.
TEST(BridgeDurable, ABridgeStoppedMidTrafficLosesAndRepeatsNothing) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1, {.jetstream = true});
    Site a({{"a1", durable_options(cluster->urls(), {"feed.*"}, "site-a")}});
    const auto b_options = durable_options(cluster->urls(), {"feed.*"}, "site-b");
    auto b = lone_site("b1", b_options);
    ASSERT_TRUE(stream_ready(a.node(0)));
    auto first = std::make_unique<Listener>(b->node(0), "feed.*");
    Pod sender = a.node(0).connect();
    ASSERT_TRUE(warm_up(sender, "feed.tick", *first->inbox));
    ASSERT_TRUE(sender.send(Message("feed.tick", "marker")).status().ok());
    ASSERT_TRUE(test::eventually([&] { return real_payloads(*first->inbox).size() == 1; }, 10s));

    const int n = 1500;
    std::atomic<int> sent{0};
    std::jthread publisher([&] {
        for (int i = 0; i < n; ++i) {
            (void)sender.send(Message("feed.tick", std::to_string(i)));
            sent = i + 1;
            std::this_thread::sleep_for(1ms);
        }
    });
    ASSERT_TRUE(test::eventually([&] { return sent.load() >= n / 3; }, 20s));
    b.reset();  // its pods go with it; what it acked, they had
    const auto before = real_payloads(*first->inbox);
    first.reset();
    b = lone_site("b1", b_options);
    Listener second(b->node(0), "feed.*");
    publisher.join();
    ASSERT_TRUE(test::eventually([&] { return before.size() - 1 + second.inbox->size() >= static_cast<std::size_t>(n); }, 20s))
        << before.size() - 1 << " before the stop, " << second.inbox->size() << " after";
    EXPECT_GT(second.inbox->size(), 0u) << "the stop was not in the middle of the traffic";
    std::this_thread::sleep_for(300ms);
    std::vector<std::string> all(before.begin() + 1, before.end());  // after the marker
    for (auto& p : second.inbox->payloads()) all.push_back(std::move(p));
    ASSERT_EQ(all.size(), static_cast<std::size_t>(n)) << before.size() - 1 << " before the stop, "
                                                       << second.inbox->size() << " after";
    for (int i = 0; i < n; ++i) ASSERT_EQ(all[static_cast<std::size_t>(i)], std::to_string(i)) << "at " << i;
    EXPECT_EQ(stat(b->node(0), "nats.lost"), 0u);
}

TEST(BridgeDurable, TheSameMessageIdTwiceReachesThePodsOnce) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1, {.jetstream = true});
    auto b = lone_site("b1", durable_options(cluster->urls(), {"chat.*"}, "site-b"));
    ASSERT_TRUE(stream_ready(b->node(0)));
    Listener seen(b->node(0), "chat.*");
    auto client = connect_client({.urls = cluster->urls()});
    ASSERT_TRUE(client.connection) << client.error;
    natsConnection* nc = client.connection.get();
    ASSERT_TRUE(publish_until(nc, "grav.sites.msg.chat.warm", "warm:", [&] { return seen.inbox->size() > 0; }, 15s))
        << "site B does not read the stream";

    // The same message twice (a publisher retrying, two bridges of a site both active for a moment).
    publish_with_id(nc, "grav.sites.msg.chat.line", "once", "dup-1");
    publish_with_id(nc, "grav.sites.msg.chat.line", "once", "dup-1");
    publish_with_id(nc, "grav.sites.msg.chat.line", "end", "end-1");
    ASSERT_TRUE(test::eventually([&] { auto p = real_payloads(*seen.inbox); return !p.empty() && p.back() == "end"; },
                                 10s));
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(real_payloads(*seen.inbox), (std::vector<std::string>{"once", "end"}));
}

TEST(BridgeDurable, NatsDownAtStartTheBusStartsAndTheStreamIsMadeWhenAServerComes) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1, {.jetstream = true});
    cluster->kill(0);
    auto options = durable_options(cluster->urls(), {"chat.*"}, "site-a");
    options.durable.max_age = std::chrono::seconds(600);
    options.durable.duplicate_window = std::chrono::seconds(30);
    Site a({{"a1", options}, {"a2"}});
    EXPECT_EQ(stat(a.node(0), "nats.connected"), 0u);
    EXPECT_EQ(stat(a.node(0), "nats.stream_ready"), 0u);
    Listener local(a.node(1), "chat.*");
    Pod pod = a.node(0).connect();
    ASSERT_TRUE(pod.send(Message("chat.line", "local")).status().ok());
    ASSERT_TRUE(test::eventually([&] { return local.inbox->size() == 1; }, 5s)) << "the site is not served";

    cluster->restart(0);
    ASSERT_TRUE(bridge_connected(a.node(0), 15s));
    ASSERT_TRUE(stream_ready(a.node(0), 15s));
    auto client = connect_client({.urls = cluster->urls()});
    ASSERT_TRUE(client.connection) << client.error;
    jsCtx* raw_js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&raw_js, client.connection.get(), nullptr), NATS_OK);
    NatsPtr<jsCtx> js(raw_js);
    jsStreamInfo* raw_info = nullptr;
    jsErrCode code{};
    ASSERT_EQ(js_GetStreamInfo(&raw_info, js.get(), "GRAV_sites", nullptr, &code), NATS_OK) << code;
    NatsPtr<jsStreamInfo> info(raw_info);
    ASSERT_EQ(info->Config->SubjectsLen, 1);
    EXPECT_STREQ(info->Config->Subjects[0], "grav.sites.msg.>");
    EXPECT_EQ(info->Config->MaxAge, std::chrono::nanoseconds(600s).count());
    EXPECT_EQ(info->Config->Duplicates, std::chrono::nanoseconds(30s).count());
    EXPECT_EQ(info->Config->Storage, js_FileStorage);

    // Messages now cross through it.
    auto b = lone_site("b1", durable_options(cluster->urls(), {"chat.*"}, "site-b"));
    Listener far(b->node(0), "chat.*");
    ASSERT_TRUE(warm_up(pod, "chat.line", *far.inbox)) << "nothing crossed through the stream";
}

TEST(BridgeDurable, WhatExpiredWhileASiteWasAwayIsReportedLost) {
    SKIP_WITHOUT_NATS_SERVER();
    auto cluster = NatsCluster::start(1, {.jetstream = true});
    auto a_options = durable_options(cluster->urls(), {"feed.*"}, "site-a");
    a_options.durable.max_age = std::chrono::seconds(1);
    a_options.durable.duplicate_window = std::chrono::seconds(1);
    Site a({{"a1", a_options}});
    auto b_options = a_options;
    b_options.durable.consumer = "site-b";
    auto b = lone_site("b1", b_options);
    ASSERT_TRUE(stream_ready(a.node(0)));
    auto far = std::make_unique<Listener>(b->node(0), "feed.*");
    Pod sender = a.node(0).connect();
    ASSERT_TRUE(warm_up(sender, "feed.tick", *far->inbox));
    ASSERT_TRUE(sender.send(Message("feed.tick", "marker")).status().ok());  // all before it handled too
    ASSERT_TRUE(test::eventually([&] { return real_payloads(*far->inbox).size() == 1; }, 10s));
    far.reset();
    b.reset();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(sender.send(Message("feed.tick", "gone" + std::to_string(i))).status().ok());
    std::this_thread::sleep_for(2500ms);  // past max_age: the stream removes them

    b = lone_site("b1", b_options);
    std::atomic<std::uint64_t> reported{0};
    b->node(0).on_peer([&](const PeerEvent& e) {
        if (e.kind == PeerEvent::Kind::lost_messages) reported += e.lost;
    });
    Listener back(b->node(0), "feed.*");
    std::this_thread::sleep_for(500ms);  // past the settle time: bound
    ASSERT_TRUE(sender.send(Message("feed.tick", "after")).status().ok());
    ASSERT_TRUE(test::eventually([&] { return back.inbox->size() == 1; }, 10s));
    EXPECT_EQ(back.inbox->payloads(), (std::vector<std::string>{"after"}));
    EXPECT_EQ(stat(b->node(0), "nats.lost"), 5u);
    EXPECT_TRUE(test::eventually([&] { return reported.load() == 5; }, 2s)) << reported.load();
}

}  // namespace
}  // namespace grav::natstest
