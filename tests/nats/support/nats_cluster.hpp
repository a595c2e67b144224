#pragma once
// Real nats-server processes for grav's NATS tests and benchmarks: one server
// or a cluster joined by routes, on loopback ports the harness chooses, with
// fault injection (kill, restart). Nothing is mocked.
//
// Every server listens on 127.0.0.1 only (clients, routes, monitoring), never
// on NATS' well-known ports. Its config, log (stdout+stderr, appended across
// restarts) and JetStream store live in a temp dir the cluster removes. No
// server outlives the cluster, nor the test process if it crashes or is killed
// (see server_process.hpp). Every wait is bounded (kReadyTimeout).
//
// Not thread-safe: one thread drives a NatsCluster (clients of the servers may
// of course run on any thread).

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grav::natstest {

struct NatsServerOptions {
    // Default member initialisers let tests name only the fields they set
    // ({.token = "t"}) under -Wextra's missing-field-initializers.
    std::string user{}, password{};  // both set: clients must authenticate with them
    std::string token{};             // set: clients must use this token
    bool jetstream = false;          // enable JetStream, store under store_dir()
    std::size_t max_payload = 0;     // 0: server default (1 MiB)
    // TLS: with cert and key set, clients must speak TLS; with ca set too,
    // they must also show a certificate signed by it (verify).
    std::string tls_cert{}, tls_key{}, tls_ca{};
};

// The nats-server binary: $GRAV_NATS_SERVER, else /usr/sbin/nats-server, else
// `nats-server` on PATH (each only if executable); nullopt if none.
std::optional<std::string> nats_server_binary();

class NatsCluster {
    struct Server;
    // start() is the only way to make one (the constructor is public for make_unique).
    class Passkey {
        explicit Passkey() = default;
        friend class NatsCluster;
    };

public:
    // How long start() and restart() wait for servers to be ready.
    static constexpr std::chrono::seconds kReadyTimeout{10};

    // Starts n >= 1 servers, joined by routes into one cluster when n > 1, and
    // returns once every one is ready: it greets clients on its port, its
    // /healthz says ok (with JetStream: the meta leader is known), and for n > 1
    // its /routez shows a route to each other server. A server that fails to
    // bind (a port taken meanwhile) makes all start over on new ports, a few
    // times. Throws std::invalid_argument for bad options or n == 0, and
    // std::runtime_error (with the failing server's log) when no binary is
    // found or the servers are not ready in time; no process is left then.
    static std::unique_ptr<NatsCluster> start(std::size_t n, NatsServerOptions options = {});

    NatsCluster(Passkey, std::string binary, std::size_t n, NatsServerOptions options);
    ~NatsCluster();  // SIGKILL and reap every server, remove the temp dir
    NatsCluster(const NatsCluster&) = delete;
    NatsCluster& operator=(const NatsCluster&) = delete;

    [[nodiscard]] std::size_t size() const;
    // "nats://127.0.0.1:PORT", whether the server is running or not. Throws
    // std::out_of_range for i >= size() (as do all per-server calls).
    [[nodiscard]] std::string url(std::size_t i) const;
    [[nodiscard]] std::vector<std::string> urls() const;
    // SIGKILL server i and reap it (fault injection mid-traffic). A no-op
    // beyond reaping when it is already dead.
    void kill(std::size_t i);
    // Starts server i again (after kill(i), or after it died by itself) on the
    // same ports with the same config and store, and waits until it is ready
    // and every running server has a route to every other running one. Throws
    // std::logic_error if it is running, std::runtime_error if not ready in time.
    void restart(std::size_t i);
    // False once the server died, by kill() or by itself.
    [[nodiscard]] bool running(std::size_t i) const;
    // The running server's process id (to stop it with SIGSTOP, say), -1 if not running.
    [[nodiscard]] pid_t pid(std::size_t i) const;
    // The server's monitoring port (GET /varz, /connz, /routez, /jsz on 127.0.0.1).
    [[nodiscard]] std::uint16_t monitoring_port(std::size_t i) const;
    // The server's log so far (stdout and stderr, every run), for failure messages.
    [[nodiscard]] std::string log(std::size_t i) const;
    // JetStream store root (empty without JetStream); server i stores in
    // store_dir() + "/server-<i>".
    [[nodiscard]] const std::string& store_dir() const;

private:
    enum class Launch { ready, port_taken };
    void make_configs();
    Launch launch_all();
    void launch(std::size_t i);
    // Waits until every server in `which` is ready; Launch::port_taken when one
    // died because a port was taken. Throws on any other death or at the deadline.
    Launch wait_ready(const std::vector<std::size_t>& which);
    [[nodiscard]] std::string not_ready_reason(std::size_t i) const;
    [[nodiscard]] bool ready(std::size_t i, std::size_t routes) const;
    [[nodiscard]] std::size_t running_count() const;
    [[nodiscard]] const Server& at(std::size_t i) const;
    Server& at(std::size_t i);

    std::string binary_;
    NatsServerOptions options_;
    std::string dir_;  // temp dir: configs, logs, store
    std::string store_dir_;
    std::vector<std::unique_ptr<Server>> servers_;
};

}  // namespace grav::natstest
