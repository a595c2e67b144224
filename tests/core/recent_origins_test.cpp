// The bridge's memory of where the last messages from other sites came from
// (core/src/recent_origins.hpp): bounded, oldest first out, an id seen again
// updated in place, and the latest `capacity` always found.
#include "recent_origins.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace grav::detail {
namespace {

TEST(RecentOrigins, KeepsTheLastCapacityIdsAndForgetsTheOldestFirst) {
    RecentOrigins origins(4);
    std::vector<MessageId> ids;
    std::vector<NodeId> nodes;
    for (int i = 0; i < 10; ++i) {
        ids.push_back(MessageId::random());
        nodes.push_back(NodeId::random());
        origins.remember(ids.back(), nodes.back());
        // Every one of the last four is there, none before them.
        for (int j = 0; j <= i; ++j) {
            const auto got = origins.origin_of(ids[static_cast<std::size_t>(j)]);
            if (j > i - 4) {
                ASSERT_TRUE(got) << "id " << j << " after " << i;
                EXPECT_EQ(*got, nodes[static_cast<std::size_t>(j)]);
            } else {
                EXPECT_FALSE(got) << "id " << j << " after " << i;
            }
        }
    }
}

TEST(RecentOrigins, AnIdSeenAgainIsUpdatedNotAddedTwice) {
    RecentOrigins origins(2);
    const auto a = MessageId::random(), b = MessageId::random(), c = MessageId::random();
    const auto first = NodeId::random(), second = NodeId::random();
    origins.remember(a, first);
    origins.remember(a, second);  // the same message handed over again
    origins.remember(b, first);
    EXPECT_EQ(origins.origin_of(a), second);
    EXPECT_EQ(origins.origin_of(b), first);
    origins.remember(c, first);  // a (the oldest) goes, b stays
    EXPECT_FALSE(origins.origin_of(a));
    EXPECT_EQ(origins.origin_of(b), first);
    EXPECT_EQ(origins.origin_of(c), first);
}

}  // namespace
}  // namespace grav::detail
