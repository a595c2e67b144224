// Grav's pod semantics: who receives what, type filters, wait_on/wait_until,
// disconnect. Ported from Grav's own tests plus what users rely on.
#include <grav/grav.hpp>

#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <cereal/types/string.hpp>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace grav::test {
namespace {

TEST(Pod, NeverReceivesItsOwnMessages) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox at_a, at_b;
    Bus bus;
    Pod a = bus.connect();
    Pod b = bus.connect();
    a.on([&](const Message& m) { at_a.add(m); });
    b.on([&](const Message& m) { at_b.add(m); });
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(a.send(Message("t", "from a")).status().ok());
    b.send(Message("t", "from b"));
    ASSERT_TRUE(eventually([&] { return at_b.size() == 10 && at_a.size() == 1; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(at_a.payloads(), std::vector<std::string>{"from b"});
    for (const auto& p : at_b.payloads()) EXPECT_EQ(p, "from a");
    EXPECT_EQ(at_b.size(), 10U);
}

TEST(Pod, SendStampsOriginWithTheBusNodeId) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    Bus bus;
    Pod a = bus.connect();
    Pod b = bus.connect();
    b.on([&](const Message& m) { inbox.add(m); });
    const Message sent("t", "x");
    const auto id = sent.id();
    auto receipt = a.send(sent);
    EXPECT_EQ(receipt.id(), id);
    ASSERT_TRUE(eventually([&] { return inbox.size() == 1; }));
    EXPECT_EQ(inbox.messages()[0].origin(), bus.node_id());
    EXPECT_EQ(inbox.messages()[0].id(), id);
}

TEST(Pod, OnTypeMatchesTheNatsGrammar) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox exact_in, one_in, rest_in, middle_in, all_in, single_in;
    Bus bus;
    Pod sender = bus.connect();
    Pod exact = bus.connect();
    Pod one = bus.connect();
    Pod rest = bus.connect();
    Pod middle = bus.connect();
    Pod all = bus.connect();
    Pod single = bus.connect();
    ASSERT_TRUE(exact.on_type("chat.line", [&](const Message& m) { exact_in.add(m); }).ok());
    ASSERT_TRUE(one.on_type("chat.*", [&](const Message& m) { one_in.add(m); }).ok());
    ASSERT_TRUE(rest.on_type("chat.>", [&](const Message& m) { rest_in.add(m); }).ok());
    ASSERT_TRUE(middle.on_type("a.*.c", [&](const Message& m) { middle_in.add(m); }).ok());
    ASSERT_TRUE(all.on_type(">", [&](const Message& m) { all_in.add(m); }).ok());
    ASSERT_TRUE(single.on_type("*", [&](const Message& m) { single_in.add(m); }).ok());
    const std::vector<std::string> types{"chat.line",   "chat.join",       "chat",  "chatty", "chatter.line",
                                         "metrics.cpu", "chat.line.extra", "a.b.c", "a.b.d",  "a.b.c.d"};
    for (const auto& type : types) sender.send(Message(type, type));
    ASSERT_TRUE(eventually([&] { return all_in.size() == types.size(); }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(all_in.types(), types);
    EXPECT_EQ(exact_in.types(), std::vector<std::string>{"chat.line"});
    EXPECT_EQ(one_in.types(), (std::vector<std::string>{"chat.line", "chat.join"}));
    EXPECT_EQ(rest_in.types(), (std::vector<std::string>{"chat.line", "chat.join", "chat.line.extra"}));
    EXPECT_EQ(middle_in.types(), std::vector<std::string>{"a.b.c"});
    EXPECT_EQ(single_in.types(), (std::vector<std::string>{"chat", "chatty"}));
}

TEST(Pod, OnTypeRefusesAPatternThatMatchesNothingAndKeepsTheHandler) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox kept;
    std::atomic<int> wrong{0};
    Bus bus;
    Pod sender = bus.connect();
    Pod pod = bus.connect();
    ASSERT_TRUE(pod.on_type("chat.line", [&](const Message& m) { kept.add(m); }).ok());
    for (const char* bad : {"chat*", "a..b", "a.>.b", "*x", "", ".chat", "chat.", "a b"}) {
        const Status s = pod.on_type(bad, [&](const Message&) { ++wrong; });
        ASSERT_FALSE(s.ok()) << "'" << bad << "' was accepted";
        EXPECT_EQ(s.error().code(), Errc::invalid_argument) << bad;
        EXPECT_NE(s.error().reason().find(std::string("'") + bad + "'"), std::string::npos)
            << s.error().reason();
    }
    // The old prefix form says what to write instead.
    const Status old_form = pod.on_type("chat*", [](const Message&) {});
    ASSERT_FALSE(old_form.ok());
    EXPECT_NE(old_form.error().reason().find("'chat.*'"), std::string::npos) << old_form.error().reason();
    EXPECT_NE(old_form.error().reason().find("'chat.>'"), std::string::npos) << old_form.error().reason();
    sender.send(Message("chat.line", "still here"));
    ASSERT_TRUE(eventually([&] { return kept.size() == 1; }));
    EXPECT_EQ(wrong.load(), 0);
}

TEST(Pod, OnTypeOfADisconnectedPodSaysSo) {
    Bus bus;
    Pod pod = bus.connect();
    pod.disconnect();
    const Status s = pod.on_type("chat.line", [](const Message&) {});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Errc::disconnected);
}

TEST(Pod, OnReplacesTheHandler) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> first{0}, second{0};
    Bus bus;
    Pod sender = bus.connect();
    Pod pod = bus.connect();
    pod.on([&](const Message&) { ++first; });
    sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return first == 1; }));
    pod.on([&](const Message&) { ++second; });
    sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return second == 1; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(first, 1);
}

struct Reading {
    std::string sensor;
    double value = 0;
    template <class A>
    void serialize(A& ar) { ar(sensor, value); }
};

TEST(Pod, TypedPayloadsCrossTheBus) {
    // State the handlers touch, declared first so it outlives every pod.
    std::mutex mutex;
    std::optional<Reading> got;
    std::optional<Errc> bad;
    Bus bus;
    Pod a = bus.connect();
    Pod b = bus.connect();
    const Status b_handler = b.on_type("reading", [&](const Message& m) {
        auto r = m.as<Reading>();
        std::lock_guard lock(mutex);
        if (r)
            got = *r;
        else
            bad = r.error().code();
    });
    ASSERT_TRUE(b_handler.ok()) << b_handler.error().what();
    a.send(Message::of("reading", Reading{"t1", 21.5}));
    a.send(Message("reading", "?"));
    ASSERT_TRUE(eventually([&] { std::lock_guard l(mutex); return got.has_value() && bad.has_value(); }));
    EXPECT_EQ(got->sensor, "t1");
    EXPECT_DOUBLE_EQ(got->value, 21.5);
    EXPECT_EQ(*bad, Errc::decode_failed);
}

// A pod that only sends never sets a handler; its mailbox must not fill up
// and block the senders (default policy: block).
TEST(Pod, PodsWithoutHandlersDoNotBlockSenders) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<bool> done{false};
    BusOptions options;
    options.mailbox_capacity = 16;
    Bus bus(std::move(options));
    Pod quiet = bus.connect();
    Pod sender = bus.connect();
    std::thread t([&] {
        for (int i = 0; i < 1000; ++i) sender.send(Message("t"));
        done = true;
    });
    const bool finished = eventually([&] { return done.load(); }, 10s);
    if (!finished) quiet.disconnect();  // unblock the sender so the test ends
    t.join();
    EXPECT_TRUE(finished) << "1000 sends blocked on pods that set no handler (mailbox 16)";
}

// ---------------------------------------------------------------- wait_on

// Keeps sending noise and the wanted message until the waiter is done: the
// waiter may not be waiting yet when the first ones go out.
class Nagger {
public:
    Nagger(Pod& pod, std::string wanted_type) : thread_([this, &pod, t = std::move(wanted_type)] {
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        while (!stop_ && std::chrono::steady_clock::now() < deadline) {
            pod.send(Message("noise", "n"));
            pod.send(Message(t, "w"));
            std::this_thread::sleep_for(2ms);
        }
    }) {}
    ~Nagger() {
        stop_ = true;
        thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

TEST(Pod, WaitOnReturnsOnTheWantedMessage) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> noise{0};
    std::optional<Message> wanted;
    Bus bus;
    Pod waiter = bus.connect();
    Pod sender = bus.connect();
    Status s = success();
    {
        Nagger nag(sender, "wanted");
        s = waiter.wait_until(10s, [&](const Message& m) -> Status {
            if (m.type() != "wanted") {
                ++noise;
                return not_wanted();
            }
            wanted = m;
            return success();
        });
    }
    ASSERT_TRUE(s.ok()) << s.error().what();
    ASSERT_TRUE(wanted.has_value());
    EXPECT_EQ(wanted->type(), "wanted");
}

TEST(Pod, WaitOnPropagatesTheHandlersError) {
    Bus bus;
    Pod waiter = bus.connect();
    Pod sender = bus.connect();
    Status s = success();
    {
        Nagger nag(sender, "bad");
        s = waiter.wait_on([&](const Message& m) -> Status {
            if (m.type() != "bad") return not_wanted();
            return Error(Errc::handler_failed, "bad news");
        });
    }
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Errc::handler_failed);
    EXPECT_EQ(s.error().reason(), "bad news");
}

TEST(Pod, WaitUntilTimesOut) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> calls{0};
    Bus bus;
    Pod waiter = bus.connect();
    Pod sender = bus.connect();
    const auto t0 = std::chrono::steady_clock::now();
    std::thread noise([&] {
        for (int i = 0; i < 10; ++i) {
            sender.send(Message("noise"));
            std::this_thread::sleep_for(5ms);
        }
    });
    Status s = waiter.wait_until(150ms, [&](const Message&) -> Status {
        ++calls;
        return not_wanted();
    });
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    noise.join();
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code(), Errc::timeout);
    EXPECT_GE(elapsed, 150ms);
    EXPECT_LT(elapsed, 3s);
}

TEST(Pod, WaitOnRestoresTheHandlerAfterwards) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> normal{0};
    Bus bus;
    Pod pod = bus.connect();
    Pod sender = bus.connect();
    ASSERT_TRUE(pod.on_type("normal", [&](const Message&) { ++normal; }).ok());
    {
        Nagger nag(sender, "wanted");
        ASSERT_TRUE(pod.wait_until(10s, [](const Message& m) -> Status {
                           return m.type() == "wanted" ? success() : Status(not_wanted());
                       }).ok());
    }
    const int before = normal;
    sender.send(Message("normal"));
    ASSERT_TRUE(eventually([&] { return normal == before + 1; }));
}

TEST(Pod, WaitOnADisconnectedPodFailsAtOnce) {
    Bus bus;
    Pod pod = bus.connect();
    pod.disconnect();
    const auto t0 = std::chrono::steady_clock::now();
    Status s = pod.wait_until(5s, [](const Message&) { return success(); });
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().code(), Errc::timeout);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

// ------------------------------------------------------------- disconnect

TEST(Pod, DisconnectStopsDeliveryAndIsObservable) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> calls{0};
    std::atomic<int> callbacks{0};
    std::atomic<int> reason_seen{-1};
    Bus bus;
    Pod sender = bus.connect();
    Pod pod = bus.connect();
    pod.on([&](const Message&) { ++calls; });
    pod.on_disconnect([&](DisconnectReason r) {
        reason_seen = static_cast<int>(r);
        ++callbacks;
    });
    EXPECT_TRUE(pod.connected());
    EXPECT_EQ(bus.stats().pods, 2U);
    sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return calls == 1; }));
    pod.disconnect();
    pod.disconnect();  // idempotent
    EXPECT_FALSE(pod.connected());
    EXPECT_EQ(pod.disconnect_reason(), DisconnectReason::by_user);
    ASSERT_TRUE(eventually([&] { return callbacks == 1; }));
    EXPECT_EQ(reason_seen, static_cast<int>(DisconnectReason::by_user));
    EXPECT_EQ(bus.stats().pods, 1U);
    sender.send(Message("t"));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(callbacks, 1);
    // A disconnected pod's sends fail with a reason instead of vanishing.
    auto r = pod.send(Message("t"));
    ASSERT_FALSE(r.status().ok());
    EXPECT_EQ(r.status().error().code(), Errc::disconnected);
}

TEST(Pod, DestructionDisconnects) {
    Bus bus;
    Pod sender = bus.connect();
    {
        Pod temporary = bus.connect();
        temporary.on([](const Message&) {});
        EXPECT_EQ(bus.stats().pods, 2U);
    }
    EXPECT_EQ(bus.stats().pods, 1U);
    sender.send(Message("t"));  // nobody left to receive it: no crash
}

TEST(Pod, DisconnectFromInsideItsOwnHandlerReturns) {
    // State the handlers touch, declared first so it outlives every pod.
    Gate gate;
    std::atomic<int> calls{0};
    BusOptions options;
    options.workers = 1;
    Bus bus(std::move(options));
    // Hold the only worker so that all five messages are queued before the
    // pod's first handler call: what is already queued must not run either.
    Pod blocker = bus.connect();
    ASSERT_TRUE(blocker.on_type("block", [&](const Message&) { gate.wait(10s); }).ok());
    Pod sender = bus.connect();
    Pod pod = bus.connect();
    const Status pod_handler = pod.on_type("t", [&](const Message&) {
        ++calls;
        pod.disconnect();
    });
    ASSERT_TRUE(pod_handler.ok()) << pod_handler.error().what();
    sender.send(Message("block"));
    for (int i = 0; i < 5; ++i) sender.send(Message("t"));
    gate.open();
    ASSERT_TRUE(eventually([&] { return !pod.connected(); }));
    ASSERT_TRUE(eventually([&] { return pod.stats().dropped == 4; }))
        << "the 4 messages queued at disconnect must be counted as dropped, got " << pod.stats().dropped;
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(calls, 1) << "the handler ran after its pod disconnected";
}

TEST(Pod, MovedPodKeepsItsConnection) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    Bus bus;
    Pod sender = bus.connect();
    Pod original = bus.connect();
    const auto id = original.id();
    original.on([&](const Message& m) { inbox.add(m); });
    Pod moved = std::move(original);
    EXPECT_EQ(moved.id(), id);
    sender.send(Message("t"));
    ASSERT_TRUE(eventually([&] { return inbox.size() == 1; }));
    EXPECT_EQ(bus.stats().pods, 2U);
}

}  // namespace
}  // namespace grav::test
