// grav keygen and --secure as a user runs them: key files, their
// permission checks and exit codes, and a secure request/reply between two
// processes that a plain process cannot join.

#include "process.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace grav::clitest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kLong = 10s;

class CliSecurity : public ::testing::Test {
protected:
    CliSecurity() {
        std::string pattern = (fs::temp_directory_path() / "grav-cli-sec-XXXXXX").string();
        dir_ = ::mkdtemp(pattern.data());
    }
    ~CliSecurity() override {
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    [[nodiscard]] std::vector<std::string> grav(const std::string& name,
                                                std::vector<std::string> args) const {
        return grav_on_loopback(port_, name, std::move(args));
    }
    [[nodiscard]] std::string path(const std::string& file) const { return (dir_ / file).string(); }

    // Runs grav keygen; returns the printed public key.
    std::string keygen(const std::string& file) {
        Process p({GRAV_TOOL, "keygen", "--out", path(file)});
        EXPECT_EQ(p.wait_exit(kLong), 0) << p.transcript();
        return p.lines().empty() ? std::string() : p.lines()[0];
    }

    fs::path dir_;
    std::uint16_t port_ = unique_beacon_port();
};

void expect_error(Process& p, int code, const std::string& message) {
    const auto exit = p.wait_exit(kLong);
    ASSERT_TRUE(exit) << "did not exit";
    EXPECT_EQ(*exit, code) << p.transcript();
    EXPECT_NE(p.err().find(message), std::string::npos) << p.err();
    EXPECT_EQ(p.err().rfind("grav: error: ", 0), 0u) << p.err();
}

TEST_F(CliSecurity, KeygenWritesAnOwnerOnlyKeyFileAndPrintsItsPublicKey) {
    const std::string key = keygen("node.key");
    EXPECT_EQ(key.size(), 43u) << key;
    EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    struct stat info {};
    ASSERT_EQ(::stat(path("node.key").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    EXPECT_NE(keygen("other.key"), key);  // a new identity each time

    Process again({GRAV_TOOL, "keygen", "--out", path("node.key")});
    expect_error(again, 7, "already exists");
}

TEST_F(CliSecurity, BadKeyFilesAndOptionsGetTheirExitCodes) {
    keygen("node.key");
    ASSERT_EQ(::chmod(path("node.key").c_str(), 0644), 0);
    {
        Process p(grav("n", {"--secure", "--key", path("node.key"), "sub"}));
        expect_error(p, 7, "chmod 600");
    }
    {
        Process p(grav("n", {"--secure", "--key", path("missing.key"), "sub"}));
        expect_error(p, 7, "missing.key");
    }
    {
        Process p(grav("n", {"--secure", "sub"}));
        expect_error(p, 2, "--secure needs exactly one of");
    }
    {
        Process p(grav("n", {"--key", path("node.key"), "sub"}));
        expect_error(p, 2, "need --secure");
    }
    ASSERT_EQ(::chmod(path("node.key").c_str(), 0600), 0);
    {
        Process p(grav("n", {"--secure", "--key", path("node.key"), "--allow", "not-a-key", "sub"}));
        expect_error(p, 2, "--allow");
    }
}

TEST_F(CliSecurity, ClusterSecretNodesAnswerEachOtherAndAPlainNodeIsShutOut) {
    {
        Process p({GRAV_TOOL, "keygen", "--cluster-secret", "--out", path("cluster.secret")});
        ASSERT_EQ(p.wait_exit(kLong), 0) << p.transcript();
    }
    const std::vector<std::string> secure{"--secure", "--cluster-secret-file", path("cluster.secret")};
    auto with = [&](std::vector<std::string> args) {
        args.insert(args.begin(), secure.begin(), secure.end());
        return args;
    };
    Process replier(grav("echoer", with({"reply", "sec.echo", "--echo"})));
    Process requester(grav(
        "asker", with({"request", "sec.echo", "secret ping", "--timeout", "5000", "--wait-peers", "10000"})));
    ASSERT_EQ(requester.wait_exit(kLong + 5s), 0) << requester.transcript();
    ASSERT_EQ(requester.lines().size(), 1u) << requester.transcript();
    EXPECT_EQ(requester.lines()[0], "secret ping");

    // Same beacon port, no credentials: it never meshes, so nobody offers it.
    Process plain(grav("plain", {"request", "sec.echo", "x", "--wait-peers", "2000"}));
    EXPECT_EQ(plain.wait_exit(kLong), 6) << plain.transcript();
}

}  // namespace
}  // namespace grav::clitest
