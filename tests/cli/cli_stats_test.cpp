// `grav stats` and the health columns of `grav peers`, run as a user runs
// them: long-running `grav sub`, `grav reply` and `grav pub` nodes on
// loopback trade a known number of messages, then the tool asks them over
// the mesh (grav.sys.stats) and must show exactly those counts on the row of
// the right node.

#include "process.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <string>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;  // generous: sanitizer builds are several times slower

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

bool starts_with(const std::string& line, const std::string& prefix) { return line.rfind(prefix, 0) == 0; }

// The first line of `p`'s output that starts with `prefix`, split in words.
std::vector<std::string> row_of(const Process& p, const std::string& prefix) {
    for (const auto& line : p.lines())
        if (starts_with(line, prefix)) return words(line);
    return {};
}

class CliStats : public ::testing::Test {
protected:
    [[nodiscard]] std::vector<std::string> grav(const std::string& name,
                                                std::vector<std::string> args) const {
        return grav_on_loopback(port_, name, std::move(args));
    }

    // listener: a sub of "test.stats.news"; answerer: an echo reply for
    // "test.stats.ask"; talker: a pub of the news that stays while its
    // stdin is open. After it: `published` news at the listener,
    // `requests` answered by the answerer.
    void start_mesh() {
        listener_ = std::make_unique<Process>(grav("listener", {"sub", "test.stats.news"}));
        answerer_ = std::make_unique<Process>(grav("answerer", {"reply", "test.stats.ask", "--echo"}));
        talker_ = std::make_unique<Process>(
            grav("talker", {"pub", "test.stats.news", "--wait-peers", "10s", "--peers", "2"}));
        for (int i = 0; i < published; ++i) talker_->write("news " + std::to_string(i) + "\n");
        for (int i = 0; i < published; ++i) {
            ASSERT_TRUE(listener_->wait_for_text("news " + std::to_string(i), kLong))
                << listener_->transcript() << talker_->transcript();
        }
        for (int i = 0; i < requests; ++i) {
            Process asker(grav("asker", {"request", "test.stats.ask", "q", "--wait-peers", "10s"}));
            ASSERT_EQ(asker.wait_exit(kLong + 5s), 0) << asker.transcript();
        }
    }

    static constexpr int published = 5;
    static constexpr int requests = 3;
    std::uint16_t port_ = unique_beacon_port();
    std::unique_ptr<Process> listener_, answerer_, talker_;
};

TEST_F(CliStats, TheTableShowsEachNodesExactCounts) {
    ASSERT_NO_FATAL_FAILURE(start_mesh());
    Process stats(grav("inspector", {"stats", "--wait", "1s"}));
    ASSERT_EQ(stats.wait_exit(kLong + 5s), 0) << stats.transcript();
    ASSERT_FALSE(stats.lines().empty());
    const auto header = words(stats.lines()[0]);
    ASSERT_GE(header.size(), 10u) << stats.transcript();
    EXPECT_EQ(header[0], "NODE");
    EXPECT_EQ(header[3], "SENT");
    EXPECT_EQ(header[4], "DELIVERED");
    // NODE is "name (id)": two words; then STATUS PODS SENT DELIVERED FAILED
    // DROPPED FROM PEERS PEERS ...
    const auto listener = row_of(stats, "listener (");
    ASSERT_GE(listener.size(), 10u) << stats.transcript();
    EXPECT_EQ(listener[2], "ok");
    EXPECT_EQ(listener[4], "0");                        // sent
    EXPECT_EQ(listener[5], std::to_string(published));  // delivered
    EXPECT_EQ(listener[8], std::to_string(published));  // from peers
    const auto answerer = row_of(stats, "answerer (");
    ASSERT_GE(answerer.size(), 10u) << stats.transcript();
    EXPECT_EQ(answerer[4], std::to_string(requests));  // its replies
    EXPECT_EQ(answerer[5], std::to_string(requests));
    EXPECT_EQ(answerer[8], std::to_string(requests));
    const auto talker = row_of(stats, "talker (");
    ASSERT_GE(talker.size(), 10u) << stats.transcript();
    EXPECT_EQ(talker[4], std::to_string(published));
    // Asking left no trace in the counters pods see: asked again, the same.
    Process again(grav("inspector2", {"stats", "--node", "listener", "--wait", "1s"}));
    ASSERT_EQ(again.wait_exit(kLong + 5s), 0) << again.transcript();
    EXPECT_EQ(row_of(again, "delivered "), (std::vector<std::string>{"delivered", std::to_string(published)}))
        << again.transcript();
    EXPECT_EQ(row_of(again, "received_from_peers "),
              (std::vector<std::string>{"received_from_peers", std::to_string(published)}))
        << again.transcript();
    EXPECT_FALSE(row_of(again, "zmq.messages_received ").empty()) << again.transcript();
    EXPECT_TRUE(row_of(again, "answerer (").empty()) << "--node shows that node only\n" << again.transcript();
}

TEST_F(CliStats, WatchRefreshesUntilCtrlC) {
    Process listener(grav("listener", {"sub", "test.stats.news"}));
    Process watch(grav("watcher", {"stats", "--watch", "--interval", "200ms", "--wait", "1s"}));
    // Three tables, each with the listener's row (one wait: it reads on).
    int rows = 0;
    ASSERT_TRUE(watch.wait_for_line(
        [&](const std::string& line) { return starts_with(line, "listener (") && ++rows >= 3; }, kLong + 5s))
        << watch.transcript();
    watch.signal(SIGINT);
    EXPECT_EQ(watch.wait_exit(kLong), 0) << watch.transcript();
    std::size_t separators = 0;
    for (const auto& line : watch.lines()) separators += starts_with(line, "--- ") ? 1 : 0;
    EXPECT_GE(separators, 3u) << watch.transcript();
}

TEST_F(CliStats, NoNodeOrAnUnknownNodeIsExitSix) {
    Process alone(grav("alone", {"stats", "--wait", "0.3s"}));
    EXPECT_EQ(alone.wait_exit(kLong), 6) << alone.transcript();
    EXPECT_NE(alone.err().find("no nodes in view"), std::string::npos) << alone.err();
    Process listener(grav("listener", {"sub", "test.stats.news"}));
    Process unknown(grav("asker", {"stats", "--node", "nobody", "--wait", "0.5s"}));
    EXPECT_EQ(unknown.wait_exit(kLong), 6) << unknown.transcript();
    EXPECT_NE(unknown.err().find("no node 'nobody' in view"), std::string::npos) << unknown.err();
    Process usage(grav("asker", {"stats", "--interval", "0"}));
    EXPECT_EQ(usage.wait_exit(kLong), 2) << usage.transcript();
}

TEST_F(CliStats, PeersShowsRoundTripTrafficAndLastSeen) {
    ASSERT_NO_FATAL_FAILURE(start_mesh());
    Process peers(grav("lister", {"peers", "--wait", "1.5s"}));
    ASSERT_EQ(peers.wait_exit(kLong), 0) << peers.transcript();
    ASSERT_FALSE(peers.lines().empty());
    for (const char* column :
         {"RTT", "MSGS OUT", "BYTES OUT", "MSGS IN", "BYTES IN", "RESENT", "LOST", "LAST SEEN"})
        EXPECT_NE(peers.lines()[0].find(column), std::string::npos) << column << "\n" << peers.transcript();
    // Its own links: a round trip measured at the handshake, seen lately.
    bool listed = false;
    for (const auto& line : peers.lines()) {
        if (line.find(" listener ") == std::string::npos) continue;
        listed = true;
        EXPECT_NE(line.find(" ms "), std::string::npos) << line;
        EXPECT_NE(line.find(" s ago"), std::string::npos) << line;
    }
    EXPECT_TRUE(listed) << peers.transcript();

    // The listener's own view: exactly the news from the talker came in.
    Process remote(grav("lister2", {"peers", "--node", "listener", "--wait", "1s"}));
    ASSERT_EQ(remote.wait_exit(kLong + 5s), 0) << remote.transcript();
    const auto talker = [&] {
        for (const auto& line : remote.lines())
            if (line.find(" talker ") != std::string::npos) return words(line);
        return std::vector<std::string>{};
    }();
    // ID NAME RTT(2 words) MSGS-OUT BYTES-OUT(2) MSGS-IN BYTES-IN(2) RESENT LOST LAST SEEN(3)
    ASSERT_GE(talker.size(), 13u) << remote.transcript();
    EXPECT_EQ(talker[3], "ms");
    EXPECT_EQ(talker[4], "0");                        // the listener sent it nothing point to point
    EXPECT_EQ(talker[7], std::to_string(published));  // msgs in
    EXPECT_EQ(talker[10], "0");                       // resent
    EXPECT_EQ(talker[11], "0");                       // lost
}

}  // namespace
}  // namespace grav::clitest
