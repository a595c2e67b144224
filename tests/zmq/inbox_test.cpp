// The Inbox between other threads and the transport thread, alone (no
// sockets): publishes arrive in order, and sent publishes handed back are
// freed by the next publish, on the publisher's thread (why: inbox.hpp).
#include "inbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using grav::Message;
using grav::MessagePtr;
using grav::zmq::Command;
using grav::zmq::Inbox;

// Messages that record the thread that frees them.
class FreedOn {
public:
    MessagePtr make(const std::string& payload) {
        auto owned = std::make_unique<const Message>("inbox.test", payload);
        return MessagePtr(owned.release(), [this](const Message* m) {
            {
                std::lock_guard lock(mutex_);
                threads_.push_back(std::this_thread::get_id());
            }
            std::default_delete<const Message>()(m);
        });
    }
    [[nodiscard]] std::vector<std::thread::id> threads() const {
        std::lock_guard lock(mutex_);
        return threads_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::thread::id> threads_;
};

std::vector<MessagePtr> take_all(Inbox& inbox) {
    std::deque<Command> commands;
    std::vector<MessagePtr> publishes;
    inbox.take(commands, publishes, SIZE_MAX);
    return publishes;
}

}  // namespace

TEST(Inbox, PublishesAreTakenInOrderAndHeldBackWhenAskedTo) {
    Inbox inbox(10);
    for (const char* p : {"a", "b", "c"}) ASSERT_TRUE(inbox.publish(std::make_shared<const Message>("t", p)));
    std::deque<Command> commands;
    std::vector<MessagePtr> publishes;
    inbox.take(commands, publishes, 0);  // held back: none taken
    EXPECT_TRUE(publishes.empty());
    EXPECT_TRUE(inbox.has_publishes());
    inbox.take(commands, publishes, 2);
    ASSERT_EQ(publishes.size(), 2u);
    EXPECT_EQ(publishes[0]->payload_view(), "a");
    EXPECT_EQ(publishes[1]->payload_view(), "b");
    publishes.clear();
    inbox.take(commands, publishes, SIZE_MAX);
    ASSERT_EQ(publishes.size(), 1u);
    EXPECT_EQ(publishes[0]->payload_view(), "c");
    EXPECT_FALSE(inbox.has_publishes());
}

TEST(Inbox, SentPublishesHandedBackAreFreedByTheNextPublishOnItsThread) {
    FreedOn freed;  // first: outlives the Inbox and what it still holds
    Inbox inbox(100);
    const auto publisher = std::this_thread::get_id();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(inbox.publish(freed.make(std::to_string(i))));
    // The transport thread takes them, sends them, hands them back.
    std::thread transport([&] {
        std::vector<MessagePtr> spent = take_all(inbox);
        ASSERT_EQ(spent.size(), 5u);
        inbox.give_back(spent);
        EXPECT_TRUE(spent.empty());
    });
    transport.join();
    EXPECT_TRUE(freed.threads().empty());  // held for the publisher
    ASSERT_TRUE(inbox.publish(freed.make("next")));
    const auto threads = freed.threads();
    ASSERT_EQ(threads.size(), 5u);
    for (const auto& t : threads) EXPECT_EQ(t, publisher);
}

TEST(Inbox, HandBacksAddUpUntilAPublishCollectsThemUpToACap) {
    FreedOn freed;  // first: outlives the Inbox and what it still holds
    Inbox inbox(100);
    std::vector<MessagePtr> first{freed.make("1"), freed.make("2")};
    std::vector<MessagePtr> second{freed.make("3")};
    inbox.give_back(first);
    inbox.give_back(second);  // nobody published in between: both kept
    EXPECT_TRUE(freed.threads().empty());
    ASSERT_TRUE(inbox.publish(std::make_shared<const Message>("t", "x")));
    EXPECT_EQ(freed.threads().size(), 3u);

    // A publisher that does not collect makes the transport drop the surplus.
    std::vector<MessagePtr> many;
    for (std::size_t i = 0; i < Inbox::max_returned; ++i) many.push_back(freed.make("m"));
    inbox.give_back(many);
    std::vector<MessagePtr> more{freed.make("over")};
    inbox.give_back(more);
    EXPECT_EQ(freed.threads().size(), 4u);  // "over", freed by the hand-back
    ASSERT_TRUE(inbox.publish(std::make_shared<const Message>("t", "y")));
    EXPECT_EQ(freed.threads().size(), 4u + Inbox::max_returned);
}

TEST(Inbox, HandedBackPublishesNobodyCollectsAreFreedAfterOneQuietTimerTurn) {
    FreedOn freed;  // first: outlives the Inbox and what it still holds
    Inbox inbox(100);
    std::vector<MessagePtr> spent{freed.make("1")};
    inbox.give_back(spent);
    inbox.drop_uncollected();  // handed back since the last turn: kept
    EXPECT_TRUE(freed.threads().empty());
    inbox.drop_uncollected();  // still there a turn later: the publisher went quiet
    EXPECT_EQ(freed.threads().size(), 1u);
}

TEST(Inbox, WhatIsHandedBackIsFreedWhenTheInboxGoesAway) {
    FreedOn freed;
    {
        Inbox inbox(100);
        std::vector<MessagePtr> spent{freed.make("1"), freed.make("2")};
        inbox.give_back(spent);
    }
    EXPECT_EQ(freed.threads().size(), 2u);
}
