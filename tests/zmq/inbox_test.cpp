// The Inbox between other threads and the transport thread, alone (no
// sockets): publishes are encoded on the publisher's thread into the data
// frames that carry them (fanout_queue.hpp), numbered per type, in order,
// and the Inbox keeps no reference to a published message.
#include "inbox.hpp"
#include "wire/batch.hpp"

#include <gtest/gtest.h>

#include <poll.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using grav::Message;
using grav::MessagePtr;
using grav::zmq::Command;
using grav::zmq::FanoutQueue;
using grav::zmq::Inbox;
namespace wire = grav::zmq::wire;

std::deque<FanoutQueue::Batch> take_all(Inbox& inbox) {
    std::deque<Command> commands;
    std::deque<FanoutQueue::Batch> batches;
    inbox.take(commands, batches, true);
    return batches;
}

// The records of a taken batch, decoded as a peer decodes them.
std::vector<wire::Record> records_of(const FanoutQueue::Batch& batch) {
    std::vector<wire::Record> records;
    EXPECT_TRUE(wire::decode_batch(batch.frame, records).ok());
    EXPECT_EQ(records.size(), batch.count);
    return records;
}

std::string text(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace

TEST(Inbox, PublishesAreEncodedInOrderAndHeldBackWhenAskedTo) {
    Inbox inbox(10);
    std::vector<MessagePtr> sent;
    for (const char* p : {"a", "b", "c"}) {
        sent.push_back(std::make_shared<const Message>("t", p));
        ASSERT_TRUE(inbox.publish(*sent.back()));
    }
    std::deque<Command> commands;
    std::deque<FanoutQueue::Batch> batches;
    inbox.take(commands, batches, false);  // held back: none taken
    EXPECT_TRUE(batches.empty());
    EXPECT_TRUE(inbox.has_publishes());
    inbox.take(commands, batches, true);
    EXPECT_FALSE(inbox.has_publishes());
    ASSERT_EQ(batches.size(), 1u);  // one type, one run: one data frame
    EXPECT_EQ(batches[0].type, "t");
    EXPECT_EQ(batches[0].first_seq, 1u);
    const auto records = records_of(batches[0]);
    ASSERT_EQ(records.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(records[i].header.seq, i + 1);
        EXPECT_EQ(records[i].header.id, sent[i]->id());
        EXPECT_EQ(text(records[i].payload), sent[i]->payload_view());
    }
}

TEST(Inbox, KeepsNoReferenceSoAPublishedMessageIsFreedOnThePublishersThread) {
    Inbox inbox(10);
    std::atomic<bool> freed{false};
    std::thread::id freed_on;
    {
        auto owned = std::make_unique<const Message>("t", "x");
        MessagePtr message(owned.release(), [&](const Message* m) {
            freed_on = std::this_thread::get_id();
            freed = true;
            std::default_delete<const Message>()(m);
        });
        ASSERT_TRUE(inbox.publish(*message));
        EXPECT_EQ(message.use_count(), 1);
    }
    EXPECT_TRUE(freed);
    EXPECT_EQ(freed_on, std::this_thread::get_id());
    EXPECT_EQ(take_all(inbox).size(), 1u);  // and still sent
}

TEST(Inbox, EachTypeIsNumberedOnItsOwnAndOtherTypesBreakTheRun) {
    Inbox inbox(100);
    for (const char* type : {"a", "a", "b", "a"}) ASSERT_TRUE(inbox.publish(Message(type, "p")));
    auto batches = take_all(inbox);
    ASSERT_EQ(batches.size(), 3u);  // a a | b | a: the order between types holds
    EXPECT_EQ(batches[0].type, "a");
    EXPECT_EQ(batches[0].count, 2u);
    EXPECT_EQ(batches[1].type, "b");
    EXPECT_EQ(batches[1].first_seq, 1u);
    EXPECT_EQ(batches[2].type, "a");
    EXPECT_EQ(batches[2].first_seq, 3u);
    EXPECT_EQ(records_of(batches[2])[0].header.seq, 3u);
    // Numbers go on across takes.
    ASSERT_TRUE(inbox.publish(Message("a", "p")));
    batches = take_all(inbox);
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].first_seq, 4u);
}

TEST(Inbox, ABatchIsBoundedInRecordsAndBytesAndABigMessageTravelsAlone) {
    Inbox inbox(10000);
    const std::size_t n = 1000;
    for (std::size_t i = 0; i < n; ++i) ASSERT_TRUE(inbox.publish(Message("r", "")));
    auto batches = take_all(inbox);
    ASSERT_GT(batches.size(), 1u);
    std::uint64_t next = 1;
    for (const auto& batch : batches) {
        EXPECT_LE(batch.count, wire::max_batch_records);
        EXPECT_LE(batch.frame.size(), wire::max_batch_bytes);
        EXPECT_EQ(batch.first_seq, next);
        next += batch.count;
    }
    EXPECT_EQ(next, n + 1);
    // Full batches: the next record would not have fitted.
    EXPECT_GT(batches[0].frame.size() + wire::record_size(0), wire::max_batch_bytes);

    const std::string half(wire::max_batch_bytes / 2, 'h');
    const std::string big(wire::max_batch_bytes * 2, 'B');
    for (const std::string* p : {&half, &half, &big, &half}) ASSERT_TRUE(inbox.publish(Message("r", *p)));
    batches = take_all(inbox);
    ASSERT_EQ(batches.size(), 4u);  // two halves do not fit one batch with their headers
    std::uint64_t seq = next;       // numbering goes on, the big one included
    for (const auto& batch : batches) {
        EXPECT_EQ(batch.count, 1u);
        EXPECT_LE(batch.frame.size(), wire::batch_prefix_size + wire::record_size(big.size()));
        EXPECT_EQ(batch.first_seq, seq);
        EXPECT_EQ(records_of(batch)[0].header.seq, seq);  // encoded before the lock, numbered under it
        ++seq;
    }
    EXPECT_EQ(text(records_of(batches[2])[0].payload), big);
    // The inline path leaves such a message to publish(), which copies it
    // before taking the lock.
    std::deque<FanoutQueue::Batch> none;
    EXPECT_FALSE(inbox.publish_alone(Message("s", big), none));
    EXPECT_TRUE(none.empty());
}

TEST(Inbox, AMessageThatCannotTravelIsRejectedInItsPlaceWithTheReason) {
    Inbox inbox(10);
    ASSERT_TRUE(inbox.publish(Message("ok", "1")));
    ASSERT_TRUE(inbox.publish(Message(std::string(wire::max_type + 1, 't'), "2")));  // type too long
    ASSERT_TRUE(inbox.publish(Message("ok", "3")));
    const auto batches = take_all(inbox);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_TRUE(batches[0].rejected.empty());
    EXPECT_FALSE(batches[1].rejected.empty());
    EXPECT_EQ(batches[1].count, 0u);
    EXPECT_EQ(batches[2].first_seq, 2u);  // the rejected one took no number
}

TEST(Inbox, PublishBlocksWhileFull) {
    Inbox inbox(2);
    ASSERT_TRUE(inbox.publish(Message("t", "1")));
    ASSERT_TRUE(inbox.publish(Message("t", "2")));
    std::atomic<bool> done{false};
    std::thread publisher([&] {
        EXPECT_TRUE(inbox.publish(Message("t", "3")));
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(done);  // blocked: backpressure
    EXPECT_EQ(inbox.blocked_publishes(), 1u);
    auto batches = take_all(inbox);
    publisher.join();
    EXPECT_TRUE(done);
    batches = take_all(inbox);
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].first_seq, 3u);
    inbox.close();
    EXPECT_FALSE(inbox.publish(Message("t", "late")));
}

// The inline sender's publish (node_inline.cpp): straight back, never ahead
// of queued publishes, and without eating a wake-up meant for the transport
// thread.
TEST(Inbox, APublishAloneComesStraightBackOnlyWhenNothingWaits) {
    Inbox inbox(10);
    std::deque<FanoutQueue::Batch> batches;
    inbox.wake();  // e.g. input hidden on a socket a sender used
    ASSERT_TRUE(inbox.publish_alone(Message("t", "1"), batches));
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].first_seq, 1u);
    EXPECT_EQ(records_of(batches[0]).size(), 1u);
    EXPECT_FALSE(inbox.has_publishes());
    ::pollfd fd{inbox.wake_fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&fd, 1, 0), 1) << "the transport thread must still wake";

    batches.clear();
    ASSERT_TRUE(inbox.publish(Message("t", "2")));
    EXPECT_FALSE(inbox.publish_alone(Message("t", "3"), batches));  // would overtake "2"
    EXPECT_TRUE(batches.empty());
    EXPECT_EQ(take_all(inbox).size(), 1u);
    inbox.close();
    EXPECT_FALSE(inbox.publish_alone(Message("t", "late"), batches));
    EXPECT_TRUE(batches.empty());
}

TEST(FanoutQueue, KeepsAFewSentFramesForNewBatchesAndLeavesTheRest) {
    FanoutQueue queue;
    std::vector<std::vector<std::byte>> frames(FanoutQueue::spares_kept + 4);
    for (auto& f : frames) f.reserve(wire::max_batch_bytes);
    // One that a large message made large: never kept.
    frames.front().reserve(FanoutQueue::spare_capacity_max + 1);
    const std::byte* large = frames.front().data();
    const std::byte* last_kept = frames[4].data();  // kept last (from the back)
    queue.recycle(frames);
    std::size_t left = 0;
    for (const auto& f : frames) left += f.capacity() > 0 ? 1 : 0;
    EXPECT_EQ(left, 4u);  // three over the cap and the large one, for the caller to free
    EXPECT_EQ(frames.front().data(), large);
    queue.push(Message("t", "x"));
    std::deque<FanoutQueue::Batch> batches;
    queue.take(batches);
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0].frame.data(), last_kept) << "a new batch reuses a kept frame";
    EXPECT_EQ(batches[0].frame.size(), wire::batch_prefix_size + wire::record_size(1));
}
