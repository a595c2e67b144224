// Error and Result: misuse is a defined, alike failure for every Result
// (BadResultAccess, never undefined behaviour), and errors compare by value.
#include <grav/error.hpp>

#include <gtest/gtest.h>

#include <string>

namespace grav {
namespace {

TEST(Result, TheErrorOfASuccessThrowsForValuesAndForStatus) {
    const Result<int> value = 7;
    const Status status = success();
    ASSERT_TRUE(value.ok());
    ASSERT_TRUE(status.ok());
    EXPECT_THROW((void)value.error(), BadResultAccess);
    EXPECT_THROW((void)status.error(), BadResultAccess);
    try {
        (void)status.error();
    } catch (const BadResultAccess& e) {
        EXPECT_NE(std::string(e.what()).find("success"), std::string::npos) << e.what();
    }
}

TEST(Result, TheValueOfAnErrorThrowsWithTheErrorsReason) {
    const Result<int> r = Error(Errc::timeout, "no reply before the deadline");
    try {
        (void)r.value();
        ADD_FAILURE() << "value() of an error returned";
    } catch (const BadResultAccess& e) {
        EXPECT_EQ(std::string(e.what()), "timeout: no reply before the deadline");
    }
    const Status s = Error(Errc::closed, "the bus is stopped");
    EXPECT_EQ(s.error().code(), Errc::closed);
}

TEST(Error, ErrorsAreEqualWhenCodeAndReasonAre) {
    const Error timeout(Errc::timeout, "no reply");
    EXPECT_EQ(timeout, Error(Errc::timeout, "no reply"));
    EXPECT_NE(timeout, Error(Errc::closed, "no reply"));
    EXPECT_NE(timeout, Error(Errc::timeout, "no reply to 5f0c"));
    const Status failed = timeout;
    EXPECT_EQ(failed.error(), timeout);
}

}  // namespace
}  // namespace grav
