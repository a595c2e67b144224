// The NATS test harness against real nats-server processes, with nats.c as
// the client: routes, failover after kill, restart, auth, JetStream, and that
// no server outlives its cluster or its test process.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "loopback.hpp"
#include "nats_client.hpp"
#include "nats_cluster.hpp"

namespace grav::natstest {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr auto kWait = 5s;

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = kWait) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// Gone, or a zombie nobody reaped yet: either way no longer running.
bool process_gone(pid_t pid) {
    if (::kill(pid, 0) != 0) return errno == ESRCH;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    return paren == std::string::npos || (paren + 2 < line.size() && line[paren + 2] == 'Z');
}

// The server's route count from its monitoring endpoint, -1 if unknown.
long num_routes(const NatsCluster& cluster, std::size_t i) {
    const auto routez = http_get(cluster.monitoring_port(i), "/routez", 1s);
    if (!routez || routez->status != 200) return -1;
    const auto at = routez->body.find("\"num_routes\":");
    return at == std::string::npos ? -1 : std::strtol(routez->body.c_str() + at + 13, nullptr, 10);
}

// A listening socket on 127.0.0.1:port, so a server cannot bind it; closed on destruction.
class PortHolder {
public:
    explicit PortHolder(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        const int on = 1;
        ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);  // past the killed server's TIME_WAITs
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
        const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
        held_ = ::bind(fd_, sa, sizeof addr) == 0 && ::listen(fd_, 1) == 0;
    }
    ~PortHolder() { release(); }
    PortHolder(const PortHolder&) = delete;
    PortHolder& operator=(const PortHolder&) = delete;
    [[nodiscard]] bool held() const { return held_; }
    void release() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

private:
    int fd_;
    bool held_ = false;
};

std::uint16_t client_port(const std::string& url) {
    return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

Connected connect_to(std::vector<std::string> urls, ClientOptions base = {}) {
    base.urls = std::move(urls);
    return connect_client(base);
}

class NatsClusterTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!nats_server_binary()) {
            GTEST_SKIP() << "no nats-server binary (install Debian's nats-server or set GRAV_NATS_SERVER)";
        }
    }
    // Every nats.c object is gone by now: wait until its threads are too, so
    // no test leaks threads into the next.
    void TearDown() override { nats_CloseAndWait(5000); }
};

TEST_F(NatsClusterTest, ThreeServersRouteAMessageFromServerZeroToServerTwo) {
    const auto cluster = NatsCluster::start(3);
    ASSERT_EQ(cluster->size(), 3U);
    const auto urls = cluster->urls();
    ASSERT_EQ(urls.size(), 3U);
    EXPECT_EQ(std::set<std::string>(urls.begin(), urls.end()).size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(urls[i], cluster->url(i));
        EXPECT_EQ(urls[i].rfind("nats://127.0.0.1:", 0), 0U) << urls[i];
        for (const char* reserved : {":4222", ":6222", ":8222"})
            EXPECT_EQ(urls[i].find(reserved), std::string::npos);
        EXPECT_TRUE(cluster->running(i));
        EXPECT_EQ(num_routes(*cluster, i), 2) << "server " << i;  // routed when start() returns
    }
    EXPECT_TRUE(cluster->store_dir().empty());

    auto sub_side = connect_to({cluster->url(2)});
    ASSERT_TRUE(sub_side.connection) << sub_side.error;
    auto pub_side = connect_to({cluster->url(0)});
    ASSERT_TRUE(pub_side.connection) << pub_side.error;
    EXPECT_EQ(connected_url(sub_side.connection.get()), cluster->url(2));
    EXPECT_EQ(connected_url(pub_side.connection.get()), cluster->url(0));

    Subscriber sub(sub_side.connection.get(), "grav.route");
    ASSERT_TRUE(
        publish_until(pub_side.connection.get(), "grav.route", "hello-", [&] { return sub.count() > 0; }));
    EXPECT_EQ(sub.payloads().front().rfind("hello-", 0), 0U);
}

TEST_F(NatsClusterTest, AfterKillAClientFailsOverAndRestartBringsTheServerBack) {
    const auto cluster = NatsCluster::start(3);
    // On server 0 first (URLs in order), free to move to 1 or 2.
    auto roaming = connect_to(cluster->urls());
    ASSERT_TRUE(roaming.connection) << roaming.error;
    ASSERT_EQ(connected_url(roaming.connection.get()), cluster->url(0));
    auto publisher = connect_to({cluster->url(2)}, {.max_reconnect = 0});
    ASSERT_TRUE(publisher.connection) << publisher.error;
    Subscriber sub(roaming.connection.get(), "grav.failover");
    ASSERT_TRUE(publish_until(publisher.connection.get(), "grav.failover", "before-",
                              [&] { return sub.count() > 0; }));

    cluster->kill(0);
    EXPECT_FALSE(cluster->running(0));
    EXPECT_EQ(cluster->pid(0), -1);
    EXPECT_TRUE(cluster->running(1));
    EXPECT_TRUE(cluster->running(2));
    ASSERT_TRUE(eventually([&] {
        const std::string now = connected_url(roaming.connection.get());
        return natsConnection_Status(roaming.connection.get()) == NATS_CONN_STATUS_CONNECTED &&
               (now == cluster->url(1) || now == cluster->url(2));
    })) << "still on '"
        << connected_url(roaming.connection.get()) << "'";
    const std::size_t before = sub.count();
    ASSERT_TRUE(publish_until(publisher.connection.get(), "grav.failover", "after-kill-",
                              [&] { return sub.count() > before; }));
    EXPECT_EQ(sub.payloads().back().rfind("after-kill-", 0), 0U);

    const std::string url0 = cluster->url(0);
    cluster->restart(0);
    EXPECT_TRUE(cluster->running(0));
    EXPECT_GT(cluster->pid(0), 0);
    EXPECT_EQ(cluster->url(0), url0);  // same ports
    for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(num_routes(*cluster, i), 2) << "server " << i;
    auto back = connect_to({cluster->url(0)});
    ASSERT_TRUE(back.connection) << back.error;
    Subscriber on_zero(back.connection.get(), "grav.failover");
    ASSERT_TRUE(publish_until(publisher.connection.get(), "grav.failover", "after-restart-",
                              [&] { return on_zero.count() > 0; }));
    EXPECT_THROW(cluster->restart(0), std::logic_error);
}

TEST_F(NatsClusterTest, AServerThatDiesByItselfIsSeenAndCanBeRestarted) {
    const auto cluster = NatsCluster::start(1);
    const pid_t pid = cluster->pid(0);
    ASSERT_GT(pid, 0);
    ASSERT_EQ(::kill(pid, SIGTERM), 0);  // not through the harness
    ASSERT_TRUE(eventually([&] { return !cluster->running(0); }));
    cluster->restart(0);
    ASSERT_TRUE(cluster->running(0));
    EXPECT_NE(cluster->pid(0), pid);
    auto client = connect_to({cluster->url(0)});
    EXPECT_TRUE(client.connection) << client.error;
    // Both runs are in the log.
    EXPECT_NE(cluster->log(0).find("run 2 of server 0"), std::string::npos);
}

TEST_F(NatsClusterTest, RestartRetriesWhileItsPortIsTakenAndSaysSoWhenItStaysTaken) {
    const auto cluster = NatsCluster::start(1);
    cluster->kill(0);
    {
        PortHolder holder(client_port(cluster->url(0)));
        ASSERT_TRUE(holder.held());
        try {
            cluster->restart(0);
            FAIL() << "restart succeeded on a taken port";
        } catch (const std::runtime_error& e) {
            EXPECT_NE(std::string(e.what()).find("stayed taken"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("address already in use"), std::string::npos) << e.what();
        }
        EXPECT_FALSE(cluster->running(0));
    }
    {
        PortHolder holder(client_port(cluster->url(0)));
        ASSERT_TRUE(holder.held());
        std::thread releaser([&] {
            std::this_thread::sleep_for(300ms);  // restart retries for about 2.5 s
            holder.release();
        });
        EXPECT_NO_THROW(cluster->restart(0));
        releaser.join();
    }
    EXPECT_TRUE(cluster->running(0));
    auto client = connect_to({cluster->url(0)});
    EXPECT_TRUE(client.connection) << client.error;
}

TEST_F(NatsClusterTest, UserAndPasswordAreRequiredAndRoutesStillWork) {
    const auto cluster = NatsCluster::start(2, {.user = "grav", .password = "s3cret"});
    const auto anonymous = connect_to({cluster->url(0)}, {.max_reconnect = 0});
    EXPECT_FALSE(anonymous.connection);
    EXPECT_EQ(anonymous.status, NATS_CONNECTION_AUTH_FAILED) << anonymous.error;
    const auto wrong =
        connect_to({cluster->url(0)}, {.user = "grav", .password = "guess", .max_reconnect = 0});
    EXPECT_FALSE(wrong.connection);
    EXPECT_EQ(wrong.status, NATS_CONNECTION_AUTH_FAILED) << wrong.error;

    auto pub_side = connect_to({cluster->url(0)}, {.user = "grav", .password = "s3cret"});
    ASSERT_TRUE(pub_side.connection) << pub_side.error;
    auto sub_side = connect_to({cluster->url(1)}, {.user = "grav", .password = "s3cret"});
    ASSERT_TRUE(sub_side.connection) << sub_side.error;
    Subscriber sub(sub_side.connection.get(), "grav.auth");
    EXPECT_TRUE(publish_until(pub_side.connection.get(), "grav.auth", "m", [&] { return sub.count() > 0; }));
}

TEST_F(NatsClusterTest, TokenIsRequired) {
    const auto cluster = NatsCluster::start(1, {.token = "grav-token"});
    const auto anonymous = connect_to({cluster->url(0)}, {.max_reconnect = 0});
    EXPECT_FALSE(anonymous.connection);
    EXPECT_EQ(anonymous.status, NATS_CONNECTION_AUTH_FAILED) << anonymous.error;
    const auto wrong = connect_to({cluster->url(0)}, {.token = "other", .max_reconnect = 0});
    EXPECT_FALSE(wrong.connection);

    auto client = connect_to({cluster->url(0)}, {.token = "grav-token"});
    ASSERT_TRUE(client.connection) << client.error;
    Subscriber sub(client.connection.get(), "grav.token");
    EXPECT_TRUE(publish_until(client.connection.get(), "grav.token", "m", [&] { return sub.count() > 0; }));
}

TEST_F(NatsClusterTest, MaxPayloadIsTheServers) {
    const auto cluster = NatsCluster::start(1, {.max_payload = 4096});
    auto client = connect_to({cluster->url(0)});
    ASSERT_TRUE(client.connection) << client.error;
    EXPECT_EQ(natsConnection_GetMaxPayload(client.connection.get()), 4096);
}

// Stores one message in a file stream through nats.c's JetStream API; the
// number of messages the stream holds afterwards.
std::uint64_t store_one(natsConnection* connection, int replicas) {
    jsCtx* raw_js = nullptr;
    if (natsConnection_JetStream(&raw_js, connection, nullptr) != NATS_OK) return 0;
    const NatsPtr<jsCtx> js(raw_js);
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = "GRAV";
    const char* subjects[] = {"grav.js.>"};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Storage = js_FileStorage;
    config.Replicas = replicas;
    jsStreamInfo* raw_info = nullptr;
    auto error = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&raw_info, js.get(), &config, nullptr, &error);
    NatsPtr<jsStreamInfo> created(raw_info);
    EXPECT_EQ(s, NATS_OK) << status_text(s) << " (JetStream error " << error << ")";
    if (s != NATS_OK) return 0;
    jsPubAck* raw_ack = nullptr;
    s = js_Publish(&raw_ack, js.get(), "grav.js.one", "stored", 6, nullptr, &error);
    const NatsPtr<jsPubAck> ack(raw_ack);
    EXPECT_EQ(s, NATS_OK) << status_text(s) << " (JetStream error " << error << ")";
    if (s != NATS_OK) return 0;
    EXPECT_STREQ(ack->Stream, "GRAV");
    raw_info = nullptr;
    s = js_GetStreamInfo(&raw_info, js.get(), "GRAV", nullptr, &error);
    const NatsPtr<jsStreamInfo> info(raw_info);
    EXPECT_EQ(s, NATS_OK) << status_text(s);
    return s == NATS_OK ? info->State.Msgs : 0;
}

TEST_F(NatsClusterTest, JetStreamStreamStoresAMessageInTheClustersStore) {
    const auto cluster = NatsCluster::start(1, {.jetstream = true});
    ASSERT_FALSE(cluster->store_dir().empty());
    auto client = connect_to({cluster->url(0)});
    ASSERT_TRUE(client.connection) << client.error;
    EXPECT_EQ(store_one(client.connection.get(), 1), 1U);
    // nats-server keeps each account's streams under <store_dir>/jetstream/<account>/streams.
    EXPECT_TRUE(fs::is_directory(cluster->store_dir() + "/server-0/jetstream/$G/streams/GRAV"));
}

TEST_F(NatsClusterTest, JetStreamClusterReplicatesAStreamOnThreeServers) {
    const auto cluster = NatsCluster::start(3, {.jetstream = true});
    auto client = connect_to({cluster->url(1)});
    ASSERT_TRUE(client.connection) << client.error;
    EXPECT_EQ(store_one(client.connection.get(), 3), 1U);
}

TEST_F(NatsClusterTest, BadOptionsAreRefusedBeforeAnythingStarts) {
    EXPECT_THROW(NatsCluster::start(0), std::invalid_argument);
    EXPECT_THROW(NatsCluster::start(1, {.user = "only-user"}), std::invalid_argument);
    EXPECT_THROW(NatsCluster::start(1, {.user = "u", .password = "p", .token = "t"}), std::invalid_argument);
    EXPECT_THROW(NatsCluster::start(1, {.token = "quote\"d"}), std::invalid_argument);
    const auto cluster = NatsCluster::start(1);
    EXPECT_THROW((void)cluster->url(1), std::out_of_range);
    EXPECT_THROW(cluster->kill(1), std::out_of_range);
}

TEST_F(NatsClusterTest, AServerThatRefusesItsConfigFailsStartWithItsOwnMessage) {
    // nats-server refuses a max_payload above its max_pending (64 MiB).
    try {
        NatsCluster::start(2, {.max_payload = std::size_t{100} << 20});
        FAIL() << "start succeeded";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot be higher than max_pending"), std::string::npos)
            << e.what();
    }
}

TEST_F(NatsClusterTest, TheDestructorKillsEveryServerAndRemovesItsFiles) {
    std::vector<pid_t> pids;
    std::string store;
    std::uint16_t monitoring = 0;
    {
        const auto cluster = NatsCluster::start(2, {.jetstream = true});
        for (std::size_t i = 0; i < 2; ++i) pids.push_back(cluster->pid(i));
        store = cluster->store_dir();
        monitoring = cluster->monitoring_port(0);
        const auto varz = http_get(monitoring, "/varz", 1s);
        ASSERT_TRUE(varz && varz->status == 200);
        ASSERT_TRUE(fs::exists(store));
    }
    for (const pid_t pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
    EXPECT_FALSE(fs::exists(fs::path(store).parent_path())) << store;
    EXPECT_FALSE(http_get(monitoring, "/varz", 200ms));
}

// Run alone by the next test (in a child process of its own): starts a server,
// writes its pid where told, and dies without running any destructor.
TEST(NatsClusterOrphanHelper, StartsAServerAndDiesAbruptly) {
    const char* pid_file = std::getenv("GRAV_NATS_ORPHAN_PID_FILE");
    if (pid_file == nullptr) GTEST_SKIP() << "helper of NatsClusterTest.ServersDieWithTheirTestProcess only";
    const auto cluster = NatsCluster::start(1);
    std::ofstream(pid_file) << cluster->pid(0) << "\n";
    ::raise(SIGKILL);
}

TEST_F(NatsClusterTest, ServersDieWithTheirTestProcess) {
    char tmpl[] = "/tmp/grav-nats-orphan-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    const std::string dir = tmpl;
    const std::string pid_file = dir + "/pid";
    // The helper's orphaned server is re-parented to this process, which can
    // then see it die and reap it (PID 1 of a container may never reap it).
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    const pid_t child = ::fork();
    if (child == 0) {
        // Only exec here: the parent has threads.
        ::setenv("GRAV_NATS_ORPHAN_PID_FILE", pid_file.c_str(), 1);
        ::setenv("TMPDIR", dir.c_str(), 1);  // its cluster's files land where this test removes them
        ::execl("/proc/self/exe", "nats_cluster_test", "--gtest_filter=NatsClusterOrphanHelper.*", nullptr);
        ::_exit(127);
    }
    ASSERT_GT(child, 0);
    int status = 0;
    pid_t reaped = 0;
    ASSERT_TRUE(eventually([&] { return (reaped = ::waitpid(child, &status, WNOHANG)) == child; }, 15s));
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "helper status " << status;
    pid_t server = 0;
    std::ifstream(pid_file) >> server;
    ASSERT_GT(server, 0) << "the helper wrote no pid";
    EXPECT_TRUE(eventually([&] { return ::waitpid(server, nullptr, WNOHANG) == server; }))
        << "nats-server " << server << " outlived its test";
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
    std::error_code ignored;
    fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace grav::natstest
