// `grav sub` with the one grammar of type patterns (grav/type_pattern.hpp,
// NATS's): '*' one token in any position, a last '>' the rest; a pattern
// that can match nothing is a usage error. Real processes on loopback.

#include "process.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;

constexpr auto kLong = 10s;  // generous: sanitizer builds are slower

// The types in the order each subscriber printed them ("HH:MM:SS.mmm TYPE from NAME: payload").
std::vector<std::string> printed_types(const Process& p) {
    std::vector<std::string> types;
    for (const auto& line : p.lines()) {
        const auto start = line.find(' ');
        const auto end = line.find(" from ");
        if (start != std::string::npos && end != std::string::npos && end > start)
            types.push_back(line.substr(start + 1, end - start - 1));
    }
    return types;
}

TEST(CliPattern, SubGetsExactlyTheTypesItsPatternMatches) {
    const std::uint16_t port = unique_beacon_port();
    Process middle(grav_on_loopback(port, "middle", {"-v", "sub", "a.*.c", "--count", "2"}));
    Process rest(grav_on_loopback(port, "rest", {"-v", "sub", "chat.>", "--count", "2"}));
    Process all(grav_on_loopback(port, "all", {"-v", "sub", ">", "--count", "8"}));
    for (Process* sub : {&middle, &rest, &all})
        ASSERT_TRUE(wait_for_stderr(*sub, "listening on", kLong)) << sub->transcript();
    // One publisher after the other, each waiting until every subscriber it
    // hears is ready (a subscriber that has its count leaves): every
    // subscriber sees them in this order.
    const std::vector<std::string> types{"a.b.d", "a.b.c.d",   "chat",        "chatty",
                                         "a.b.c", "chat.line", "chat.line.x", "a.x.c"};
    for (const auto& type : types) {
        Process pub(grav_on_loopback(port, "pub", {"pub", type, "x", "--wait-peers", "10000"}));
        ASSERT_EQ(pub.wait_exit(kLong + 5s), 0) << type << "\n" << pub.transcript();
    }
    ASSERT_EQ(middle.wait_exit(kLong), 0) << middle.transcript();
    ASSERT_EQ(rest.wait_exit(kLong), 0) << rest.transcript();
    ASSERT_EQ(all.wait_exit(kLong), 0) << all.transcript();
    EXPECT_EQ(printed_types(middle), (std::vector<std::string>{"a.b.c", "a.x.c"})) << middle.transcript();
    EXPECT_EQ(printed_types(rest), (std::vector<std::string>{"chat.line", "chat.line.x"}))
        << rest.transcript();
    EXPECT_EQ(printed_types(all), types) << all.transcript();
}

TEST(CliPattern, SubRefusesAPatternThatCanMatchNothing) {
    struct Case {
        std::string pattern;
        std::string message;
    };
    const std::vector<Case> cases{
        {"chat*",
         "pattern 'chat*' is the old prefix form: '*' and '>' must stand alone as a token now "
         "('chat.*' for one more token, 'chat.>' for one or more)"},
        {"a..b", "pattern 'a..b' has an empty token"},
        {"a.>.b", "pattern 'a.>.b' has '>' before its last token"},
        {"*x", "pattern '*x' has '*x': '*' and '>' must stand alone as a token"},
        {"chat.", "pattern 'chat.' has an empty token"},
    };
    const std::uint16_t port = unique_beacon_port();
    for (const auto& c : cases) {
        Process p(grav_on_loopback(port, "refused", {"sub", "ok.type", c.pattern}));
        const auto code = p.wait_exit(kLong);
        ASSERT_TRUE(code) << c.pattern << ": did not exit\n" << p.transcript();
        EXPECT_EQ(*code, 2) << c.pattern << "\n" << p.transcript();
        EXPECT_TRUE(p.lines().empty()) << p.transcript();
        EXPECT_NE(p.err().find(c.message), std::string::npos) << c.pattern << "\n" << p.err();
        EXPECT_EQ(std::count(p.err().begin(), p.err().end(), '\n'), 1) << p.err();
    }
}

}  // namespace
}  // namespace grav::clitest
