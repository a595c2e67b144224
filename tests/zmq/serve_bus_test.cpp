// Through a Bus, with real sockets on 127.0.0.1: Receipt::wait_until runs
// the transport's loop while it waits (serve_test.cpp drives the transport
// alone), and what a waiting thread hands to a slow pod's full mailbox
// never makes it, or the thread it takes the loop from, wait for room
// (core/src/room_wait.hpp).
#include "test_node.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;
using Steady = std::chrono::steady_clock;

BusOptions bus_options() {
    BusOptions o;
    o.transport = zmq::transport(fast_options());
    return o;
}

std::uint64_t served_waits(const Bus& bus) { return bus.stats().network.at("zmq.served_waits"); }

// Receipt::wait_until serves, and a reply from a local pod (delivered on a
// worker, not by the loop) interrupts the serving waiter.

TEST(Serve, AReceiptWaitServesTheLoopForARemoteReply) {
    Bus a(bus_options()), b(bus_options());
    ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1 && b.peers().size() == 1; }, 10s));
    Pod echo = b.connect();
    Pod* echo_pod = &echo;
    const Status echo_handler = echo.on_type("t.ping", [echo_pod](const Message& m) {
        echo_pod->reply_to(m, Message("t.pong", m.payload_view()));
    });
    ASSERT_TRUE(echo_handler.ok()) << echo_handler.error().what();
    Pod caller = a.connect();
    // b must know that a pod there wants "t.ping" before a's first send.
    ASSERT_TRUE(eventually(
        [&] {
            auto r = caller.send(Message("t.ping", "probe")).wait_until(200ms);
            return r.ok();
        },
        10s));
    const auto before = served_waits(a);
    for (int i = 0; i < 20; ++i) {
        auto reply = caller.send(Message("t.ping", std::to_string(i))).wait_until(10s);
        ASSERT_TRUE(reply.ok()) << reply.error().what();
        EXPECT_EQ(reply->payload_view(), std::to_string(i));
    }
    EXPECT_GE(served_waits(a) - before, 20u);
}

TEST(Serve, ALocalReplyInterruptsAServingWaiter) {
    Bus a(bus_options()), b(bus_options());
    ASSERT_TRUE(b.connect_endpoint(a.endpoint()).ok());
    ASSERT_TRUE(eventually([&] { return a.peers().size() == 1; }, 10s));
    Pod echo = a.connect();  // same bus: its reply comes from a worker
    Pod* echo_pod = &echo;
    const Status echo_handler = echo.on_type("t.ping", [echo_pod](const Message& m) {
        std::this_thread::sleep_for(5ms);  // so the waiter is serving by then
        echo_pod->reply_to(m, Message("t.pong", m.payload_view()));
    });
    ASSERT_TRUE(echo_handler.ok()) << echo_handler.error().what();
    Pod caller = a.connect();
    const auto before = served_waits(a);
    const auto start = Steady::now();
    const int n = 20;
    for (int i = 0; i < n; ++i) {
        auto reply = caller.send(Message("t.ping", std::to_string(i))).wait_until(30s);
        ASSERT_TRUE(reply.ok()) << reply.error().what();
    }
    EXPECT_GE(served_waits(a) - before, static_cast<std::uint64_t>(n / 2));
    // Not interrupted, each wait would last until the loop's next timer
    // turn (up to a second): twenty would take ~10 s.
    EXPECT_LT(Steady::now() - start, 5s);
}

// A thread that serves while it waits may hold locks a pod's handler needs
// (here: it keeps a gate closed that the slow pod's handler waits on). What
// comes from peers for that pod's full mailbox must then go in past the
// capacity, whichever thread reads it: room would never come.
//
// Two buses: on a, `slow` (mailbox capacity 4) handles "t.news" while the
// gate is open; on b, `echo` answers "t.ping" with "t.pong", once `loaded`
// after publishing `news` "t.news" and seeing a count `reply_after`
// messages from peers.
struct SlowPodMesh {
    static constexpr std::size_t capacity = 4;
    static constexpr int news = 20;

    static BusOptions small_mailboxes() {
        BusOptions o = bus_options();
        o.mailbox_capacity = capacity;
        return o;
    }

    Bus a{small_mailboxes()};
    Bus b{bus_options()};
    std::atomic<bool> gate_closed{false};
    std::atomic<bool> loaded{false};
    std::atomic<std::uint64_t> reply_after{0};
    std::atomic<bool> reply_sent{false};
    std::atomic<bool> news_read{false};  // a read the news before the reply left (not the echo's timeout)
    std::atomic<int> news_handled{0};  // all "t.news", warm-up's too
    std::atomic<int> load_handled{0};  // those `loaded` pings made
    Pod slow = a.connect();
    Pod echo = b.connect();
    Pod warmup = b.connect();
    Pod caller = a.connect();

    // Started and quiet: the peers joined, each one's subscriptions reached
    // the other, and the messages of getting there all came in.
    [[nodiscard]] bool warm_up() {
        const Status slow_handler = slow.on_type("t.news", [this](const Message& m) {
            (void)eventually([&] { return !gate_closed; }, 60s);
            ++news_handled;
            if (m.payload_view() == "load") ++load_handled;
        });
        if (!slow_handler.ok()) return false;
        const Status echo_handler = echo.on_type("t.ping", [this](const Message& m) {
            if (loaded) {
                for (int i = 0; i < news; ++i) echo.send(Message("t.news", "load"));
                news_read = eventually([&] { return a.stats().received_from_peers >= reply_after; }, 10s);
            }
            echo.reply_to(m, Message("t.pong", ""));
            if (loaded) reply_sent = true;
        });
        if (!echo_handler.ok()) return false;
        if (!b.connect_endpoint(a.endpoint()).ok()) return false;
        if (!eventually([&] { return a.peers().size() == 1 && b.peers().size() == 1; }, 10s)) return false;
        const bool news_flow = eventually(
            [&] {
                warmup.send(Message("t.news", "warmup"));
                return news_handled > 0;
            },
            10s);
        if (!news_flow) return false;
        if (!eventually([&] { return caller.send(Message("t.ping", "")).wait_until(300ms).ok(); }, 10s)) {
            return false;
        }
        return eventually(
            [&] {
                const auto seen = a.stats().received_from_peers;
                std::this_thread::sleep_for(100ms);
                return a.stats().received_from_peers == seen;
            },
            5s);
    }
};

// The waiter serves from the start; the news may reach a while it takes the
// loop over, or once it leads.
TEST(Serve, AServingWaiterNeverWaitsForMailboxRoom) {
    SlowPodMesh mesh;
    ASSERT_TRUE(mesh.warm_up());
    // The reply leaves once all the news reached a (the waiter read them).
    mesh.reply_after = mesh.a.stats().received_from_peers + static_cast<std::uint64_t>(SlowPodMesh::news);
    mesh.loaded = true;
    std::atomic<bool> replied{false};
    mesh.gate_closed = true;
    std::thread waiter([&] { replied = mesh.caller.send(Message("t.ping", "")).wait_until(30s).ok(); });
    const bool finished = eventually([&] { return replied.load(); }, 20s);
    mesh.gate_closed = false;  // lets a waiter stuck on the full mailbox go, so the test ends
    waiter.join();
    EXPECT_TRUE(finished) << "the waiting thread blocked on the slow pod's full mailbox";
    // The reply leaves only once a read the news: a waiter that served the
    // loop but left the fan-out held for the full mailbox got it only at
    // the echo's 10 s timeout.
    EXPECT_TRUE(mesh.news_read)
        << "the serving waiter did not read the fan-out held back for the full mailbox";
    EXPECT_TRUE(eventually([&] { return mesh.load_handled == SlowPodMesh::news; }, 10s)) << mesh.load_handled;
}

// The transport thread reads the news while nobody waits until the slow
// pod's mailbox is full, and then holds the fan-out back (it stops reading
// its SUBs: TransportEvents::has_room) with the reply unread behind it. A
// waiter that comes then must get its reply all the same, while the slow
// pod still holds its gate: the reply's delivery goes in past the capacity
// once a waiter wants the loop (room_wait.hpp).
TEST(Serve, AWaiterTakesTheLoopFromATransportThreadWaitingForMailboxRoom) {
    SlowPodMesh mesh;
    ASSERT_TRUE(mesh.warm_up());
    // One news in the handler (at the gate), `capacity` queued: then the
    // mailbox is full, a reads no more news, and the reply leaves.
    mesh.reply_after = mesh.a.stats().received_from_peers + SlowPodMesh::capacity + 1;
    mesh.loaded = true;
    mesh.gate_closed = true;
    Receipt request = mesh.caller.send(Message("t.ping", ""));
    ASSERT_TRUE(eventually([&] { return mesh.reply_sent.load(); }, 10s));
    // Nobody else opens the gate before this wait ends, unless it hangs.
    std::atomic<bool> gate_opened_by_watchdog{false};
    std::atomic<bool> waited{false};
    std::thread watchdog([&] {
        if (!eventually([&] { return waited.load(); }, 20s)) {
            gate_opened_by_watchdog = true;
            mesh.gate_closed = false;
        }
    });
    const bool replied = request.wait_until(30s).ok();
    const bool gate_was_closed = mesh.gate_closed;
    waited = true;
    mesh.gate_closed = false;
    watchdog.join();
    EXPECT_TRUE(replied);
    EXPECT_TRUE(gate_was_closed && !gate_opened_by_watchdog)
        << "the waiter got the loop only once the slow pod made room";
    EXPECT_TRUE(eventually([&] { return mesh.load_handled == SlowPodMesh::news; }, 10s)) << mesh.load_handled;
}

}  // namespace
}  // namespace grav::ztest
