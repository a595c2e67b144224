// Full nodes (Bus + ZeroMQ transport + beacon discovery, grav_lan_node) on
// a LAN of network namespaces: the checks of issue 4, end to end.

#include "lan_fixture.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <map>
#include <thread>

#ifndef GRAV_LAN_NODE
#error "GRAV_LAN_NODE must name the node program"
#endif

namespace grav {
namespace {

using namespace std::chrono_literals;
using testkit::NamespaceLan;

class LanNodes : public testkit::LanTest {
protected:
    void start(int node, std::vector<std::string> extra = {}) {
        auto& n = launch(node, GRAV_LAN_NODE, std::move(extra));
        if (n.process) {
            EXPECT_TRUE(n.process->wait_for_prefix("UP ", 5s)) << "node " << node << " did not come up";
        }
    }

    std::optional<std::vector<std::string>> ready(int who, int whom, std::chrono::milliseconds t,
                                                  std::size_t from = 0) {
        return event(who, "READY", whom, "", t, from);
    }

    // Every listed node sends one lan.ping; every other listed node receives each.
    void expect_all_to_all(const std::vector<int>& members, std::chrono::milliseconds timeout) {
        std::map<int, std::size_t> marks;
        std::map<int, std::string> seqs;
        for (int m : members) marks[m] = proc(m).line_count();
        for (int m : members) {
            const auto mark = proc(m).line_count();
            proc(m).signal(SIGUSR1);
            const auto sent = proc(m).wait_for_prefix("SENT ", 2s, mark);
            ASSERT_TRUE(sent) << "node " << m << " did not send";
            seqs[m] = testkit::split(*sent).at(1);
        }
        for (int to : members) {
            for (int from : members) {
                if (to == from) continue;
                EXPECT_TRUE(event(to, "RECV", from, " " + seqs[from] + " ", timeout, marks[to]))
                    << "message from node " << from << " never reached node " << to;
            }
        }
    }
};

TEST_F(LanNodes, FullMeshWithinOneSecondAndEveryMessageReachesEveryNode) {
    constexpr int n = 4;
    ASSERT_TRUE(build(n)) << lan_.error();
    for (int i = 0; i < n; ++i) start(i);
    const double last_start = procs_[n - 1].started_ms;
    double last_ready = 0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            if (i == j) continue;
            const auto r = ready(i, j, 3s);
            ASSERT_TRUE(r) << "node " << i << " never saw node " << j << " ready";
            EXPECT_EQ(r->at(2), NamespaceLan::address(j));
            last_ready = std::max(last_ready, std::stod(r->at(3)));
        }
    }
    EXPECT_LT(last_ready - last_start, 1000.0) << "full mesh took " << last_ready - last_start << " ms";
    expect_all_to_all({0, 1, 2, 3}, 3s);
}

TEST_F(LanNodes, CleanStopIsSeenAtOnceAndAKilledNodeIsDroppedWithinTheExpiry) {
    ASSERT_TRUE(build(3)) << lan_.error();
    for (int i = 0; i < 3; ++i) start(i);  // defaults: beacon expiry 3 s
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            if (i != j) {
                ASSERT_TRUE(ready(i, j, 3s));
            }
        }
    }
    const double stop_sent = testkit::monotonic_ms();
    proc(2).signal(SIGTERM);
    for (int i = 0; i < 2; ++i) {
        const auto left = event(i, "LEFT", 2, " withdrew", 2s);
        ASSERT_TRUE(left) << "node " << i << " did not see node 2 withdraw" << dump(i);
        EXPECT_LT(std::stod(left->at(3)) - stop_sent, 500.0);
    }
    EXPECT_EQ(proc(2).wait_exit(5s), 0);

    const double kill_sent = testkit::monotonic_ms();
    proc(1).signal(SIGKILL);
    const auto left = event(0, "LEFT", 1, "", 5s);
    if (!left) {
        proc(0).signal(SIGTERM);
        proc(0).wait_for_prefix("STAT beacon.redial", 5s);
    }
    ASSERT_TRUE(left) << "the killed node was never dropped" << dump(0) << dump(1);
    EXPECT_LE(std::stod(left->at(3)) - kill_sent, 3200.0);
}

TEST_F(LanNodes, PartitionHealsAndTrafficResumes) {
    ASSERT_TRUE(build(3)) << lan_.error();
    const std::vector<std::string> quick{"--interval",          "200", "--expiry", "1000",
                                         "--heartbeat-timeout", "1000"};
    for (int i = 0; i < 3; ++i) start(i, quick);
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            if (i != j) {
                ASSERT_TRUE(ready(i, j, 3s));
            }
        }
    }
    ASSERT_TRUE(lan_.set_link(2, 0, false)) << lan_.error();
    EXPECT_TRUE(event(0, "LEFT", 2, "", 4s));
    EXPECT_TRUE(event(1, "LEFT", 2, "", 4s));
    EXPECT_TRUE(event(2, "LEFT", 0, "", 4s));
    std::map<int, std::size_t> marks;
    for (int i = 0; i < 3; ++i) marks[i] = proc(i).line_count();
    ASSERT_TRUE(lan_.set_link(2, 0, true)) << lan_.error();
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            if (i != j && (i == 2 || j == 2)) {
                ASSERT_TRUE(ready(i, j, 5s, marks[i]))
                    << "after the partition node " << i << " never saw " << j;
            }
        }
    }
    expect_all_to_all({0, 1, 2}, 3s);
}

TEST_F(LanNodes, NodeOnTwoLansIsReachedOnTheRightAddress) {
    ASSERT_TRUE(lan_.add_nodes(3)) << lan_.error();
    ASSERT_TRUE(lan_.attach(0, 0) && lan_.attach(0, 1) && lan_.attach(1, 0) && lan_.attach(2, 1))
        << lan_.error();
    for (int i = 0; i < 3; ++i) start(i);
    const auto by_1 = ready(1, 0, 3s);
    const auto by_2 = ready(2, 0, 3s);
    ASSERT_TRUE(by_1 && by_2);
    EXPECT_EQ(by_1->at(2), NamespaceLan::address(0, 0));
    EXPECT_EQ(by_2->at(2), NamespaceLan::address(0, 1));
    ASSERT_TRUE(ready(0, 1, 3s));
    ASSERT_TRUE(ready(0, 2, 3s));
    expect_all_to_all({0, 1}, 3s);
    expect_all_to_all({0, 2}, 3s);
    EXPECT_FALSE(ready(1, 2, 0ms));  // they share no LAN
}

TEST_F(LanNodes, ANodeOfAnotherGroupStaysOut) {
    ASSERT_TRUE(build(3)) << lan_.error();
    start(0, {"--group", "lab"});
    start(1, {"--group", "lab"});
    start(2, {"--group", "kitchen"});
    ASSERT_TRUE(ready(0, 1, 3s));
    ASSERT_TRUE(ready(1, 0, 3s));
    expect_all_to_all({0, 1}, 3s);
    std::this_thread::sleep_for(1s);
    EXPECT_FALSE(ready(0, 2, 0ms));
    EXPECT_FALSE(ready(1, 2, 0ms));
    EXPECT_FALSE(ready(2, 0, 0ms));
    EXPECT_FALSE(event(2, "RECV", 0, "", 0ms));
}

}  // namespace
}  // namespace grav
