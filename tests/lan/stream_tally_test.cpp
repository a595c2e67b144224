// StreamTally, the chaos tests' per-origin counter: what it calls a gap, a
// duplicate and a late (reordered) message.

#include "stream_tally.hpp"

#include <gtest/gtest.h>

namespace grav::testkit {
namespace {

TEST(StreamTally, AnInOrderStreamFromItsFirstNumberHasNoFaults) {
    StreamTally t;
    for (std::uint64_t s = 5; s <= 9; ++s) t.record(s);
    EXPECT_EQ(t.first(), 5u);
    EXPECT_EQ(t.last(), 9u);
    EXPECT_EQ(t.received(), 5u);
    EXPECT_EQ(t.gaps() + t.duplicates() + t.reordered(), 0u);
}

TEST(StreamTally, SkippedNumbersAreGapsUntilTheyArriveLate) {
    StreamTally t;
    for (std::uint64_t s : {1, 2, 6, 7}) t.record(s);
    EXPECT_EQ(t.gaps(), 3u);  // 3, 4, 5
    t.record(4);
    EXPECT_EQ(t.gaps(), 2u);
    EXPECT_EQ(t.reordered(), 1u);
    t.record(3);
    t.record(5);
    EXPECT_EQ(t.gaps(), 0u);
    EXPECT_EQ(t.reordered(), 3u);
    EXPECT_EQ(t.duplicates(), 0u);
}

TEST(StreamTally, ANumberSeenBeforeIsADuplicateWhereverItFalls) {
    StreamTally t;
    for (std::uint64_t s : {1, 2, 5}) t.record(s);
    t.record(5);  // the last one again
    t.record(1);  // an old one
    t.record(3);  // late, fills part of the gap
    t.record(3);  // and again
    EXPECT_EQ(t.duplicates(), 3u);
    EXPECT_EQ(t.reordered(), 1u);
    EXPECT_EQ(t.gaps(), 1u);  // 4
    EXPECT_EQ(t.received(), 7u);
}

}  // namespace
}  // namespace grav::testkit
