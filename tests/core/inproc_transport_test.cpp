// The in-process transport on its own, through the Transport interface and a
// recording TransportEvents: the hub tests rely on it behaving like a real
// network transport, so its contract is tested first.
#include "support/inproc_transport.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

namespace grav::test {
namespace {

// Records every callback (and which thread made it), admitting by group.
class Recorder : public TransportEvents {
public:
    explicit Recorder(std::string group = "*") : group_(std::move(group)) {}

    Status admit(const PeerInfo& peer) override {
        note_thread();
        if (!groups_match(group_, peer.belongs_to))
            return Error(Errc::rejected, "group '" + peer.belongs_to + "' is not '" + group_ + "'");
        return success();
    }
    void on_peer_joined(const PeerInfo& peer) override {
        note_thread();
        std::lock_guard lock(mutex_);
        joined_.push_back(peer);
    }
    void on_peer_left(const NodeId& peer, LeaveReason reason, std::string_view) override {
        note_thread();
        std::lock_guard lock(mutex_);
        left_.emplace_back(peer, reason);
    }
    void on_peer_refused(std::string_view endpoint, std::string_view reason) override {
        note_thread();
        std::lock_guard lock(mutex_);
        refused_.emplace_back(endpoint, reason);
    }
    void on_message(const NodeId& from, MessagePtr message) override {
        note_thread();
        std::lock_guard lock(mutex_);
        messages_.emplace_back(from, std::move(message));
    }

    std::vector<PeerInfo> joined() const {
        std::lock_guard l(mutex_);
        return joined_;
    }
    std::vector<std::pair<NodeId, LeaveReason>> left() const {
        std::lock_guard l(mutex_);
        return left_;
    }
    std::vector<std::pair<std::string, std::string>> refused() const {
        std::lock_guard l(mutex_);
        return refused_;
    }
    std::vector<std::pair<NodeId, MessagePtr>> messages() const {
        std::lock_guard l(mutex_);
        return messages_;
    }
    std::set<std::thread::id> threads() const {
        std::lock_guard l(mutex_);
        return threads_;
    }

private:
    void note_thread() {
        std::lock_guard lock(mutex_);
        threads_.insert(std::this_thread::get_id());
    }
    std::string group_;
    mutable std::mutex mutex_;
    std::vector<PeerInfo> joined_;
    std::vector<std::pair<NodeId, LeaveReason>> left_;
    std::vector<std::pair<std::string, std::string>> refused_;
    std::vector<std::pair<NodeId, MessagePtr>> messages_;
    std::set<std::thread::id> threads_;
};

struct Node {
    Node(const InprocNetwork& net, std::string name, std::string group = "*",
         std::vector<std::string> interests = {})
        : events(group), transport(net.make_transport()) {
        self.id = NodeId::random();
        self.name = std::move(name);
        self.belongs_to = std::move(group);
        self.interests = std::move(interests);
        EXPECT_TRUE(transport->start(self, events).ok());
    }
    LocalNode self;
    Recorder events;
    std::unique_ptr<InprocTransport> transport;
};

MessagePtr message(std::string type, std::string payload = "x") {
    return std::make_shared<const Message>(std::move(type), payload);
}

TEST(InprocTransport, HandshakeJoinsBothSidesWithTheirInfoOnTheirOwnThreads) {
    InprocNetwork net;
    Node a(net, "a", "*", {"calc"});
    Node b(net, "b", "*", {"store"});
    EXPECT_TRUE(a.transport->endpoint().starts_with("inproc-net://"));
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1 && b.events.joined().size() == 1; }));
    EXPECT_EQ(a.events.joined()[0].id, b.self.id);
    EXPECT_EQ(a.events.joined()[0].name, "b");
    EXPECT_EQ(a.events.joined()[0].interests, std::vector<std::string>{"store"});
    EXPECT_EQ(b.events.joined()[0].id, a.self.id);
    EXPECT_EQ(b.events.joined()[0].interests, std::vector<std::string>{"calc"});
    EXPECT_TRUE(a.transport->alive(b.self.id));
    EXPECT_TRUE(b.transport->alive(a.self.id));
    EXPECT_EQ(a.transport->stats().at("inproc.peers"), 1U);
    // Callbacks come from each transport's own single thread, never the caller's.
    EXPECT_EQ(a.events.threads().size(), 1U);
    EXPECT_EQ(b.events.threads().size(), 1U);
    EXPECT_EQ(a.events.threads().count(std::this_thread::get_id()), 0U);
    EXPECT_NE(*a.events.threads().begin(), *b.events.threads().begin());
}

TEST(InprocTransport, DuplicateDialsCollapseToOnePeer) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(b.transport->connect(a.transport->endpoint()).ok());
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() >= 1 && b.events.joined().size() >= 1; }));
    std::this_thread::sleep_for(50ms);
    EXPECT_EQ(a.events.joined().size(), 1U);
    EXPECT_EQ(b.events.joined().size(), 1U);
}

TEST(InprocTransport, RefusedAdmissionReportsToTheDiallerAndNobodyJoins) {
    InprocNetwork net;
    Node red(net, "red", "red");
    Node blue(net, "blue", "blue");
    ASSERT_TRUE(red.transport->connect(blue.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return red.events.refused().size() == 1; }));
    EXPECT_EQ(red.events.refused()[0].first, blue.transport->endpoint());
    EXPECT_NE(red.events.refused()[0].second.find("red"), std::string::npos)
        << red.events.refused()[0].second;
    std::this_thread::sleep_for(20ms);
    EXPECT_TRUE(red.events.joined().empty());
    EXPECT_TRUE(blue.events.joined().empty());
    EXPECT_FALSE(red.transport->alive(blue.self.id));
    EXPECT_EQ(red.transport->stats().at("inproc.refused"), 1U);
    EXPECT_EQ(blue.transport->stats().at("inproc.rejected"), 1U);
}

TEST(InprocTransport, DiallingNothingOrGarbageFailsWithAReason) {
    InprocNetwork net;
    Node a(net, "a");
    EXPECT_EQ(a.transport->connect("tcp://127.0.0.1:1").error().code(), Errc::invalid_argument);
    EXPECT_EQ(a.transport->connect("inproc-net://x").error().code(), Errc::invalid_argument);
    ASSERT_TRUE(a.transport->connect("inproc-net://999").ok());  // asynchronous: refused later
    ASSERT_TRUE(eventually([&] { return a.events.refused().size() == 1; }));
    EXPECT_EQ(a.events.refused()[0].first, "inproc-net://999");
}

TEST(InprocTransport, ContactDialChecksTheExpectedNode) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    ASSERT_TRUE(a.transport->connect(b.transport->contact(), NodeId::random()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.refused().size() == 1; }));
    EXPECT_TRUE(a.events.joined().empty());
    ASSERT_TRUE(a.transport->connect(b.transport->contact(), b.self.id).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1; }));
}

TEST(InprocTransport, PublishHonoursThePeersSubscriptions) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    Node c(net, "c");
    b.transport->subscribe({"chat."});
    c.transport->subscribe({""});
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(a.transport->connect(c.transport->endpoint()).ok());
    // The publisher must count both peers joined too, or a publish can reach only one.
    ASSERT_TRUE(eventually([&] {
        return a.events.joined().size() == 2 && b.events.joined().size() == 1 &&
               c.events.joined().size() == 1;
    }));
    // Subscriptions travel in the handshake: nothing published after the join is lost.
    EXPECT_TRUE(a.transport->peer_wants(b.self.id, "chat.line"));
    a.transport->publish(message("chat.line"));
    a.transport->publish(message("metrics.cpu"));
    ASSERT_TRUE(eventually([&] { return c.events.messages().size() == 2; }));
    ASSERT_TRUE(eventually([&] { return b.events.messages().size() == 1; }));
    EXPECT_EQ(b.events.messages()[0].first, a.self.id);
    EXPECT_EQ(b.events.messages()[0].second->type(), "chat.line");
    // The publisher counts on its own thread, after each hand-over: the
    // subscribers can hold their messages before a's counts are final.
    EXPECT_TRUE(eventually([&] {
        const auto stats = a.transport->stats();
        return stats.at("inproc.filtered") == 1U && stats.at("inproc.published") == 3U;
    })) << "filtered "
        << a.transport->stats().at("inproc.filtered") << ", published "
        << a.transport->stats().at("inproc.published") << " (want 1 and 3)";

    // A later subscribe reaches the peer.
    b.transport->subscribe({"metrics."});
    ASSERT_TRUE(eventually([&] { return a.transport->peer_wants(b.self.id, "metrics.cpu"); }));
    EXPECT_FALSE(a.transport->peer_wants(b.self.id, "chat.line"));
}

TEST(InprocTransport, SendToReachesOnePeerAndFailsWithAReasonOtherwise) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1; }));

    std::mutex mutex;
    std::vector<Status> results;
    auto done = [&](Status s) {
        std::lock_guard lock(mutex);
        results.push_back(std::move(s));
    };
    a.transport->send_to(b.self.id, message("reply"), done);
    a.transport->send_to(NodeId::random(), message("reply"), done);
    ASSERT_TRUE(eventually([&] {
        std::lock_guard l(mutex);
        return results.size() == 2;
    }));
    net.break_link(a.self.id, b.self.id);
    a.transport->send_to(b.self.id, message("reply"), done);
    ASSERT_TRUE(eventually([&] {
        std::lock_guard l(mutex);
        return results.size() == 3;
    }));
    EXPECT_TRUE(results[0].ok());
    ASSERT_FALSE(results[1].ok());
    EXPECT_EQ(results[1].error().code(), Errc::no_peer);
    EXPECT_FALSE(results[1].error().reason().empty());
    ASSERT_FALSE(results[2].ok());
    EXPECT_EQ(results[2].error().code(), Errc::transport_failed);
    ASSERT_TRUE(eventually([&] { return b.events.messages().size() == 1; }));
    EXPECT_EQ(a.transport->stats().at("inproc.send_failed"), 2U);
}

TEST(InprocTransport, StopTellsPeersAtOnceAndEndsCallbacks) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1 && b.events.joined().size() == 1; }));
    const auto t0 = std::chrono::steady_clock::now();
    b.transport->stop();
    ASSERT_TRUE(eventually([&] { return a.events.left().size() == 1; }, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_EQ(a.events.left()[0].first, b.self.id);
    EXPECT_EQ(a.events.left()[0].second, LeaveReason::withdrew);
    EXPECT_FALSE(a.transport->alive(b.self.id));
    b.transport->stop();  // idempotent

    // After stop: send_to still answers (closed), and no callback reaches b.
    std::atomic<bool> answered{false};
    b.transport->send_to(a.self.id, message("late"), [&](Status s) { answered = !s.ok(); });
    EXPECT_TRUE(answered);
    const auto b_calls = b.events.messages().size();
    a.transport->publish(message("late"));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(b.events.messages().size(), b_calls);
}

TEST(InprocTransport, APeerThatSubscribedToNothingGetsNothing) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");  // never calls subscribe: like a SUB socket with no subscription
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1; }));
    a.transport->publish(message("chat.line"));
    ASSERT_TRUE(eventually([&] { return a.transport->stats().at("inproc.filtered") == 1; }));
    EXPECT_TRUE(b.events.messages().empty());
}

TEST(InprocTransport, DropForgetsAPeerWithoutACallback) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    a.transport->subscribe({""});
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1 && b.events.joined().size() == 1; }));
    a.transport->drop(b.self.id);
    ASSERT_TRUE(eventually([&] { return !a.transport->alive(b.self.id); }));
    b.transport->publish(message("after.drop"));  // b still knows a; a ignores it now
    ASSERT_TRUE(eventually([&] { return a.transport->stats().at("inproc.dropped") == 1; }));
    EXPECT_TRUE(a.events.messages().empty());
    EXPECT_TRUE(a.events.left().empty());
}

TEST(InprocTransport, ManyMessagesArriveInOrderPerSender) {
    InprocNetwork net;
    Node a(net, "a");
    Node b(net, "b");
    b.transport->subscribe({""});
    ASSERT_TRUE(a.transport->connect(b.transport->endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.events.joined().size() == 1; }));
    const int n = static_cast<int>(scaled(20000, 100));
    for (int i = 0; i < n; ++i) a.transport->publish(message("seq", std::to_string(i)));
    ASSERT_TRUE(eventually([&] { return b.events.messages().size() == static_cast<std::size_t>(n); }));
    const auto got = b.events.messages();
    for (int i = 0; i < n; ++i)
        ASSERT_EQ(got[static_cast<std::size_t>(i)].second->payload_view(), std::to_string(i));
}

}  // namespace
}  // namespace grav::test
