// Beacon discovery on a LAN of network namespaces (namespace_lan.hpp): one
// grav_beacon_probe process per namespace, default options unless a test
// says otherwise. Discovery only; lan_node_test.cpp runs full buses.

#include "lan_fixture.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <map>

#ifndef GRAV_BEACON_PROBE
#error "GRAV_BEACON_PROBE must name the probe program"
#endif

namespace grav {
namespace {

using namespace std::chrono_literals;
using testkit::NamespaceLan;

class LanDiscovery : public testkit::LanTest {
protected:
    void start(int node, std::vector<std::string> extra = {}) {
        launch(node, GRAV_BEACON_PROBE, std::move(extra));
    }

    // The FOUND line in `who`'s output about `whom`, waiting up to `timeout`.
    std::optional<std::vector<std::string>> found(int who, int whom, std::chrono::milliseconds timeout,
                                                  std::size_t from = 0) {
        return event(who, "FOUND", whom, "", timeout, from);
    }
    std::optional<std::vector<std::string>> lost(int who, int whom, const std::string& reason,
                                                 std::chrono::milliseconds timeout, std::size_t from = 0) {
        return event(who, "LOST", whom, " " + reason, timeout, from);
    }
};

TEST_F(LanDiscovery, FullMeshWithinOneSecondOfTheLastStartOnTheRightAddresses) {
    constexpr int n = 4;
    ASSERT_TRUE(build(n)) << lan_.error();
    for (int i = 0; i < n; ++i) start(i);
    const double last_start = procs_[n - 1].started_ms;
    double last_found = 0;
    for (int i = 0; i < n; ++i) {
        for (int j = 0; j < n; ++j) {
            if (i == j) continue;
            const auto f = found(i, j, 2s);
            ASSERT_TRUE(f) << i << " never found " << j;
            EXPECT_EQ(f->at(2), NamespaceLan::address(j))
                << "node " << i << " would dial " << j << " at the wrong address";
            last_found = std::max(last_found, std::stod(f->at(6)));
        }
    }
    EXPECT_LT(last_found - last_start, 1000.0);
}

TEST_F(LanDiscovery, CleanStopIsSeenAtOnceAndAKilledNodeWithinTheExpiry) {
    ASSERT_TRUE(build(3)) << lan_.error();
    for (int i = 0; i < 3; ++i) start(i);  // default interval 500 ms, expiry 3 s
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            if (i != j) {
                ASSERT_TRUE(found(i, j, 2s));
            }
        }
    }
    const double stop_sent = testkit::monotonic_ms();
    proc(2).signal(SIGTERM);
    for (int i = 0; i < 2; ++i) {
        const auto l = lost(i, 2, "withdrew", 2s);
        ASSERT_TRUE(l);
        EXPECT_LT(std::stod(l->at(3)) - stop_sent, 500.0);
    }
    const double kill_sent = testkit::monotonic_ms();
    proc(1).signal(SIGKILL);
    const auto l = lost(0, 1, "timed_out", 5s);
    ASSERT_TRUE(l);
    EXPECT_LE(std::stod(l->at(3)) - kill_sent, 3000.0 + 200.0);  // the expiry, plus scheduling slack
}

TEST_F(LanDiscovery, PartitionHeals) {
    ASSERT_TRUE(build(3)) << lan_.error();
    const std::vector<std::string> quick{"--interval", "200", "--expiry", "1000"};
    for (int i = 0; i < 3; ++i) start(i, quick);
    ASSERT_TRUE(found(0, 2, 2s));
    ASSERT_TRUE(found(2, 0, 2s));
    ASSERT_TRUE(lan_.set_link(2, 0, false)) << lan_.error();
    ASSERT_TRUE(lost(0, 2, "timed_out", 3s));
    ASSERT_TRUE(lost(1, 2, "timed_out", 3s));
    ASSERT_TRUE(lost(2, 0, "timed_out", 3s));
    const auto mark0 = proc(0).line_count();
    const auto mark2 = proc(2).line_count();
    ASSERT_TRUE(lan_.set_link(2, 0, true)) << lan_.error();
    EXPECT_TRUE(found(0, 2, 3s, mark0));
    EXPECT_TRUE(found(2, 0, 3s, mark2));
}

TEST_F(LanDiscovery, NodeOnTwoLansIsReachedOnTheRightAddressOfEach) {
    // Node 0 is on LAN 0 and LAN 1; node 1 only on LAN 0, node 2 only on LAN 1.
    ASSERT_TRUE(lan_.add_nodes(3)) << lan_.error();
    ASSERT_TRUE(lan_.attach(0, 0) && lan_.attach(0, 1) && lan_.attach(1, 0) && lan_.attach(2, 1))
        << lan_.error();
    for (int i = 0; i < 3; ++i) start(i);
    const auto by_1 = found(1, 0, 2s);
    const auto by_2 = found(2, 0, 2s);
    ASSERT_TRUE(by_1 && by_2);
    EXPECT_EQ(by_1->at(2), NamespaceLan::address(0, 0));
    EXPECT_EQ(by_2->at(2), NamespaceLan::address(0, 1));
    const auto of_1 = found(0, 1, 2s);
    const auto of_2 = found(0, 2, 2s);
    ASSERT_TRUE(of_1 && of_2);
    EXPECT_EQ(of_1->at(2), NamespaceLan::address(1, 0));
    EXPECT_EQ(of_2->at(2), NamespaceLan::address(2, 1));
    // 1 and 2 share no LAN: they must not learn of each other.
    EXPECT_FALSE(found(1, 2, 1s));
}

TEST_F(LanDiscovery, ChosenInterfaceByCidrKeepsTheOtherLanOut) {
    ASSERT_TRUE(lan_.add_nodes(3)) << lan_.error();
    ASSERT_TRUE(lan_.attach(0, 0) && lan_.attach(0, 1) && lan_.attach(1, 0) && lan_.attach(2, 1))
        << lan_.error();
    start(0, {"--interface", "10.77.1.0/24"});
    start(1);
    start(2);
    EXPECT_TRUE(found(2, 0, 2s));
    EXPECT_TRUE(found(0, 2, 2s));
    EXPECT_FALSE(found(1, 0, 1s));
    EXPECT_FALSE(found(0, 1, 0ms));
}

TEST_F(LanDiscovery, ANodeOfAnotherGroupStaysOut) {
    ASSERT_TRUE(build(3)) << lan_.error();
    start(0, {"--group", "lab"});
    start(1, {"--group", "lab"});
    start(2, {"--group", "kitchen"});
    EXPECT_TRUE(found(0, 1, 2s));
    EXPECT_TRUE(found(1, 0, 2s));
    EXPECT_FALSE(found(0, 2, 1500ms));
    EXPECT_FALSE(found(1, 2, 0ms));
    EXPECT_FALSE(found(2, 0, 0ms));
}

TEST_F(LanDiscovery, MulticastGroup) {
    ASSERT_TRUE(build(3)) << lan_.error();
    for (int i = 0; i < 3; ++i) start(i, {"--multicast", "239.255.77.77"});
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            if (i != j) {
                const auto f = found(i, j, 2s);
                ASSERT_TRUE(f) << i << " finds " << j;
                EXPECT_EQ(f->at(2), NamespaceLan::address(j));
            }
        }
    }
}

TEST_F(LanDiscovery, UnicastSeedsWithoutBroadcast) {
    // Each node is given the others' addresses; nothing is broadcast.
    ASSERT_TRUE(build(3)) << lan_.error();
    for (int i = 0; i < 3; ++i) {
        std::vector<std::string> args{"--no-broadcast", "--interval", "200", "--expiry", "1000"};
        for (int j = 0; j < 3; ++j) {
            if (j != i) {
                args.push_back("--seed");
                args.push_back(NamespaceLan::address(j) + ":5670");
            }
        }
        start(i, args);
    }
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) {
            if (i != j) {
                EXPECT_TRUE(found(i, j, 2s)) << i << " finds " << j;
            }
        }
    }
    std::this_thread::sleep_for(2s);  // two expiries: unicast beacons keep them
    for (int i = 0; i < 3; ++i) {
        EXPECT_FALSE(proc(i).wait_for_prefix("LOST ", 0ms));
    }
}

}  // namespace
}  // namespace grav
