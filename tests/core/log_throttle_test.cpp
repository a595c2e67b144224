// LogThrottle: one line per key per interval, the first at once, bounded memory.
#include <grav/log_throttle.hpp>

#include <gtest/gtest.h>

#include <string>

namespace grav {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottle, TheFirstLineGoesOutAtOnceTheNextAfterTheIntervalWithTheCountHeldBack) {
    LogThrottle throttle(10s);
    const auto t0 = LogThrottle::Clock::now();
    EXPECT_EQ(throttle.admit("peer a", t0), 0u);
    EXPECT_EQ(throttle.admit("peer a", t0 + 1s), std::nullopt);
    EXPECT_EQ(throttle.admit("peer a", t0 + 9s), std::nullopt);
    EXPECT_EQ(throttle.admit("peer b", t0 + 9s), 0u);  // another key is not held back
    EXPECT_EQ(throttle.admit("peer a", t0 + 10s), 2u);
    EXPECT_EQ(throttle.admit("peer a", t0 + 11s), std::nullopt);
    EXPECT_EQ(throttle.annotate("refused", 0), "refused");
    EXPECT_EQ(throttle.annotate("refused", 2), "refused (2 more like it since the last one)");
}

TEST(LogThrottle, AFloodOfNewKeysSharesOneSlotBeyondTheBound) {
    LogThrottle throttle(10s, 4);
    const auto t0 = LogThrottle::Clock::now();
    int admitted = 0;
    for (int i = 0; i < 10000; ++i) admitted += throttle.admit("source " + std::to_string(i), t0).has_value();
    EXPECT_EQ(admitted, 5);  // four keys, then one line for all the others
    EXPECT_LE(throttle.keys(), 4u);
    // Quiet keys are forgotten once their interval is over, so new ones get in.
    EXPECT_EQ(throttle.admit("late", t0 + 11s), 0u);
}

}  // namespace
}  // namespace grav
