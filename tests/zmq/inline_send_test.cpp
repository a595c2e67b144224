// Sends done on the calling thread while the transport thread sleeps
// (zmq_transport/src/node_inline.cpp), through the transport's interface
// with real sockets on 127.0.0.1: they happen, they keep every sender's
// order when mixed with queued sends, and a burst is still queued.
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

TEST(InlineSend, AnIdleSendersMessagesGoOutOnItsOwnThread) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const auto before = a.transport->stats().at("zmq.sent_inline");
    const int n = 40;
    std::atomic<int> done_ok{0}, done_here{0};
    const auto here = std::this_thread::get_id();
    for (int i = 0; i < n; ++i) {
        // One at a time, each once the last has arrived: the sender finds
        // the transport thread asleep.
        a.transport->send_to(b.id(), make("t.direct", std::to_string(i), a.id()), [&](Status s) {
            if (s.ok()) ++done_ok;
            if (std::this_thread::get_id() == here) ++done_here;
        });
        ASSERT_TRUE(
            eventually([&] { return b.events.message_count() == static_cast<std::size_t>(2 * i + 1); }, 5s));
        std::this_thread::sleep_for(1ms);  // a pause: not a burst
        a.transport->publish(make("t.fanout", std::to_string(i), a.id()));
        ASSERT_TRUE(
            eventually([&] { return b.events.message_count() == static_cast<std::size_t>(2 * i + 2); }, 5s));
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(eventually([&] { return done_ok == n; }, 5s)) << done_ok << " of " << n << " confirmed";
    const auto sa = a.transport->stats();
    const auto inline_sends = sa.at("zmq.sent_inline") - before;
    // Nearly all; a few may meet the transport thread awake (its timers).
    EXPECT_GE(inline_sends, static_cast<std::uint64_t>(n));
    EXPECT_GE(done_here.load(), n / 2) << "the confirmations of inline sends come on the sending thread";
    int direct = 0, fanout = 0;
    for (const auto& r : b.events.messages()) {
        if (r.message->type() == "t.direct") {
            EXPECT_EQ(r.message->payload_view(), std::to_string(direct++));
        } else {
            EXPECT_EQ(r.message->payload_view(), std::to_string(fanout++));
        }
    }
    EXPECT_EQ(direct, n);
    EXPECT_EQ(fanout, n);
    const auto sb = b.transport->stats();
    EXPECT_EQ(sb.at("zmq.gaps"), 0u);
    EXPECT_EQ(sb.at("zmq.duplicates"), 0u);
}

// A published message is freed on the thread that made it, whether it went
// out inline or queued and batched by the transport thread: the Inbox
// encodes it on the publisher's thread and keeps no reference
// (fanout_queue.hpp: freed across threads, messages cost the publisher
// several times as much).
TEST(InlineSend, PublishesAreFreedOnThePublishingThreadInlineOrQueued) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    std::mutex mutex;
    std::vector<std::thread::id> freed_on;
    const auto tracked = [&](const std::string& payload) {
        auto owned = std::make_unique<const Message>(*make("t.freed", payload, a.id()));
        return MessagePtr(owned.release(), [&](const Message* m) {
            {
                std::lock_guard lock(mutex);
                freed_on.push_back(std::this_thread::get_id());
            }
            std::default_delete<const Message>()(m);
        });
    };
    const std::size_t paced = 10, burst = 200;
    for (std::size_t i = 0; i < paced; ++i) {
        a.transport->publish(tracked("paced"));  // alone: inline
        std::this_thread::sleep_for(2ms);
    }
    for (std::size_t i = 0; i < burst; ++i) a.transport->publish(tracked("burst"));  // queued
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == paced + burst; }, 10s));
    std::lock_guard lock(mutex);
    ASSERT_EQ(freed_on.size(), paced + burst);
    const auto here = std::this_thread::get_id();
    for (const auto& t : freed_on) EXPECT_EQ(t, here);
    const auto sa = a.transport->stats();
    EXPECT_LT(sa.at("zmq.batches_sent"), sa.at("zmq.published")) << "the burst went out in batches";
}

// Several threads send at once, in bursts with pauses, so that some of each
// thread's messages go inline and some are queued (when the transport
// thread is awake, another sender holds the lock, or a publish follows the
// last within the burst gap). Each thread's order must hold across the two.
TEST(InlineSend, ConcurrentSendersKeepTheirOrderWhetherSentInlineOrQueued) {
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const int per_thread = static_cast<int>(grav::test::scaled(3000, 300));
    const int direct_threads = 3, publish_threads = 2;
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < direct_threads + publish_threads; ++t) {
        threads.emplace_back([&, t] {
            const bool direct = t < direct_threads;
            const std::string type = direct ? "t.direct" : "t.fanout" + std::to_string(t);
            for (int i = 0; i < per_thread; ++i) {
                auto m = make(type, std::to_string(t) + ":" + std::to_string(i), a.id());
                if (direct) {
                    a.transport->send_to(b.id(), std::move(m), [&](Status s) {
                        if (!s.ok()) ++failed;
                    });
                } else {
                    a.transport->publish(std::move(m));
                }
                if (i % 20 == 19) std::this_thread::sleep_for(200us);
            }
        });
    }
    for (auto& t : threads) t.join();
    const std::size_t total = static_cast<std::size_t>(per_thread) * (direct_threads + publish_threads);
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == total; }, 30s))
        << b.events.message_count() << " of " << total;
    EXPECT_EQ(failed.load(), 0);
    std::map<int, int> next;  // sending thread -> next number expected
    for (const auto& r : b.events.messages()) {
        const std::string payload(r.message->payload_view());
        const auto colon = payload.find(':');
        ASSERT_NE(colon, std::string::npos) << payload;
        const int t = std::stoi(payload.substr(0, colon));
        ASSERT_EQ(std::stoi(payload.substr(colon + 1)), next[t]) << "thread " << t << " out of order";
        ++next[t];
    }
    const auto sa = a.transport->stats();
    const auto sb = b.transport->stats();
    EXPECT_EQ(sb.at("zmq.gaps"), 0u);
    EXPECT_EQ(sb.at("zmq.duplicates"), 0u);
    EXPECT_EQ(sb.at("zmq.lost"), 0u);
    // Both ways were taken.
    EXPECT_GT(sa.at("zmq.sent_inline"), 0u);
    EXPECT_GT(sa.at("zmq.messages_sent"), sa.at("zmq.sent_inline"));
}

// The confirmation of an inline send runs once the transport is free
// again, so it may send the next message itself (as a tunnel's failover
// does) without deadlock or reordering.
TEST(InlineSend, AConfirmationMaySendTheNextMessage) {
    // Declared before the nodes, so it outlives their transport threads: the
    // last confirmation may still be returning through it when the last
    // message has arrived (TSan saw it destroyed under a running callback).
    std::function<void(int)> send_from;
    TestNode a("a"), b("b");
    ASSERT_TRUE(a.start().ok() && b.start().ok());
    join(a, b);
    const int n = 20;
    send_from = [&](int i) {
        a.transport->send_to(b.id(), make("t.chain", std::to_string(i), a.id()), [&, i](Status s) {
            if (s.ok() && i + 1 < n) send_from(i + 1);
        });
    };
    send_from(0);
    ASSERT_TRUE(eventually([&] { return b.events.message_count() == static_cast<std::size_t>(n); }, 10s))
        << b.events.message_count() << " of " << n;
    int i = 0;
    for (const auto& r : b.events.messages()) EXPECT_EQ(r.message->payload_view(), std::to_string(i++));
}

}  // namespace
}  // namespace grav::ztest
