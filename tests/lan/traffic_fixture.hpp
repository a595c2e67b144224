#pragma once
// The chaos tests' fixture: grav_lan_traffic nodes (traffic_node.cpp) on a
// namespace LAN, each publishing a numbered stream at a steady rate, and the
// checks on what they print: progress during an outage (TICK lines) and the
// final counts per stream (TALLY lines), printed as a table.

#include "lan_fixture.hpp"
#include "traffic_lines.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#ifndef GRAV_LAN_TRAFFIC
#error "GRAV_LAN_TRAFFIC must name the traffic node program"
#endif

namespace grav::testkit {

using namespace std::chrono_literals;

// What a node printed when it stopped: its sent count and every stream it received.
struct Totals {
    std::uint64_t sent = 0;
    std::map<std::string, StreamCounts> from;  // by origin id
};

class LanTraffic : public LanTest {
protected:
    // Liveness is quick so that an outage is noticed within about a second:
    // beacons every 200 ms, expiry 1 s, ZMTP heartbeat timeout 1 s.
    static constexpr auto heartbeat_timeout = 1000ms;

    // Messages per second per node: 200 at GRAV_TEST_SCALE 1.
    static double rate() { return std::max(20.0, 200.0 * test_scale()); }

    // `rate_per_s` 0 floods.
    void start(int node, double rate_per_s = rate()) {
        auto& p = launch(node, GRAV_LAN_TRAFFIC,
                         {"--interval", "200", "--expiry", "1000", "--heartbeat-timeout",
                          std::to_string(heartbeat_timeout.count()), "--rate", std::to_string(rate_per_s),
                          "--tick", "100"});
        if (p.process) {
            EXPECT_TRUE(p.process->wait_for_prefix("UP ", 5s)) << "node " << node << " did not come up";
        }
    }

    // Every member READY for every other member (from line marks[who] on).
    bool meshed(const std::vector<int>& members, std::chrono::milliseconds timeout,
                std::map<int, std::size_t> marks = {}) {
        for (int i : members) {
            for (int j : members) {
                if (i != j && !event(i, "READY", j, "", timeout, marks[i])) {
                    ADD_FAILURE() << "node " << i << " never saw node " << j << " ready" << dump(i);
                    return false;
                }
            }
        }
        return true;
    }

    // `node` and each of `peers` see each other READY (from line marks[who] on).
    bool rejoined(int node, const std::vector<int>& peers, std::chrono::milliseconds timeout,
                  std::map<int, std::size_t> marks = {}) {
        for (int p : peers) {
            if (p == node) continue;
            for (auto [who, whom] : {std::pair{node, p}, std::pair{p, node}}) {
                if (!event(who, "READY", whom, "", timeout, marks[who])) {
                    ADD_FAILURE() << "node " << who << " never saw node " << whom << " ready" << dump(who);
                    return false;
                }
            }
        }
        return true;
    }

    // The first TICK of `node` with a time at or after `ms` (and, if given, satisfying `also`).
    std::optional<Tick> tick_after(int node, double ms, std::chrono::milliseconds timeout,
                                   const std::function<bool(const Tick&)>& also = {}) {
        std::optional<Tick> found;
        proc(node).wait_for(
            [&](const std::string& l) {
                auto t = parse_tick(l);
                if (!t || t->ms < ms || (also && !also(*t))) return false;
                found = std::move(t);
                return true;
            },
            timeout);
        return found;
    }

    // Every member receives from every other member messages sent after `ms`.
    bool flowing(const std::vector<int>& members, double ms, std::chrono::milliseconds timeout) {
        std::map<int, Tick> base;
        for (int i : members) {
            auto t = tick_after(i, ms, timeout);
            if (!t) {
                ADD_FAILURE() << "node " << i << " printed no TICK" << dump(i);
                return false;
            }
            base[i] = *t;
        }
        for (int i : members) {
            for (int j : members) {
                if (i == j) continue;
                const auto& origin = id(j);
                const auto before = base[i].received_from(origin);
                if (!tick_after(i, ms, timeout,
                                [&](const Tick& t) { return t.received_from(origin) > before; })) {
                    ADD_FAILURE() << "node " << i << " receives nothing from node " << j << dump(i);
                    return false;
                }
            }
        }
        return true;
    }

    // Reads every node's output until `duration` has passed: an outage is held
    // for its duration while the nodes' pipes keep draining.
    void hold(std::chrono::milliseconds duration) {
        const auto deadline = std::chrono::steady_clock::now() + duration;
        while (std::chrono::steady_clock::now() < deadline) {
            for (auto& [node, p] : procs_) {
                if (p.process) {
                    while (p.process->read_line(0ms)) {}
                }
            }
            std::this_thread::sleep_for(20ms);
        }
    }

    // `node`'s TICKs between from_ms and to_ms (inclusive), with the last one
    // before from_ms first.
    std::vector<Tick> ticks(int node, double from_ms, double to_ms) {
        std::vector<Tick> out;
        for (const auto& l : proc(node).lines()) {
            auto t = parse_tick(l);
            if (!t || t->ms > to_ms) continue;
            if (t->ms < from_ms && !out.empty() && out.back().ms < from_ms) out.pop_back();
            out.push_back(*t);
        }
        return out;
    }

    // During [from_ms, to_ms] `node` kept sending and kept receiving from each
    // of `peers`: no pause between two of its ticks longer than 1 s, and both
    // its sent count and what it got from each peer rose by at least a
    // quarter of the nominal rate over the window. Progress, not speed: the
    // machine running the test may be slow.
    void expect_progress(int node, const std::vector<int>& peers, double from_ms, double to_ms,
                         bool sends = true) {
        ASSERT_TRUE(tick_after(node, to_ms, 3s))
            << "node " << node << " stalled: no TICK after the outage" << dump(node);
        const auto window = ticks(node, from_ms, to_ms + 150);
        ASSERT_GE(window.size(), 2u) << dump(node);
        double longest = 0;
        for (std::size_t k = 1; k < window.size(); ++k)
            longest = std::max(longest, window[k].ms - window[k - 1].ms);
        const double floor = rate() * (to_ms - from_ms) / 1000.0 / 4;
        std::printf("  node %d during the outage (%.0f ms): sent %llu, longest pause between ticks %.0f ms",
                    node, to_ms - from_ms,
                    static_cast<unsigned long long>(window.back().sent - window.front().sent), longest);
        EXPECT_LT(longest, 1000.0) << "node " << node << " stalled for " << longest << " ms";
        if (sends) {
            EXPECT_GE(static_cast<double>(window.back().sent - window.front().sent), floor)
                << "node " << node << " hardly sent during the outage";
        }
        for (int j : peers) {
            if (j == node) continue;
            const auto got = window.back().received_from(id(j)) - window.front().received_from(id(j));
            std::printf(", received %llu from node %d", static_cast<unsigned long long>(got), j);
            EXPECT_GE(static_cast<double>(got), floor)
                << "node " << node << " hardly received from node " << j;
        }
        std::printf("\n");
    }

    // Stops the members' sending (SIGUSR1), waits until every member has
    // received the last message of every other member (`complete` pairs
    // only: a pair whose loss a test expects is not waited for), then stops
    // them (SIGTERM) and collects their totals.
    std::map<int, Totals> finish(const std::vector<int>& members,
                                 const std::function<bool(int to, int from)>& complete = {}) {
        std::map<int, std::uint64_t> quiet;
        for (int m : members) {
            const auto mark = proc(m).line_count();
            proc(m).signal(SIGUSR1);
            const auto q = proc(m).wait_for_prefix("QUIET ", 5s, mark);
            EXPECT_TRUE(q) << "node " << m << " did not stop sending" << dump(m);
            if (q) quiet[m] = std::stoull(split(*q).at(1));
        }
        for (int to : members) {
            for (int from : members) {
                if (to == from || (complete && !complete(to, from))) continue;
                const auto& origin = id(from);
                const auto want = quiet[from];
                // Bounded: the drain after a flood takes a few seconds at most
                // (longer under sanitizers, which run at GRAV_TEST_SCALE < 1).
                const auto drain =
                    std::chrono::milliseconds(static_cast<long>(std::min(40'000.0, 10'000 / test_scale())));
                if (!tick_after(to, 0, drain, [&](const Tick& t) {
                        const auto it = t.from.find(origin);
                        return it != t.from.end() && it->second.last >= want;
                    })) {
                    ADD_FAILURE() << "node " << to << " never got node " << from << "'s last message "
                                  << want;
                }
            }
        }
        std::map<int, Totals> totals;
        for (int m : members) proc(m).signal(SIGTERM);
        for (int m : members) {
            EXPECT_EQ(proc(m).wait_exit(10s), 0) << "node " << m << " did not stop cleanly" << dump(m);
            const auto mark = proc(m).wait_for_prefix("SENT_TOTAL ", 1s);
            EXPECT_TRUE(mark) << dump(m);
            if (mark) totals[m].sent = std::stoull(split(*mark).at(1));
            for (const auto& l : proc(m).lines()) {
                if (auto t = parse_tally(l)) totals[m].from[t->first] = t->second;
            }
        }
        return totals;
    }

    // Prints what `to` counted of `from`'s stream, the test's evidence.
    static void print_stream(int to, int from, const StreamCounts& c, std::optional<std::uint64_t> sent) {
        const auto sent_text = sent ? std::to_string(*sent) : std::string("? (killed)");
        std::printf(
            "  node %d <- node %d: sent %s, received %llu (seq %llu..%llu), gaps %llu, duplicates %llu, "
            "reordered %llu\n",
            to, from, sent_text.c_str(), static_cast<unsigned long long>(c.received),
            static_cast<unsigned long long>(c.first), static_cast<unsigned long long>(c.last),
            static_cast<unsigned long long>(c.gaps), static_cast<unsigned long long>(c.duplicates),
            static_cast<unsigned long long>(c.reordered));
    }

    // `to` received `from`'s stream whole from the moment it subscribed:
    // every number up to the last one sent, each once, in order.
    void expect_lossless(const std::map<int, Totals>& totals, int to, int from) {
        const auto& got = totals.at(to).from;
        const auto it = got.find(id(from));
        ASSERT_NE(it, got.end()) << "node " << to << " received nothing from node " << from;
        const auto& c = it->second;
        const auto sent = totals.at(from).sent;
        print_stream(to, from, c, sent);
        EXPECT_EQ(c.last, sent) << "node " << to << " <- node " << from
                                << ": the last messages never arrived";
        EXPECT_EQ(c.received, c.last - c.first + 1) << "node " << to << " <- node " << from;
        EXPECT_EQ(c.gaps, 0u) << "node " << to << " <- node " << from;
        EXPECT_EQ(c.duplicates, 0u) << "node " << to << " <- node " << from;
        EXPECT_EQ(c.reordered, 0u) << "node " << to << " <- node " << from;
    }

    // Nothing delivered twice or out of order; losses allowed (and printed).
    void expect_no_duplicates_in_order(const std::map<int, Totals>& totals, int to, int from,
                                       const std::string& origin, std::optional<std::uint64_t> sent) {
        const auto& got = totals.at(to).from;
        const auto it = got.find(origin);
        ASSERT_NE(it, got.end()) << "node " << to << " received nothing from node " << from;
        print_stream(to, from, it->second, sent);
        EXPECT_EQ(it->second.duplicates, 0u) << "node " << to << " <- node " << from;
        EXPECT_EQ(it->second.reordered, 0u) << "node " << to << " <- node " << from;
    }
};

}  // namespace grav::testkit
