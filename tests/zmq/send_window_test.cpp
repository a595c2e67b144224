// The resend window's storage (no sockets): what it returns for a RESEND,
// its bounds, and that its memory stays a fixed set of blocks under churn.
#include "send_window.hpp"
#include "byte_ring.hpp"
#include "wire/wire.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace grav::zmq {
namespace {

Message message(const std::string& type, const std::string& payload) { return Message(type, payload); }

std::vector<SentMessage> held(const SendWindow& w, std::string_view stream, std::uint64_t from = 1,
                              std::uint64_t to = UINT64_MAX) {
    std::vector<SentMessage> out;
    w.for_each(stream, from, to, [&](const SentMessage& m) { out.push_back(m); });
    return out;
}

TEST(ByteRing, ReleasesInOrderAndReusesItsBlocks) {
    ByteRing ring(1024);
    std::vector<std::size_t> sizes;
    for (int i = 0; i < 20000; ++i) {
        const std::size_t n = 1 + static_cast<std::size_t>(i * 37 % 300);
        auto out = ring.append(n);
        ASSERT_EQ(out.size(), n);
        out[0] = std::byte{1};
        out[n - 1] = std::byte{2};
        sizes.push_back(n);
        if (sizes.size() > 20) {  // ~3 KB held at any time
            ring.release_front(sizes.front());
            sizes.erase(sizes.begin());
        }
        // A few blocks for ~3 KB, whatever the churn: nothing accumulates.
        ASSERT_LE(ring.capacity(), 6u * 1024) << "after " << i;
    }
    for (auto n : sizes) ring.release_front(n);
    EXPECT_LE(ring.capacity(), 2u * 1024);
}

TEST(ByteRing, AnEntryLargerThanABlockGetsItsOwn) {
    ByteRing ring(1024);
    auto big = ring.append(5000);
    EXPECT_EQ(big.size(), 5000u);
    auto small = ring.append(10);
    EXPECT_EQ(small.size(), 10u);
    ring.release_front(5000);
    ring.release_front(10);
    EXPECT_LE(ring.capacity(), 2u * 1024);  // the big block is not kept
}

TEST(SendWindow, GivesBackWhatWasSentAsTheWireCarriesIt) {
    SendWindow w(100, 1 << 20);
    const Message a = message("chat.line", "hello");
    const Message b = message("chat.line", std::string(3000, 'x'));
    w.record("fchat.line", 1, a);
    w.record("fchat.line", 2, b);
    const auto got = held(w, "fchat.line");
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].seq, 1u);
    EXPECT_EQ(got[0].type, "chat.line");
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(got[0].payload.data()), got[0].payload.size()),
              "hello");
    auto header = wire::decode_header(got[1].header);
    ASSERT_TRUE(header);
    EXPECT_EQ(header->seq, 2u);
    EXPECT_EQ(header->id, b.id());
    EXPECT_EQ(got[1].payload.size(), 3000u);
    EXPECT_EQ(held(w, "fchat.line", 2, 2).size(), 1u);
    EXPECT_EQ(w.oldest("fchat.line"), 1u);
    EXPECT_TRUE(held(w, "fother").empty());
}

TEST(SendWindow, TheOldestMessageOfTheWholeNodeGoesFirst) {
    SendWindow w(3, 1 << 20);
    w.record("fa", 1, message("a", "1"));
    w.record("fb", 1, message("b", "1"));
    w.record("fa", 2, message("a", "2"));
    w.record("fb", 2, message("b", "2"));  // evicts a#1
    EXPECT_EQ(w.messages(), 3u);
    EXPECT_EQ(w.oldest("fa"), 2u);
    EXPECT_EQ(w.oldest("fb"), 1u);
    // Bytes bound too, and a message larger than it is not kept at all.
    SendWindow small(100, 2 * wire::header_size + 100);
    small.record("fa", 1, message("a", std::string(50, 'x')));
    small.record("fa", 2, message("a", std::string(50, 'y')));  // over: #1 goes
    EXPECT_EQ(small.oldest("fa"), 2u);
    small.record("fa", 3, message("a", std::string(500, 'z')));
    EXPECT_EQ(small.messages(), 0u);
    EXPECT_EQ(small.bytes(), 0u);
}

TEST(SendWindow, AForgottenStreamIsGoneAndItsBytesAgeOut) {
    SendWindow w(4, 1 << 20);
    w.record("dpeer", 1, message("t", "x"));
    w.record("fa", 1, message("a", "y"));
    w.forget("dpeer");
    EXPECT_EQ(w.streams(), 1u);
    EXPECT_TRUE(held(w, "dpeer").empty());
    for (std::uint64_t s = 2; s <= 10; ++s) w.record("fa", s, message("a", "z"));
    EXPECT_EQ(w.messages(), 4u);
    EXPECT_EQ(w.oldest("fa"), 7u);
    EXPECT_EQ(held(w, "fa").size(), 4u);
}

TEST(SendWindow, ABatchIsRecordedWithEachRecordsOwnNumber) {
    // A published batch is recorded in one call: the same entries as one by one.
    SendWindow w(100, 1 << 20);
    std::vector<MessagePtr> batch;
    std::vector<wire::Record> records;
    for (int i = 0; i < 3; ++i) {
        batch.push_back(std::make_shared<const Message>("t", std::to_string(i)));
        records.push_back(
            {wire::header_of(*batch.back(), 7 + static_cast<std::uint64_t>(i)), batch.back()->payload()});
    }
    w.record_batch("ft", "t", records);
    w.record_batch("ft", "t", {});  // nothing
    const auto got = held(w, "ft");
    ASSERT_EQ(got.size(), 3u);
    for (std::size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].seq, 7 + i);
        EXPECT_EQ(got[i].type, "t");
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(got[i].payload.data()), got[i].payload.size()),
                  std::to_string(i));
        const auto header = wire::decode_header(got[i].header);
        ASSERT_TRUE(header.ok());
        EXPECT_EQ(header->seq, 7 + i);
        EXPECT_EQ(header->id, batch[i]->id());
    }
    EXPECT_EQ(w.messages(), 3u);
}
}  // namespace
}  // namespace grav::zmq
