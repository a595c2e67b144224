// connect_with_replay: a late pod gets the bus's recent history, bounded,
// in order, when it sets its first handler, then live traffic.
#include <grav/grav.hpp>

#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace grav::test {
namespace {

TEST(Replay, ALatePodGetsTheHistoryInOrderThenLiveMessages) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    std::vector<std::string> expected;
    Bus bus;
    Pod sender = bus.connect();
    for (int i = 0; i < 10; ++i) sender.send(Message("hist", std::to_string(i)));
    Pod late = bus.connect_with_replay();
    late.on([&](const Message& m) { inbox.add(m); });
    ASSERT_TRUE(eventually([&] { return inbox.size() == 10; }));
    sender.send(Message("live", "10"));
    ASSERT_TRUE(eventually([&] { return inbox.size() == 11; }));
    for (int i = 0; i <= 10; ++i) expected.push_back(std::to_string(i));
    EXPECT_EQ(inbox.payloads(), expected);
}

TEST(Replay, APlainConnectGetsNoHistory) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    Bus bus;
    Pod sender = bus.connect();
    for (int i = 0; i < 5; ++i) sender.send(Message("hist"));
    Pod plain = bus.connect();
    plain.on([&](const Message& m) { inbox.add(m); });
    sender.send(Message("live"));
    ASSERT_TRUE(eventually([&] { return inbox.size() >= 1; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(inbox.types(), std::vector<std::string>{"live"});
}

TEST(Replay, HistoryIsBoundedToTheMostRecentMessages) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    std::vector<std::string> expected;
    BusOptions options;
    options.replay_capacity = 16;
    Bus bus(std::move(options));
    Pod sender = bus.connect();
    for (int i = 0; i < 100; ++i) sender.send(Message("hist", std::to_string(i)));
    Pod late = bus.connect_with_replay();
    late.on([&](const Message& m) { inbox.add(m); });
    ASSERT_TRUE(eventually([&] { return inbox.size() >= 16; }));
    std::this_thread::sleep_for(20ms);
    for (int i = 84; i < 100; ++i) expected.push_back(std::to_string(i));
    EXPECT_EQ(inbox.payloads(), expected);
}

TEST(Replay, TheReplayingPodDoesNotGetItsOwnMessagesBack) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    Bus bus;
    Pod other = bus.connect();
    other.send(Message("hist", "other"));
    Pod late = bus.connect_with_replay();
    late.send(Message("mine", "own"));  // before its first handler
    late.on([&](const Message& m) { inbox.add(m); });
    ASSERT_TRUE(eventually([&] { return inbox.size() >= 1; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(inbox.payloads(), std::vector<std::string>{"other"});
}

TEST(Replay, ZeroCapacityMeansNoHistory) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox inbox;
    BusOptions options;
    options.replay_capacity = 0;
    Bus bus(std::move(options));
    Pod sender = bus.connect();
    sender.send(Message("hist"));
    Pod late = bus.connect_with_replay();
    late.on([&](const Message& m) { inbox.add(m); });
    sender.send(Message("live"));
    ASSERT_TRUE(eventually([&] { return inbox.size() >= 1; }));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(inbox.types(), std::vector<std::string>{"live"});
}

}  // namespace
}  // namespace grav::test
