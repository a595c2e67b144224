// Chaos that only the resend window (issue 6, point 5) survives without
// loss: a link that goes down for longer than the heartbeat timeout and
// comes back. Same traffic and counts as lan_chaos_test.cpp; here every
// stream, the cut-off node's included, must be whole: received = sent from
// the first subscription on, gaps 0, duplicates 0, reordered 0.
// Label `chaos` (and `lan`).

#include "traffic_fixture.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace grav {
namespace {

using namespace std::chrono_literals;
using testkit::monotonic_ms;

class LanResendChaos : public testkit::LanTraffic {
protected:
    const std::vector<int> all{0, 1, 2, 3};
    const std::vector<int> others{0, 1, 2};
    // 2.5 heartbeat timeouts: every link to node 3 is declared dead. At
    // rate() messages/s a node sends 500 messages in that time at scale 1,
    // well within the resend window.
    static constexpr auto outage = 2500ms;
    static constexpr auto steady = 1000ms;

    void SetUp() override {
        LanTraffic::SetUp();
        if (IsSkipped()) return;
        ASSERT_TRUE(build(4)) << lan_.error();
    }

    void expect_all_lossless(const std::map<int, testkit::Totals>& totals) {
        for (int to : all) {
            for (int from : all) {
                if (to != from) expect_lossless(totals, to, from);
            }
        }
    }
};

// Node 3's cable is pulled for `outage` and put back. Asserts: nodes 0-2
// keep exchanging meanwhile (progress); after the heal node 3 exchanges
// with everyone again; and every one of the 12 streams is lossless (sent
// = received, gaps 0, duplicates 0, reordered 0): what node 3 missed was
// resent, in order, once.
TEST_F(LanResendChaos, APartitionHealedWithinTheWindowLosesNothing) {
    for (int i : all) start(i);
    ASSERT_TRUE(meshed(all, 3s));
    ASSERT_TRUE(flowing(all, monotonic_ms(), 3s));
    hold(steady);

    const double cut = monotonic_ms();
    ASSERT_TRUE(lan_.set_link(3, 0, false)) << lan_.error();
    hold(outage);
    const double healed = monotonic_ms();
    ASSERT_TRUE(lan_.set_link(3, 0, true)) << lan_.error();
    std::printf("partition of node 3 for %.0f ms (heartbeat timeout %lld ms)\n", healed - cut,
                static_cast<long long>(heartbeat_timeout.count()));
    for (int i : others) expect_progress(i, {0, 1, 2}, cut, healed);
    ASSERT_TRUE(flowing(all, monotonic_ms(), 5s)) << "node 3 does not exchange again after the heal";
    std::printf("  node 3 exchanges with everyone again %.0f ms after the heal\n", monotonic_ms() - healed);
    hold(steady);
    expect_all_lossless(finish(all));
}

// Node 3 is SIGSTOPped for `outage`, then continued. Asserts as above:
// all 12 streams lossless, the stopped node's included.
TEST_F(LanResendChaos, AStoppedNodeLosesNothingOnceContinued) {
    for (int i : all) start(i);
    ASSERT_TRUE(meshed(all, 3s));
    ASSERT_TRUE(flowing(all, monotonic_ms(), 3s));
    hold(steady);

    const double stopped = monotonic_ms();
    proc(3).signal(SIGSTOP);
    hold(outage);
    const double resumed = monotonic_ms();
    proc(3).signal(SIGCONT);
    std::printf("SIGSTOP of node 3 for %.0f ms\n", resumed - stopped);
    for (int i : others) expect_progress(i, {0, 1, 2}, stopped, resumed);
    ASSERT_TRUE(flowing(all, monotonic_ms(), 5s)) << "the resumed node does not exchange again";
    hold(steady);
    expect_all_lossless(finish(all));
}

}  // namespace
}  // namespace grav
