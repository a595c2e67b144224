// A pod's failure list (core/src/failure_replay.hpp): what the handler failed
// is handed to it again in order once it succeeds, stopping at the first
// message that fails again; what the handler no longer wants is dropped.
#include "failure_replay.hpp"
#include "type_filter.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace grav::detail {
namespace {

MessagePtr message(std::string type) { return std::make_shared<const Message>(std::move(type), "x"); }

TypeFilter filter(std::string_view pattern) { return TypeFilter(TypePattern::parse(pattern).value()); }

TEST(FailureReplay, ReplaysInOrderDropsWhatIsNoLongerWantedAndStopsAtTheNextFailure) {
    FailureReplay failures;
    failures.record(message("a.1"));
    failures.record(message("b.1"));
    failures.record(message("a.2"));
    failures.record(message("a.3"));

    std::vector<std::string> seen;
    auto refuse_a2 = [&](const Message& m) -> Status {
        seen.push_back(m.type());
        if (m.type() == "a.2") return Error(Errc::handler_failed, "not yet");
        return success();
    };
    auto first = failures.replay(filter("a.*"), refuse_a2);
    EXPECT_EQ(seen, (std::vector<std::string>{"a.1", "a.2"}));
    EXPECT_EQ(first.redelivered, 1u);
    EXPECT_EQ(first.dropped, 1u);  // b.1: the filter no longer matches it
    EXPECT_EQ(first.failed, 1u);
    EXPECT_EQ(failures.size(), 2u);  // a.2 stays first, a.3 after it

    seen.clear();
    auto second = failures.replay(filter("a.*"), [&](const Message& m) -> Status {
        seen.push_back(m.type());
        return success();
    });
    EXPECT_EQ(seen, (std::vector<std::string>{"a.2", "a.3"}));
    EXPECT_EQ(second.redelivered, 2u);
    EXPECT_EQ(second.failed, 0u);
    EXPECT_TRUE(failures.empty());
}

TEST(FailureReplay, AThrowingHandlerIsAFailureWithItsReasonAndClearCountsWhatIsForgotten) {
    auto thrown =
        invoke_handler([](const Message&) -> Status { throw std::runtime_error("boom"); }, *message("a.1"));
    ASSERT_FALSE(thrown.ok());
    EXPECT_EQ(thrown.error().code(), Errc::handler_failed);
    EXPECT_NE(thrown.error().reason().find("boom"), std::string::npos);

    FailureReplay failures;
    failures.record(message("a.1"));
    auto outcome = failures.replay(TypeFilter(), [](const Message&) -> Status { throw 42; });
    EXPECT_EQ(outcome.failed, 1u);
    EXPECT_EQ(failures.size(), 1u);
    EXPECT_EQ(failures.clear(), 1u);
    EXPECT_TRUE(failures.empty());
}

}  // namespace
}  // namespace grav::detail
