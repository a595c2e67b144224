// grav keygen and --secure as a user runs them: key files, their
// permission checks and exit codes, and a secure request/reply between two
// processes that a plain process cannot join.

#include "process.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
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

// The value the refusal summary ("name=N (...)") gives `name`, 0 when absent.
std::uint64_t counter(const std::string& err, const std::string& name) {
    const auto at = err.rfind(name + "=");
    return at == std::string::npos ? 0 : std::stoull(err.substr(at + name.size() + 1));
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

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

    // Same beacon port, no credentials: it never meshes, so nobody offers it;
    // it says that it heard secure nodes it cannot join.
    Process plain(grav("plain", {"request", "sec.echo", "x", "--wait-peers", "2000"}));
    EXPECT_EQ(plain.wait_exit(kLong), 6) << plain.transcript();
    EXPECT_GT(counter(plain.err(), "beacon.signed_ignored"), 0u) << plain.err();
    EXPECT_NE(plain.err().find("run with -v for why"), std::string::npos) << plain.err();
}

// Two nodes with different cluster secrets never dial each other (each
// ignores the other's beacons): both say so, with the key, and count it.
TEST_F(CliSecurity, NodesWithAnotherClusterSecretSayWhyTheyNeverMeshAndCountIt) {
    for (const char* file : {"one.secret", "other.secret"}) {
        Process p({GRAV_TOOL, "keygen", "--cluster-secret", "--out", path(file)});
        ASSERT_EQ(p.wait_exit(kLong), 0) << p.transcript();
    }
    Process replier(grav("one", {"-v", "--secure", "--cluster-secret-file", path("one.secret"), "reply",
                                 "sec.echo", "--echo"}));
    ASSERT_TRUE(wait_for_stderr(replier, "listening on", kLong)) << replier.transcript();
    const std::string why = "they are signed with key ";
    const std::string secret = "not this cluster secret's key (that node has another cluster secret)";
    {
        // Without -v: the error says what was refused, and how to learn why.
        Process quiet(grav("other", {"--secure", "--cluster-secret-file", path("other.secret"), "request",
                                     "sec.echo", "x", "--wait-peers", "2000"}));
        EXPECT_EQ(quiet.wait_exit(kLong), 6) << quiet.transcript();
        EXPECT_GT(counter(quiet.err(), "beacon.not_admitted"), 0u) << quiet.err();
        EXPECT_NE(quiet.err().find("run with -v for why"), std::string::npos) << quiet.err();
    }
    Process other(grav("other", {"-v", "--secure", "--cluster-secret-file", path("other.secret"), "request",
                                 "sec.echo", "x", "--wait-peers", "2000"}));
    EXPECT_EQ(other.wait_exit(kLong), 6) << other.transcript();
    EXPECT_NE(other.err().find(why), std::string::npos) << other.err();
    EXPECT_NE(other.err().find(secret), std::string::npos) << other.err();
    EXPECT_GT(counter(other.err(), "beacon.not_admitted"), 0u) << other.err();
    // The same on the other side, once per source however often it beaconed.
    replier.signal(SIGINT);
    ASSERT_EQ(replier.wait_exit(kLong), 0) << replier.transcript();
    EXPECT_NE(replier.err().find(why), std::string::npos) << replier.err();
    EXPECT_NE(replier.err().find(secret), std::string::npos) << replier.err();
    EXPECT_GT(counter(replier.err(), "beacon.not_admitted"), 2u) << replier.err();
    EXPECT_LE(occurrences(replier.err(), why), 2u) << replier.err();  // one per node, not one per beacon
}

// A node that is not on another's allow-list dials it (it admits that one)
// and is refused in the CURVE handshake: it learns that from the handshake
// and says so; the refusing node says whom it refused, and both count it.
TEST_F(CliSecurity, ANodeMissingFromTheAllowListIsToldItsKeyWasRefused) {
    const std::string a_key = keygen("a.key");
    const std::string b_key = keygen("b.key");
    Process a(grav("a", {"-v", "--secure", "--key", path("a.key"), "reply", "sec.echo", "--echo"}));
    ASSERT_TRUE(wait_for_stderr(a, "listening on", kLong)) << a.transcript();
    Process b(grav("b", {"-v", "--secure", "--key", path("b.key"), "--allow", a_key, "request", "sec.echo",
                         "x", "--wait-peers", "3000"}));
    EXPECT_EQ(b.wait_exit(kLong), 6) << b.transcript();
    EXPECT_NE(b.err().find("the secure handshake failed, it refused this node's key " + b_key +
                           " (ZAP status 400)"),
              std::string::npos)
        << b.err();
    EXPECT_GT(counter(b.err(), "zmq.handshake_rejected"), 0u) << b.err();
    a.signal(SIGINT);
    ASSERT_EQ(a.wait_exit(kLong), 0) << a.transcript();
    EXPECT_NE(a.err().find("refused a connection from 127.0.0.1: its key is not a member of this cluster"),
              std::string::npos)
        << a.err();
    EXPECT_NE(a.err().find("they are signed with key " + b_key + ", which is not on this node's allow-list"),
              std::string::npos)
        << a.err();
    EXPECT_GT(counter(a.err(), "zmq.auth_refused"), 0u) << a.err();
    EXPECT_GT(counter(a.err(), "beacon.not_admitted"), 0u) << a.err();
}

}  // namespace
}  // namespace grav::clitest
