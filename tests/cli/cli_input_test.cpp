// The grav tool's handling of odd input and failures (issue 21): numbers and
// durations, a closed or empty stdin, over-long lines, outputs that cannot be
// written, failed reply commands, help and unknown commands, peer names.
// Real processes on loopback, each test with its own beacon port.

#include "process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;  // generous: sanitizer builds are slower

class CliInput : public ::testing::Test {
protected:
    [[nodiscard]] std::vector<std::string> grav(const std::string& name, std::vector<std::string> args) const {
        return grav_on_loopback(port_, name, std::move(args));
    }
    // The same, run by /bin/sh with a redirection applied first ("<&-",
    // ">/dev/full"): how a user's shell starts it.
    [[nodiscard]] std::vector<std::string> grav_redirected(const std::string& redirection, const std::string& name,
                                                           std::vector<std::string> args) const {
        std::vector<std::string> argv{"/bin/sh", "-c", "exec \"$0\" \"$@\" " + redirection};
        const auto tool = grav(name, std::move(args));
        argv.insert(argv.end(), tool.begin(), tool.end());
        return argv;
    }

    std::uint16_t port_ = unique_beacon_port();
};

bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST_F(CliInput, NegativeZeroAndMalformedNumbersGetTheUsageError) {
    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"sub", "--count", "-1"}, "--count: '-1' is negative"},
        {{"pub", "t", "x", "--interval", "-1"}, "--interval: '-1' is not a duration"},
        {{"request", "t", "x", "--timeout", "-1"}, "--timeout: '-1' is not a duration"},
        {{"pub", "t", "x", "--count", "0"}, "--count: '0' is less than 1"},
        {{"request", "t", "x", "--timeout", "0"}, "--timeout: '0' is not a duration"},
        {{"request", "t", "x", "--timeout", "5parsecs"}, "unknown unit 'parsecs'"},
        {{"reply", "t", "--echo", "--count", "1.5"}, "--count: '1.5' is not a whole number"},
        {{"peers", "--wait", "1000000h"}, "--wait: '1000000h' is not a duration: longer than"},
        {{"bogus"}, "unknown command 'bogus'"},
        {{}, "no command given"},
    };
    for (const auto& c : cases) {
        Process p(grav("numbers", c.args));
        const auto code = p.wait_exit(kLong);
        ASSERT_TRUE(code) << c.message << ": did not exit\n" << p.transcript();
        EXPECT_EQ(*code, 2) << p.transcript();
        EXPECT_TRUE(p.lines().empty()) << p.transcript();
        EXPECT_TRUE(contains(p.err(), c.message)) << c.message << "\n" << p.err();
        EXPECT_EQ(std::count(p.err().begin(), p.err().end(), '\n'), 1) << p.err();
        EXPECT_LT(p.err().size(), 300u) << p.err();  // no 309-digit bound
    }
}

TEST_F(CliInput, DurationsTakeUnits) {
    Process replier(grav("echoer", {"reply", "test.units", "--echo", "--command-timeout", "1m"}));
    Process requester(grav("asker", {"request", "test.units", "ping", "--timeout", "5s", "--wait-peers", "10s"}));
    ASSERT_EQ(requester.wait_exit(kLong + 5s), 0) << requester.transcript();
    ASSERT_EQ(requester.lines().size(), 1u) << requester.transcript();
    EXPECT_EQ(requester.lines()[0], "ping");
    Process lister(grav("lister", {"peers", "--wait", "0.1s"}));
    EXPECT_EQ(lister.wait_exit(kLong), 0) << lister.transcript();
}

TEST_F(CliInput, PubWithStdinClosedOrEmptyEndsWithANote) {
    Process closed(grav_redirected("<&-", "closed", {"pub", "test.none"}));
    ASSERT_EQ(closed.wait_exit(kLong), 0) << closed.transcript();
    EXPECT_TRUE(contains(closed.err(), "nothing to publish: no DATA and standard input is closed")) << closed.err();

    Process empty(grav("empty", {"pub", "test.none", "--wait-peers", "0"}));
    empty.close_stdin();
    ASSERT_EQ(empty.wait_exit(kLong), 0) << empty.transcript();
    EXPECT_TRUE(contains(empty.err(), "nothing to publish: standard input was empty")) << empty.err();
}

TEST_F(CliInput, ALongLineIsSentAndALineOverTheTransportMaximumIsRefused) {
    Process subscriber(grav("listener", {"sub", "test.big", "--json", "--count", "1"}));
    Process publisher(grav("talker", {"pub", "test.big", "--wait-peers", "10000"}));
    const std::string long_line(256 << 10, 'a');
    publisher.write(long_line + "\n");
    // Over the 64 MiB default: refused once the bound is passed, so
    // the write ends (EPIPE) when the publisher exits.
    const std::string chunk(1 << 20, 'b');
    for (int i = 0; i < 65; ++i) publisher.write(chunk);  // 65 MiB
    publisher.write("\nnot sent either\n");
    publisher.close_stdin();
    ASSERT_EQ(publisher.wait_exit(kLong + 5s), 1) << publisher.transcript().substr(0, 2000);
    EXPECT_TRUE(contains(publisher.err(), "line 2 of standard input is longer than")) << publisher.err();
    EXPECT_TRUE(contains(publisher.err(), "maximum message size; it was not sent")) << publisher.err();
    ASSERT_EQ(subscriber.wait_exit(kLong), 0) << subscriber.transcript().substr(0, 2000);
    ASSERT_EQ(subscriber.lines().size(), 1u);
    EXPECT_TRUE(contains(subscriber.lines()[0], "\"payload\": \"" + long_line + "\""));
}

TEST_F(CliInput, OutputThatCannotBeWrittenIsAFailure) {
    {
        Process replier(grav("echoer", {"reply", "test.full", "--echo"}));
        Process requester(
            grav_redirected(">/dev/full", "asker", {"request", "test.full", "x", "--wait-peers", "10000"}));
        ASSERT_EQ(requester.wait_exit(kLong + 5s), 1) << requester.transcript();
        EXPECT_TRUE(contains(requester.err(), "the reply to 'test.full' was not written")) << requester.err();
        EXPECT_TRUE(contains(requester.err(), "No space left on device")) << requester.err();
    }  // the replier is gone: the publisher below waits for the subscriber, no one else

    Process subscriber(grav_redirected(">/dev/full", "listener", {"sub", "test.full2"}));
    Process publisher(grav("talker", {"pub", "test.full2", "x", "--wait-peers", "10000"}));
    ASSERT_EQ(subscriber.wait_exit(kLong + 5s), 1) << subscriber.transcript();
    EXPECT_TRUE(contains(subscriber.err(), "No space left on device")) << subscriber.err();
}

TEST_F(CliInput, AFailedReplyCommandReachesTheRequesterAsAnError) {
    struct Case {
        std::string type;
        std::vector<std::string> reply_args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"test.fails", {"--command", "echo partial; exit 3"}, "command 'echo partial; exit 3' exited with 3"},
        {"test.missing", {"--command", "no-such-command-for-grav-test"}, "command 'no-such-command-for-grav-test' exited with 127 (command not found)"},
        {"test.slow", {"--command", "sleep 5", "--command-timeout", "200"}, "command 'sleep 5' ran longer than 200 ms and was killed"},
    };
    for (const auto& c : cases) {
        std::vector<std::string> args{"reply", c.type};
        args.insert(args.end(), c.reply_args.begin(), c.reply_args.end());
        Process replier(grav("replier", args));
        Process requester(grav("asker", {"request", c.type, "x", "--timeout", "8000", "--wait-peers", "10000"}));
        ASSERT_EQ(requester.wait_exit(kLong + 5s), 9) << c.type << "\n" << requester.transcript();
        EXPECT_TRUE(requester.lines().empty()) << requester.transcript();  // no partial output
        EXPECT_TRUE(contains(requester.err(), "request '" + c.type + "' failed at replier: " + c.message))
            << requester.err();
    }
}

TEST_F(CliInput, SubcommandHelpListsTheOptionsOfEveryCommand) {
    Process help({GRAV_TOOL, "pub", "--help"});
    ASSERT_EQ(help.wait_exit(kLong), 0) << help.transcript();
    std::string text;
    for (const auto& line : help.lines()) text += line + "\n";
    for (const std::string option : {"--interface", "--group", "--beacon-port", "--connect", "--secure"})
        EXPECT_TRUE(contains(text, option)) << option << "\n" << text;
}

TEST_F(CliInput, SubPrintsTheNamesOfNewPeersNotTheirIds) {
    // Publishers joining one after another while others still run: a
    // publisher's first message may arrive before its join has completed at
    // the subscriber (that is when the race showed: 2 lines in about 40).
    Process subscriber(grav("listener", {"sub", "test.names"}));
    std::vector<std::unique_ptr<Process>> publishers;
    for (int i = 0; i < 30; ++i) {
        publishers.push_back(std::make_unique<Process>(
            grav("talker" + std::to_string(i), {"pub", "test.names", "hello", "--wait-peers", "10000"})));
        std::this_thread::sleep_for(30ms);
    }
    for (auto& p : publishers) ASSERT_TRUE(p->wait_exit(kLong + 5s)) << p->transcript();
    subscriber.wait_for_text("never printed", 1s);  // collect what arrived
    ASSERT_FALSE(subscriber.lines().empty()) << subscriber.transcript();
    for (const auto& line : subscriber.lines())
        EXPECT_TRUE(contains(line, "test.names from talker")) << line << "\n" << subscriber.transcript();
}

}  // namespace
}  // namespace grav::clitest
