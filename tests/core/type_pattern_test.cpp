// The one grammar of type patterns (grav/type_pattern.hpp): what matches,
// what a publisher filters on, and what is refused.
#include <grav/type_pattern.hpp>

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace grav {
namespace {

TypePattern pattern(const std::string& text) {
    auto p = TypePattern::parse(text);
    EXPECT_TRUE(p.ok()) << text << ": " << (p ? "" : p.error().reason());
    return std::move(p).value();
}

TEST(TypePattern, MatchesTokensTheNatsWay) {
    struct Case {
        const char* pattern;
        const char* type;
        bool matches;
    };
    const std::vector<Case> cases{
        {"chat.line", "chat.line", true},
        {"chat.line", "chat.lines", false},
        {"chat.line", "chat", false},
        {"chat.*", "chat.line", true},
        {"chat.*", "chat", false},
        {"chat.*", "chat.line.x", false},
        {"chat.*", "chatty", false},
        {"chat.*", "chatty.line", false},
        {"chat.>", "chat.line", true},
        {"chat.>", "chat.line.x", true},
        {"chat.>", "chat", false},
        {"chat.>", "chatty.x", false},
        {"a.*.c", "a.b.c", true},
        {"a.*.c", "a.b.d", false},
        {"a.*.c", "a.c", false},
        {"a.*.c", "a.b.c.d", false},
        {"*.c", "b.c", true},
        {"*.c", "c", false},
        {"*", "chat", true},
        {"*", "chat.line", false},
        {">", "chat", true},
        {">", "a.b.c.d", true},
        {"*.>", "a", false},
        {"*.>", "a.b", true},
        {"a.*.>", "a.b.c", true},
        {"a.*.>", "a.b", false},
        {"chat.*", "chat..x", false},
        {"chat.*", "chat.", false},
    };
    for (const auto& c : cases)
        EXPECT_EQ(pattern(c.pattern).matches(c.type), c.matches) << c.pattern << " vs " << c.type;
}

TEST(TypePattern, PublishersFilterOnTheTextBeforeTheFirstWildcard) {
    EXPECT_EQ(pattern("chat.line").literal_prefix(), "chat.line");
    EXPECT_EQ(pattern("chat.*").literal_prefix(), "chat.");
    EXPECT_EQ(pattern("chat.>").literal_prefix(), "chat.");
    EXPECT_EQ(pattern("a.*.c").literal_prefix(), "a.");
    EXPECT_EQ(pattern("*.c").literal_prefix(), "");
    EXPECT_EQ(pattern(">").literal_prefix(), "");
    EXPECT_TRUE(pattern("chat.line").is_literal());
    EXPECT_FALSE(pattern("a.*.c").is_literal());
}

TEST(TypePattern, RefusesAPatternThatCanMatchNothingWithTheReason) {
    const std::vector<std::pair<const char*, const char*>> refused{
        {"", "is empty"},
        {"a..b", "empty token"},
        {".a", "empty token"},
        {"a.", "empty token"},
        {"a.>.b", "'>' before its last token"},
        {">.a", "'>' before its last token"},
        {"*x", "must stand alone"},
        {"a.b*c", "must stand alone"},
        {"a.>x", "must stand alone"},
        {"a b", "white space"},
        {"chat*", "must stand alone"},
    };
    for (const auto& [text, why] : refused) {
        auto p = TypePattern::parse(text);
        ASSERT_FALSE(p.ok()) << "'" << text << "' was accepted";
        EXPECT_EQ(p.error().code(), Errc::invalid_argument);
        EXPECT_NE(p.error().reason().find(why), std::string::npos) << text << ": " << p.error().reason();
    }
}

TEST(TypePattern, TheOldPrefixFormPointsAtWhatToWriteNow) {
    auto p = TypePattern::parse("chat*");
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().reason().find("the old prefix form: '*' and '>' must stand alone as a token now "
                                      "('chat.*' for one more token, 'chat.>' for one or more)"),
              std::string::npos)
        << p.error().reason();
    auto nested = TypePattern::parse("orders.eu*");
    ASSERT_FALSE(nested.ok());
    EXPECT_NE(nested.error().reason().find("'orders.eu.>'"), std::string::npos) << nested.error().reason();
}

TEST(TypePattern, TypesAreChecked) {
    EXPECT_TRUE(check_type("chat.line").ok());
    EXPECT_FALSE(check_type("chat.*").ok());
    EXPECT_FALSE(check_type("chat.>").ok());
    EXPECT_FALSE(check_type("chat..line").ok());
}

}  // namespace
}  // namespace grav
