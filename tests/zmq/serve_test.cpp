// A thread that waits for a reply runs the transport's loop meanwhile
// (Transport::serve_until, zmq_transport/src/node_lead.cpp), with real
// sockets on 127.0.0.1: the reply is read on the waiting thread, everything
// else the loop does goes on (other peers' traffic, other threads' sends,
// timers), one thread leads at a time, and stop() ends a served wait.
// Through a Bus: serve_bus_test.cpp.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>

#include <zmq.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
using Steady = std::chrono::steady_clock;

std::uint64_t stat(const TestNode& node, const std::string& name) { return node.transport->stats().at(name); }

// b answers every "t.ping" with a "t.pong" to its origin, from its own thread,
// once `ready()` says so (a test holds a reply back that way).
void echo_pings(TestNode& b, std::function<bool()> ready = {}) {
    b.events.on_message_fn = [&b, ready = std::move(ready)](const Message& m) {
        if (m.type() != "t.ping") return;
        if (ready) (void)eventually(ready, 20s);
        b.transport->send_to(m.origin(), make("t.pong", std::string(m.payload_view()), b.id()), nullptr);
    };
}

// What reaches a: pongs (and the thread each was delivered on), and
// "t.news" (and how many of them the thread that called watch() read).
struct Arrivals {
    std::atomic<int> pongs{0};
    std::atomic<int> news{0};
    std::atomic<int> news_on_watcher{0};
    std::mutex mutex;
    std::vector<std::thread::id> pong_threads;

    void watch(TestNode& a) {
        a.events.on_message_fn = [this, watcher = std::this_thread::get_id()](const Message& m) {
            const auto here = std::this_thread::get_id();
            if (m.type() == "t.news") {
                ++news;
                if (here == watcher) ++news_on_watcher;
            }
            if (m.type() != "t.pong") return;
            {
                std::lock_guard lock(mutex);
                pong_threads.push_back(here);
            }
            ++pongs;
        };
    }
    std::thread::id thread_of(std::size_t i) {
        std::lock_guard lock(mutex);
        return pong_threads.at(i);
    }
};

TEST(Serve, AWaitersReplyIsReadOnItsOwnThread) {
    TestNode a("a"), b("b");
    Arrivals at_a;
    at_a.watch(a);
    // Each pong leaves b once a's waiter serves (else the transport thread
    // could read it while the lead is still being handed over).
    std::atomic<std::uint64_t> serving_from{1};
    echo_pings(b, [&] { return a.transport->stats().at("zmq.served_waits") >= serving_from; });
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const int n = 20;
    for (int i = 0; i < n; ++i) {
        serving_from = static_cast<std::uint64_t>(i + 1);
        a.transport->send_to(b.id(), make("t.ping", std::to_string(i), a.id()), nullptr);
        const bool replied =
            a.transport->serve_until([&] { return at_a.pongs == i + 1; }, Steady::now() + 10s);
        ASSERT_TRUE(replied) << "request " << i;
        EXPECT_EQ(at_a.thread_of(static_cast<std::size_t>(i)), std::this_thread::get_id()) << "request " << i;
    }
    EXPECT_EQ(stat(a, "zmq.served_waits"), static_cast<std::uint64_t>(n));
    EXPECT_LE(stat(a, "zmq.served_wakeups"), static_cast<std::uint64_t>(n));
}

TEST(Serve, OneThreadServesAtATimeTheOtherWaitsItsOwnWay) {
    TestNode a("a"), b("b");
    Arrivals at_a;
    at_a.watch(a);
    std::atomic<bool> release{false};
    echo_pings(b, [&] { return release.load(); });
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    a.transport->send_to(b.id(), make("t.ping", "1", a.id()), nullptr);
    std::atomic<bool> first_served{false};
    std::thread first([&] {
        first_served = a.transport->serve_until([&] { return at_a.pongs == 1; }, Steady::now() + 20s);
    });
    const bool leading = eventually([&] { return stat(a, "zmq.served_waits") == 1; }, 10s);
    EXPECT_TRUE(leading);
    if (leading) {
        // While `first` leads, a second waiter is told no at once (not after its deadline).
        const auto asked = Steady::now();
        EXPECT_FALSE(a.transport->serve_until([] { return false; }, Steady::now() + 30s));
        EXPECT_LT(Steady::now() - asked, 10s);
    }
    release = true;
    first.join();
    EXPECT_TRUE(first_served);
    EXPECT_EQ(stat(a, "zmq.served_waits"), 1u);
}

TEST(Serve, OtherPeersTrafficAndOtherThreadsSendsFlowWhileAThreadServes) {
    TestNode a("a"), b("b"), c("c");
    Arrivals at_a;  // c's news and b's pong; this thread serves
    at_a.watch(a);
    const int news = 200, directs = 50;
    std::atomic<int> directs_at_b{0};
    // b answers the ping only once c's news reached a and a's other
    // thread's direct messages reached b: all of it while a's main thread
    // serves the loop, waiting for that answer.
    b.events.on_message_fn = [&](const Message& m) {
        if (m.type() == "t.direct") ++directs_at_b;
        if (m.type() != "t.ping") return;
        std::thread([&, origin = m.origin()] {
            (void)eventually([&] { return at_a.news == news && directs_at_b == directs; }, 20s);
            b.transport->send_to(origin, make("t.pong", "", b.id()), nullptr);
        }).detach();
    };
    ASSERT_TRUE(a.start().ok() && b.start().ok() && c.start().ok());
    join(a, b);
    join(a, c);
    a.transport->send_to(b.id(), make("t.ping", "", a.id()), nullptr);
    std::thread others([&] {
        (void)eventually([&] { return stat(a, "zmq.served_waits") == 1; }, 10s);
        for (int i = 0; i < news; ++i) c.transport->publish(make("t.news", std::to_string(i), c.id()));
        for (int i = 0; i < directs; ++i) {
            a.transport->send_to(b.id(), make("t.direct", std::to_string(i), a.id()), nullptr);
        }
    });
    const bool replied = a.transport->serve_until([&] { return at_a.pongs == 1; }, Steady::now() + 30s);
    others.join();
    ASSERT_TRUE(replied) << at_a.news << " of " << news << " news at a, " << directs_at_b << " of " << directs
                         << " directs at b";
    EXPECT_EQ(at_a.news, news);
    EXPECT_EQ(at_a.news_on_watcher, news) << "c's news was read by the serving thread";
    EXPECT_EQ(directs_at_b, directs);
    EXPECT_EQ(stat(a, "zmq.served_waits"), 1u);
    EXPECT_EQ(stat(b, "zmq.gaps"), 0u);
    EXPECT_EQ(stat(a, "zmq.gaps"), 0u);
}

TEST(Serve, TimersRunWhileAThreadServes) {
    // A dial that no node answers is retried when its handshake deadline
    // passes, a timer's work, and logged on the loop's thread.
    auto options = fast_options();
    options.handshake_timeout = 300ms;
    std::atomic<bool> retried{false};
    std::atomic<std::thread::id> logged_on{};
    options.log = [&](std::string_view line) {
        if (line.find("no answer from") == std::string_view::npos) return;
        logged_on = std::this_thread::get_id();
        retried = true;
    };
    TestNode a("a", options);
    ASSERT_TRUE(a.start().ok());
    ::zmq::context_t ctx;
    ::zmq::socket_t mute(ctx, ::zmq::socket_type::router);  // accepts the dial, never answers
    mute.set(::zmq::sockopt::linger, 0);
    mute.bind("tcp://127.0.0.1:0");
    std::thread dialer([&] {
        (void)eventually([&] { return stat(a, "zmq.served_waits") == 1; }, 10s);
        EXPECT_TRUE(a.transport->connect(mute.get(::zmq::sockopt::last_endpoint)).ok());
    });
    const bool served = a.transport->serve_until([&] { return retried.load(); }, Steady::now() + 20s);
    dialer.join();
    ASSERT_TRUE(served);
    EXPECT_EQ(logged_on.load(), std::this_thread::get_id());
    EXPECT_EQ(stat(a, "zmq.served_waits"), 1u);
}

TEST(Serve, StopEndsAServedWait) {
    TestNode a("a");
    ASSERT_TRUE(a.start().ok());
    std::atomic<bool> served{true};
    // Right after start(): the transport's thread may not have begun yet.
    std::thread waiter([&] { served = a.transport->serve_until([] { return false; }, Steady::now() + 60s); });
    const bool serving = eventually([&] { return stat(a, "zmq.served_waits") == 1; }, 10s);
    const auto stopping = Steady::now();
    a.transport->stop();
    waiter.join();
    EXPECT_TRUE(serving);
    EXPECT_FALSE(served);
    EXPECT_LT(Steady::now() - stopping, 30s) << "stop() waited for the served wait's deadline";
    // Stopped: nothing to serve, and no hang.
    EXPECT_FALSE(a.transport->serve_until([] { return false; }, Steady::now() + 60s));
}

// After a served wait the transport thread stays parked a moment for the
// next waiter (tuning::park_linger), then takes the loop back: input that
// comes then still arrives, read by the transport thread, and stop() right
// after a served wait does not hang.
TEST(Serve, AfterAServedWaitTheTransportThreadTakesTheLoopBack) {
    TestNode a("a"), b("b");
    Arrivals at_a;  // this thread waits
    at_a.watch(a);
    echo_pings(b);
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    for (int round = 1; round <= 5; ++round) {
        a.transport->send_to(b.id(), make("t.ping", "", a.id()), nullptr);
        ASSERT_TRUE(a.transport->serve_until([&] { return at_a.pongs == round; }, Steady::now() + 10s));
        // Nobody serves now: b's news must still get through.
        for (int i = 0; i < 10; ++i) b.transport->publish(make("t.news", std::to_string(i), b.id()));
        ASSERT_TRUE(eventually([&] { return at_a.news == 10 * round; }, 10s))
            << at_a.news << " news after round " << round;
    }
    EXPECT_EQ(at_a.news_on_watcher, 0) << "the news came while nobody served: the transport thread read them";
    a.transport->send_to(b.id(), make("t.ping", "", a.id()), nullptr);
    ASSERT_TRUE(a.transport->serve_until([&] { return at_a.pongs == 6; }, Steady::now() + 10s));
    const auto stopping = Steady::now();
    a.transport->stop();  // the transport thread is parked now
    EXPECT_LT(Steady::now() - stopping, 10s);
}

TEST(Serve, TheTransportsOwnThreadDoesNotServe) {
    TestNode a("a"), b("b");
    std::atomic<int> answers{0};
    b.events.on_message_fn = [&](const Message&) {
        // Inside a callback, on the loop's thread: no nested loop.
        if (!b.transport->serve_until([] { return false; }, Steady::now() + 30s)) ++answers;
    };
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    a.transport->send_to(b.id(), make("t.ping", "", a.id()), nullptr);
    EXPECT_TRUE(eventually([&] { return answers == 1; }, 10s));
}

}  // namespace
}  // namespace grav::ztest
