// A publisher that stops while a slow subscriber is behind (issue 21.1):
// either everything arrives, or the publisher says exactly how many did not
// reach that subscriber and the subscriber reports the same tail lost.
// Both nodes are zmq_bus_node processes on 127.0.0.1.
#include "child_process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::testkit::ChildProcess;

constexpr std::size_t total = 100000;

std::string field(const std::string& line, std::size_t index) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) start = line.find(' ', start) + 1;
    return line.substr(start, line.find(' ', start) - start);
}

// Every line of `child` that starts with `prefix`.
std::vector<std::string> lines_of(const ChildProcess& child, const std::string& prefix) {
    std::vector<std::string> found;
    for (const auto& line : child.lines()) {
        if (line.rfind(prefix, 0) == 0) found.push_back(line);
    }
    return found;
}

std::optional<std::uint64_t> stat_after_stop(const ChildProcess& child, const std::string& name) {
    for (const auto& line : lines_of(child, "stopstat " + name + " ")) return std::stoull(field(line, 2));
    return std::nullopt;
}

struct Pair {
    std::unique_ptr<ChildProcess> sub;
    std::unique_ptr<ChildProcess> pub;
    std::string sub_id;
    std::string pub_id;
};

// A subscriber whose pod stalls `stall_ms` on the first message, with a small
// mailbox and receive HWM (so that the publisher is held back at once), and a
// publisher of `total` messages that stops as soon as it has published them.
Pair stop_while_behind(int stall_ms, int sub_flush_ms, int pub_flush_ms) {
    Pair run;
    run.sub = std::make_unique<ChildProcess>(std::vector<std::string>{
        GRAV_BUS_NODE, "--name", "slow", "--quiet", "1", "--stall-ms", std::to_string(stall_ms), "--mailbox",
        "1000", "--recv-hwm", "100", "--stop-flush-ms", std::to_string(sub_flush_ms)});
    auto endpoint = run.sub->wait_for_prefix("endpoint ", 10s);
    EXPECT_TRUE(endpoint);
    run.sub_id = field(*run.sub->wait_for_prefix("id ", 10s), 1);
    run.pub = std::make_unique<ChildProcess>(std::vector<std::string>{
        GRAV_BUS_NODE, "--name", "pub", "--connect", field(*endpoint, 1), "--peers", "1", "--count",
        std::to_string(total), "--type", "stall.t", "--stop-flush-ms", std::to_string(pub_flush_ms)});
    run.pub_id = field(*run.pub->wait_for_prefix("id ", 10s), 1);
    EXPECT_TRUE(run.pub->wait_for_prefix("ready", 10s)) << "the publisher never joined";
    EXPECT_TRUE(run.pub->wait_for_prefix("sent", 60s));
    EXPECT_TRUE(run.sub->wait_for_prefix("stalling", 10s));
    run.pub->signal(SIGTERM);  // stop now, with the subscriber far behind
    EXPECT_TRUE(run.pub->wait_for_prefix("stopped", 30s));
    EXPECT_EQ(run.pub->wait_exit(10s), 0);
    EXPECT_TRUE(run.sub->wait_for_prefix("resumed", 30s));
    // The publisher is gone; let the subscriber take what it has, then stop it.
    EXPECT_TRUE(
        run.sub->wait_for([&](const std::string& l) { return l.rfind("left " + run.pub_id, 0) == 0; }, 30s));
    run.sub->signal(SIGTERM);
    EXPECT_TRUE(run.sub->wait_for_prefix("stopped", 30s));
    EXPECT_EQ(run.sub->wait_exit(10s), 0);
    return run;
}

std::uint64_t received(const ChildProcess& sub) {
    auto lines = lines_of(sub, "received ");
    return lines.empty() ? 0 : std::stoull(field(lines.front(), 1));
}

std::uint64_t reported(const ChildProcess& child, const std::string& prefix, const std::string& peer) {
    std::uint64_t sum = 0;
    for (const auto& line : lines_of(child, prefix + " " + peer + " ")) {
        const std::string count = field(line, 2);
        if (count == "unconfirmed") return ~std::uint64_t{0};
        sum += std::stoull(count);
    }
    return sum;
}

// The subscriber catches up within the publisher's flush time: all arrives,
// nothing is reported, and stop() waited for it.
TEST(StopFlush, ASlowSubscriberThatCatchesUpInTimeGetsEverything) {
    Pair run = stop_while_behind(2500, 10000, 10000);
    EXPECT_EQ(received(*run.sub), total);
    EXPECT_EQ(reported(*run.pub, "unsent", run.sub_id), 0u);
    EXPECT_EQ(reported(*run.sub, "lost", run.pub_id), 0u);
    EXPECT_EQ(stat_after_stop(*run.pub, "zmq.unsent_at_stop"), 0u);
    EXPECT_EQ(stat_after_stop(*run.pub, "zmq.unconfirmed_at_stop"), 0u);
}

// The subscriber stalls longer than both flush times: the publisher says
// exactly how many of its messages that subscriber did not take, and the
// subscriber reports exactly that tail lost; nothing is lost silently.
TEST(StopFlush, ASubscriberTooSlowForTheFlushTimeIsToldTheExactTailBothSides) {
    Pair run = stop_while_behind(6000, 1000, 1000);
    const std::uint64_t got = received(*run.sub);
    const std::uint64_t unsent = reported(*run.pub, "unsent", run.sub_id);
    const std::uint64_t lost = reported(*run.sub, "lost", run.pub_id);
    EXPECT_LT(got, total) << "the stall was meant to outlast the flush time";
    EXPECT_EQ(got + unsent, total) << "the publisher's count is not exact";
    EXPECT_EQ(lost, unsent) << "the two sides disagree";
    EXPECT_EQ(stat_after_stop(*run.pub, "zmq.unsent_at_stop"), unsent);
    EXPECT_EQ(stat_after_stop(*run.pub, "zmq.unconfirmed_at_stop"), 0u);
    EXPECT_EQ(stat_after_stop(*run.sub, "zmq.lost"), lost);
}

}  // namespace
}  // namespace grav::ztest
