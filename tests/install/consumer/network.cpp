// A program outside the grav tree using an installed network module.
//   GRAV_CONSUMER_ZMQ:       two buses joined over loopback by the ZeroMQ
//                            transport; one request crosses between them.
//   GRAV_CONSUMER_LAN:       the same, the two buses set up by join_lan with
//                            one cluster-secret policy (CURVE links).
//   GRAV_CONSUMER_DISCOVERY: a beacon discovery is created (not started, so
//                            nothing is sent on the host's network).
//   GRAV_CONSUMER_SECURITY:  an identity signs, and its signature verifies.
//   GRAV_CONSUMER_NATS:      a bus with a NATS bridge starts although no
//                            server answers (127.0.0.1:1), serves its pods,
//                            and reports the bridge as not connected.
//   GRAV_CONSUMER_METRICS:   an exporter serves a bus's metrics on a port
//                            picked on 127.0.0.1; one GET of /metrics shows
//                            the message the bus sent.
// Exits 0 on success.
#include <grav/grav.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

#if defined(GRAV_CONSUMER_ZMQ) || defined(GRAV_CONSUMER_LAN)
#if defined(GRAV_CONSUMER_ZMQ)
#include <grav/zmq.hpp>
#else
#include <grav/lan.hpp>
#endif

namespace {

#if defined(GRAV_CONSUMER_ZMQ)
// Options set field by field: designated initializers ({.bind = ...}) trip
// GCC's -Wmissing-field-initializers (in -Wextra) while option structs have
// members without default initializers.
grav::BusOptions loopback_node() {
    grav::zmq::Options zmq_options;
    zmq_options.bind = "tcp://127.0.0.1:0";
    grav::BusOptions options;
    options.transport = grav::zmq::transport(std::move(zmq_options));
    return options;
}
#else
// join_lan with one cluster-secret policy (CURVE links) and no beacons, so
// that nothing is sent on the host's network: the buses meet by endpoint.
grav::BusOptions loopback_node() {
    static const auto policy =
        grav::security::Policy::cluster_secret("the install consumer's cluster secret");
    if (!policy) {
        std::fprintf(stderr, "consumer: policy: %s\n", policy.error().what().c_str());
        std::exit(1);
    }
    grav::LanOptions lan;
    lan.security = *policy;
    lan.transport.bind = "tcp://127.0.0.1:0";
    lan.beacons = false;
    grav::BusOptions options;
    if (const grav::Status joined = grav::join_lan(options, std::move(lan)); !joined) {
        std::fprintf(stderr, "consumer: join_lan: %s\n", joined.error().what().c_str());
        std::exit(1);
    }
    return options;
}
#endif

}  // namespace

int main() {
    using namespace std::chrono_literals;
    grav::Bus server_bus(loopback_node());
    grav::Bus client_bus(loopback_node());
    grav::Pod server = server_bus.connect();
    const grav::Status handler = server.on_type("greet", [&server](const grav::Message& m) {
        server.reply_to(m, grav::Message("greet.reply", "hey " + std::string(m.payload_view())));
    });
    if (!handler) {
        std::fprintf(stderr, "consumer: on_type: %s\n", handler.error().what().c_str());
        return 1;
    }
    if (auto s = client_bus.connect_endpoint(server_bus.endpoint()); !s) {
        std::fprintf(stderr, "consumer: connect_endpoint: %s\n", s.error().what().c_str());
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (client_bus.peers().empty() || server_bus.peers().empty()) {
        if (std::chrono::steady_clock::now() > deadline) {
            std::fprintf(stderr, "consumer: the two buses did not meet within 10 s\n");
            return 1;
        }
        std::this_thread::sleep_for(10ms);
    }
    grav::Pod client = client_bus.connect();
    auto reply = client.send(grav::Message("greet", "joey")).wait_until(10s);
    if (!reply || reply->payload_view() != "hey joey") {
        std::fprintf(stderr, "consumer: no right reply over zmq: %s\n",
                     reply ? std::string(reply->payload_view()).c_str() : reply.error().what().c_str());
        return 1;
    }
    std::printf("consumer: reply over zmq '%s'\n", std::string(reply->payload_view()).c_str());
    return 0;
}

#elif defined(GRAV_CONSUMER_DISCOVERY)
#include <grav/beacon.hpp>

int main() {
    grav::BeaconOptions options;
    options.seeds = {"127.0.0.1:5670"};
    auto discovery = grav::beacon_discovery(options);
    if (!discovery) return 1;
    std::printf("consumer: beacon discovery created\n");
    return 0;
}

#elif defined(GRAV_CONSUMER_SECURITY)
#include <grav/security.hpp>

#include <array>
#include <cstdint>

int main() {
    auto identity = grav::security::Identity::generate();
    if (!identity) return 1;
    const std::array<std::uint8_t, 3> message{1, 2, 3};
    if (!grav::security::verify(identity->public_key(), message, identity->sign(message))) return 1;
    std::printf("consumer: signed as %s\n", identity->public_key().text().c_str());
    return 0;
}

#elif defined(GRAV_CONSUMER_NATS)
#include <grav/nats.hpp>

int main() {
    using namespace std::chrono_literals;
    grav::nats::Options nats;
    nats.servers = {"nats://127.0.0.1:1"};
    nats.types = {"chat.*"};
    grav::BusOptions options;
    options.bridge = grav::nats::bridge(std::move(nats));
    grav::Bus bus(std::move(options));
    grav::Pod a = bus.connect();
    grav::Pod b = bus.connect();
    const grav::Status handler = b.on_type(
        "greet", [&b](const grav::Message& m) { b.reply_to(m, grav::Message("greet.reply", "hey")); });
    if (!handler) {
        std::fprintf(stderr, "consumer: on_type: %s\n", handler.error().what().c_str());
        return 1;
    }
    auto reply = a.send(grav::Message("greet", "x")).wait_until(5s);
    const auto stats = bus.stats();
    const auto connected = stats.network.find("nats.connected");
    if (!reply || connected == stats.network.end() || connected->second != 0) {
        std::fprintf(stderr, "consumer: the bus with a bridge did not serve its pods\n");
        return 1;
    }
    std::printf("consumer: bus with a NATS bridge served a request locally\n");
    return 0;
}

#elif defined(GRAV_CONSUMER_METRICS)
#include <grav/metrics.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

int main() {
    grav::Bus bus;
    grav::Pod pod = bus.connect();
    if (!pod.send(grav::Message("t", "x")).status()) return 1;
    auto exporter = grav::metrics::Exporter::serve(bus, "127.0.0.1:0");
    if (!exporter) {
        std::fprintf(stderr, "consumer: %s\n", exporter.error().what().c_str());
        return 1;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    const timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(exporter->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string body;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string get = "GET /metrics HTTP/1.0\r\n\r\n";
        if (::send(fd, get.data(), get.size(), 0) == static_cast<ssize_t>(get.size())) {
            char chunk[4096];
            for (ssize_t n; (n = ::recv(fd, chunk, sizeof chunk, 0)) > 0;)
                body.append(chunk, static_cast<std::size_t>(n));
        }
    }
    ::close(fd);
    if (body.find("\ngrav_bus_sent_total 1\n") == std::string::npos) {
        std::fprintf(stderr, "consumer: /metrics did not show grav_bus_sent_total 1:\n%s\n", body.c_str());
        return 1;
    }
    std::printf("consumer: /metrics served on port %u\n", static_cast<unsigned>(exporter->port()));
    return 0;
}

#else
#error \
    "define GRAV_CONSUMER_ZMQ, GRAV_CONSUMER_LAN, GRAV_CONSUMER_DISCOVERY, GRAV_CONSUMER_SECURITY, GRAV_CONSUMER_NATS or GRAV_CONSUMER_METRICS"
#endif
