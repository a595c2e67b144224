// An incoming stream's bookkeeping alone (no sockets): which ranges a
// resumed link asks for again.
#include "stream_in.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

using grav::zmq::StreamIn;
using Ranges = std::vector<std::pair<std::uint64_t, std::uint64_t>>;

namespace {

StreamIn delivered_to(std::uint64_t last, std::initializer_list<std::uint64_t> held) {
    StreamIn s;
    s.started = true;
    s.last = last;
    for (auto seq : held) s.held.emplace(seq, nullptr);
    return s;
}

}  // namespace

TEST(StreamIn, NothingMissingMeansNoHoles) {
    EXPECT_EQ(delivered_to(10, {}).holes(10), Ranges{});
    EXPECT_EQ(delivered_to(10, {11, 12}).holes(12), Ranges{});
}

TEST(StreamIn, TheTailAfterTheLastDeliveredIsAHole) {
    EXPECT_EQ(delivered_to(10, {}).holes(15), (Ranges{{11, 15}}));
}

// The case that once lost messages (24ad852): a range asked for on a link
// that then broke, messages that arrived on the new link before its READY
// (so "asked up to" had moved past the hole), then READY announcing the
// tail. Every hole below the tail is asked for again, not only the tail.
TEST(StreamIn, AResumedLinkAsksAgainForEveryHoleNotOnlyTheTail) {
    StreamIn s = delivered_to(1118, {2217, 2218, 2219, 2301});
    s.asked_to = 2301;  // raised by what came on the new link
    EXPECT_EQ(s.holes(2302), (Ranges{{1119, 2216}, {2220, 2300}, {2302, 2302}}));
}

TEST(StreamIn, HeldMessagesBeyondTheAnnouncedTailAreLeftAlone) {
    EXPECT_EQ(delivered_to(5, {7, 20}).holes(10), (Ranges{{6, 6}, {8, 10}}));
}
