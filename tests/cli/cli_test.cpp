// The grav tool and grav-chat as a user runs them: separate processes that
// find each other by beacons on loopback. Each test uses its own beacon port.

#include "process.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;

// Generous: sanitizer builds are several times slower.
constexpr auto kLong = 10s;

class Cli : public ::testing::Test {
protected:
    // `grav` with the network options every test shares: loopback only, and
    // a beacon port nobody else uses.
    [[nodiscard]] std::vector<std::string> grav(const std::string& name, std::vector<std::string> args) const {
        return grav_on_loopback(port_, name, std::move(args));
    }
    [[nodiscard]] std::vector<std::string> chat(const std::string& name) const {
        return {GRAV_CHAT, "--name", name, "--interface", "lo", "--beacon-port", std::to_string(port_)};
    }

    std::uint16_t port_ = unique_beacon_port();
};

TEST_F(Cli, TwoChatsSeeEachOtherJoinExchangeALineAndLeave) {
    Process alice(chat("alice"));
    Process bob(chat("bob"));
    ASSERT_TRUE(alice.wait_for_text("* bob joined", kLong)) << alice.transcript();
    ASSERT_TRUE(bob.wait_for_text("* alice joined", kLong)) << bob.transcript();

    bob.write("hello alice\n");
    EXPECT_TRUE(alice.wait_for_text("[bob] hello alice", kLong)) << alice.transcript();
    alice.write("hi bob\n");
    EXPECT_TRUE(bob.wait_for_text("[alice] hi bob", kLong)) << bob.transcript();

    // Ctrl-D: bob leaves cleanly, alice is told at once.
    bob.close_stdin();
    EXPECT_EQ(bob.wait_exit(kLong), 0) << bob.transcript();
    EXPECT_TRUE(alice.wait_for_text("* bob left", kLong)) << alice.transcript();
    // A pod never receives its own lines.
    for (const auto& line : bob.lines()) EXPECT_EQ(line.find("[bob]"), std::string::npos) << line;
}

TEST_F(Cli, RequestGetsTheAnswerFromReplyEcho) {
    Process replier(grav("echoer", {"reply", "test.echo", "--echo"}));
    Process requester(grav("asker", {"request", "test.echo", "ping 42", "--timeout", "5000", "--wait-peers", "10000"}));
    ASSERT_EQ(requester.wait_exit(kLong + 5s), 0) << requester.transcript();
    ASSERT_EQ(requester.lines().size(), 1u) << requester.transcript();
    EXPECT_EQ(requester.lines()[0], "ping 42");
    EXPECT_TRUE(replier.wait_for_text("test.echo from asker: replied 7 bytes", kLong)) << replier.transcript();
}

TEST_F(Cli, ReplyCommandGetsTheRequestOnStdinAndRepliesWithItsStdout) {
    Process replier(grav("upper", {"reply", "test.upper", "--command", "tr a-z A-Z"}));
    Process requester(grav("asker", {"request", "test.upper", "shout this", "--wait-peers", "10000"}));
    ASSERT_EQ(requester.wait_exit(kLong + 5s), 0) << requester.transcript();
    ASSERT_FALSE(requester.lines().empty()) << requester.transcript();
    EXPECT_EQ(requester.lines()[0], "SHOUT THIS");
}

TEST_F(Cli, RequestThatNobodyOffersExitsSixWithAClearMessage) {
    Process requester(grav("asker", {"request", "nobody.offers.this", "x", "--wait-peers", "500"}));
    ASSERT_EQ(requester.wait_exit(kLong), 6) << requester.transcript();
    EXPECT_NE(requester.err().find("no peer offers 'nobody.offers.this'"), std::string::npos) << requester.err();
}

TEST_F(Cli, RequestWithoutAReplyInTimeExitsFive) {
    // The replier is there (so the request goes out) but answers too late.
    Process replier(grav("slow", {"reply", "test.slow", "--command", "sleep 5"}));
    Process requester(grav("asker", {"request", "test.slow", "x", "--timeout", "300", "--wait-peers", "10000"}));
    ASSERT_EQ(requester.wait_exit(kLong + 5s), 5) << requester.transcript();
    EXPECT_NE(requester.err().find("no reply to 'test.slow' within 300 ms"), std::string::npos) << requester.err();
}

TEST_F(Cli, SubJsonPrintsOneParsableObjectPerMessage) {
    Process subscriber(grav("listener", {"sub", "test.json", "--json", "--count", "2"}));
    const std::string payload = R"(quotes " backslash \ tab	unicode ü)";
    Process publisher(grav("talker", {"pub", "test.json", payload, "--count", "2", "--wait-peers", "10000"}));
    ASSERT_EQ(publisher.wait_exit(kLong + 5s), 0) << publisher.transcript();
    ASSERT_EQ(subscriber.wait_exit(kLong), 0) << subscriber.transcript();
    ASSERT_EQ(subscriber.lines().size(), 2u) << subscriber.transcript();

    // Parsed by Python's json module, not by us.
    const std::string file = ::testing::TempDir() + "sub_json_" + std::to_string(::getpid()) + ".txt";
    {
        std::ofstream out(file);
        for (const auto& line : subscriber.lines()) out << line << "\n";
    }
    const std::string check =
        "import json,sys\n"
        "lines=open(sys.argv[1]).read().splitlines()\n"
        "for l in lines:\n"
        "    o=json.loads(l)\n"
        "    assert o['type']=='test.json', o\n"
        "    assert o['payload']==sys.argv[2], o\n"
        "    assert o['id'] and o['origin'] and o['timestamp'], o\n"
        "print(len(lines))\n";
    Process python({"/usr/bin/python3", "-c", check, file, payload});
    EXPECT_EQ(python.wait_exit(kLong), 0) << python.transcript();
    std::remove(file.c_str());
}

TEST_F(Cli, PubWithoutDataPublishesEachLineOfStdin) {
    Process subscriber(grav("listener", {"sub", "test.lines", "--count", "3"}));
    Process publisher(grav("talker", {"pub", "test.lines", "--wait-peers", "10000"}));
    publisher.write("one\ntwo\nthree\n");
    publisher.close_stdin();
    ASSERT_EQ(publisher.wait_exit(kLong + 5s), 0) << publisher.transcript();
    ASSERT_EQ(subscriber.wait_exit(kLong), 0) << subscriber.transcript();
    ASSERT_EQ(subscriber.lines().size(), 3u) << subscriber.transcript();
    EXPECT_NE(subscriber.lines()[0].find("test.lines from talker: one"), std::string::npos) << subscriber.transcript();
    EXPECT_NE(subscriber.lines()[2].find("test.lines from talker: three"), std::string::npos) << subscriber.transcript();
}

TEST_F(Cli, CtrlCLeavesTheMeshCleanly) {
    Process watcher(grav("watcher", {"peers", "--watch", "--wait", "0"}));
    Process subscriber(grav("leaver", {"sub"}));
    ASSERT_TRUE(watcher.wait_for_text("+ leaver", kLong)) << watcher.transcript();
    subscriber.signal(SIGINT);
    EXPECT_EQ(subscriber.wait_exit(kLong), 0) << subscriber.transcript();
    // "withdrew": it said goodbye, the watcher did not have to time it out.
    EXPECT_TRUE(watcher.wait_for_text("leaver", 0ms));
    const auto left = watcher.wait_for_text("- leaver", kLong);
    ASSERT_TRUE(left) << watcher.transcript();
    EXPECT_NE(left->find("withdrew"), std::string::npos) << *left;
}

TEST_F(Cli, PeersListsTheNodesInViewWithTheirInterests) {
    Process replier(grav("offering", {"reply", "test.offer", "--echo"}));
    Process lister(grav("lister", {"peers", "--wait", "1500"}));
    ASSERT_EQ(lister.wait_exit(kLong), 0) << lister.transcript();
    ASSERT_GE(lister.lines().size(), 2u) << lister.transcript();
    EXPECT_NE(lister.lines()[0].find("INTERESTS"), std::string::npos) << lister.transcript();
    bool found = false;
    for (const auto& line : lister.lines())
        found = found || (line.find("offering") != std::string::npos && line.find("test.offer") != std::string::npos &&
                          line.find("ready") != std::string::npos);
    EXPECT_TRUE(found) << lister.transcript();
}

TEST_F(Cli, BenchMeasuresBothPatternsAndPrintsASummary) {
    Process bench({GRAV_TOOL, "bench", "--messages", "2000", "--requests", "100", "--size", "64"});
    ASSERT_EQ(bench.wait_exit(20s), 0) << bench.transcript();
    bool pubsub = false;
    bool requests = false;
    for (const auto& line : bench.lines()) {
        pubsub = pubsub || line.rfind("pub/sub ", 0) == 0;
        requests = requests || line.rfind("request/reply ", 0) == 0;
        EXPECT_EQ(line.find("INCOMPLETE"), std::string::npos) << line;
    }
    EXPECT_TRUE(pubsub && requests) << bench.transcript();
}

// Bad input: one line on stderr, the documented exit code, no hang, no trace.
struct BadInput {
    std::string what;
    std::vector<std::string> args;
    int code;
    std::string message;
};

void expect_one_line_error(Process& p, const BadInput& c) {
    const auto code = p.wait_exit(kLong);
    ASSERT_TRUE(code) << c.what << ": did not exit";
    EXPECT_EQ(*code, c.code) << c.what << "\n" << p.transcript();
    EXPECT_TRUE(p.lines().empty()) << c.what << "\n" << p.transcript();
    EXPECT_NE(p.err().find(c.message), std::string::npos) << c.what << "\n" << p.err();
    EXPECT_EQ(std::count(p.err().begin(), p.err().end(), '\n'), 1) << c.what << "\n" << p.err();
    EXPECT_EQ(p.err().rfind("grav: error: ", 0), 0u) << c.what << "\n" << p.err();
}

TEST_F(Cli, BadInputGetsAOneLineErrorAndItsExitCode) {
    const std::vector<BadInput> cases = {
        {"empty type", {"pub", "", "data"}, 2, "empty"},
        {"empty sub type", {"sub", ""}, 2, "empty"},
        {"unknown option", {"pub", "a", "b", "--no-such-option"}, 2, "no-such-option"},
        {"no command", {}, 2, "no command given"},
        {"bad number", {"pub", "a", "b", "--count", "lots"}, 2, "count"},
        {"reply without --echo or --command", {"reply", "x"}, 2, "--echo or --command"},
        {"unparsable endpoint", {"--connect", "tcp://no-port-here", "pub", "a", "b"}, 3, "unparsable endpoint"},
        {"unparsable endpoint scheme", {"--connect", "udp://127.0.0.1:5", "sub"}, 3, "unparsable endpoint"},
        {"bad seed", {"--seed", "nocolon", "sub"}, 3, "not HOST:PORT"},
        {"beacon port 0", {"--beacon-port", "0", "sub"}, 2, "beacon-port"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> argv{GRAV_TOOL};
        argv.insert(argv.end(), c.args.begin(), c.args.end());
        Process p(argv);
        expect_one_line_error(p, c);
    }
}

TEST_F(Cli, UnknownInterfaceExitsThree) {
    const BadInput c{"unknown interface", {}, 3, "unknown interface 'no-such-if0'"};
    Process p({GRAV_TOOL, "--interface", "no-such-if0", "--beacon-port", std::to_string(port_), "sub"});
    expect_one_line_error(p, c);
}

TEST_F(Cli, PortInUseExitsFour) {
    // Hold a TCP port on loopback, then ask grav to listen on it.
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(fd, 1), 0);
    socklen_t size = sizeof address;
    ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size), 0);
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(ntohs(address.sin_port));

    const BadInput c{"port in use", {}, 4, "cannot start the node"};
    Process p(grav("blocked", {"--bind", endpoint, "sub"}));
    expect_one_line_error(p, c);
    ::close(fd);
}

// Listens on a loopback TCP port (0: any); returns the socket, or -1.
int listen_on_loopback(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 1) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::uint16_t port_of(int fd) {
    sockaddr_in address{};
    socklen_t size = sizeof address;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) return 0;
    return ntohs(address.sin_port);
}

// --bind tcp://H:P takes P+1 too, for the fan-out socket: when P+1 is taken
// the error names P+1 and that socket, not P.
TEST_F(Cli, BindWhosePortPlusOneIsTakenNamesTheFanOutSocket) {
    int held = -1;
    std::uint16_t port = 0;
    for (int attempt = 0; attempt < 20 && port == 0; ++attempt) {
        held = listen_on_loopback(0);
        ASSERT_GE(held, 0);
        const std::uint16_t taken = port_of(held);
        // P = taken - 1 must be free, or the error would rightly be about P.
        if (const int probe = taken > 1024 ? listen_on_loopback(taken - 1) : -1; probe >= 0) {
            ::close(probe);
            port = static_cast<std::uint16_t>(taken - 1);
        } else {
            ::close(held);
        }
    }
    ASSERT_NE(port, 0) << "no free port below a taken one";
    const std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
    const std::string fanout = "tcp://127.0.0.1:" + std::to_string(port + 1);
    const BadInput c{"port+1 in use",
                     {},
                     4,
                     "cannot start the node: cannot bind the fan-out (XPUB) socket on '" + fanout +
                         "' (port+1 of '" + endpoint + "')"};
    Process p(grav("blocked", {"--bind", endpoint, "sub"}));
    expect_one_line_error(p, c);
    ::close(held);

    const BadInput last{
        "port 65535", {}, 3, "the fan-out (XPUB) socket takes port+1, and 65535 is the last port"};
    Process q(grav("last", {"--bind", "tcp://127.0.0.1:65535", "sub"}));
    expect_one_line_error(q, last);
}

// A subscriber whose stdout nobody reads (a pipe that fills) falls far
// behind; pub stops after the transport's flush time and says so: a warning
// with the count and exit code 8, never a silent "published". The subscriber
// warns that the same tail was lost.
TEST_F(Cli, PubToASubscriberTooSlowToCatchUpWarnsAndExitsEight) {
    Process slow(grav("slow", {"sub", "t.tail"}));  // its stdout is not read until pub is done
    Process pub(grav("fast", {"pub", "t.tail", "x", "--count", "100000", "--wait-peers", "10000"}));
    EXPECT_EQ(pub.wait_exit(kLong + 20s), 8) << pub.transcript();
    EXPECT_NE(pub.err().find("did not reach it before this node stopped"), std::string::npos) << pub.err();
    EXPECT_NE(pub.err().find("exit code 8"), std::string::npos) << pub.err();
    // Now read the subscriber: it got the head and reports the tail lost.
    (void)slow.wait_for_text("a line it never prints", 3s);
    EXPECT_NE(slow.err().find("were lost"), std::string::npos) << slow.err();
}

}  // namespace
}  // namespace grav::clitest
