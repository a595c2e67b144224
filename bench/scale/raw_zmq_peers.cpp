// grav_raw_zmq_peers: the raw-libzmq floor of a grav mesh (bench/scale/
// mesh_scale's reference). Binds a ROUTER and an XPUB on --bind, then dials
// every --peer (other instances of this program, one per namespace of the
// LAN, as the grav nodes are): per peer a DEALER with a monitor on its
// ROUTER and a SUB on its XPUB. A mesh of these holds, per node and peer,
// what a grav node holds: two outgoing and two incoming TCP connections,
// with the ZMTP heartbeats of grav's make_socket (DEALER and XPUB ping
// every --heartbeat-interval, ROUTER and SUB do not; TTL on the DEALER's
// PINGs). Nothing else: no discovery, no handshake, no subscriptions
// beyond "", no messages.
//   START <pid> <ms>   UP <ms>   (then idles until SIGTERM)

#include "child_process.hpp"

#include <CLI/CLI.hpp>
#include <zmq.hpp>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    CLI::App app{"raw libzmq per-peer sockets"};
    std::string bind;
    std::vector<std::string> peers;
    int interval_ms = 1000;
    int timeout_ms = 3000;
    app.add_option("--bind", bind, "own address (ROUTER on port 7000, XPUB on 7001)")->required();
    app.add_option("--peer", peers, "another instance's address (repeat)");
    app.add_option("--heartbeat-interval", interval_ms, "ms");
    app.add_option("--heartbeat-timeout", timeout_ms, "ms");
    CLI11_PARSE(app, argc, argv);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::printf("START %d %.3f\n", static_cast<int>(::getpid()), grav::testkit::monotonic_ms());
    std::fflush(stdout);

    ::zmq::context_t context(1);
    const int zmtp_timeout = std::max(timeout_ms - interval_ms - 250, interval_ms);
    auto make = [&](::zmq::socket_type type) {
        ::zmq::socket_t s(context, type);
        s.set(::zmq::sockopt::linger, 0);
        s.set(::zmq::sockopt::sndhwm, 10000);
        s.set(::zmq::sockopt::rcvhwm, 10000);
        const bool pings = type == ::zmq::socket_type::dealer || type == ::zmq::socket_type::xpub;
        s.set(::zmq::sockopt::heartbeat_ivl, pings ? interval_ms : 0);
        s.set(::zmq::sockopt::heartbeat_timeout, type == ::zmq::socket_type::sub ? 3600000 : zmtp_timeout);
        s.set(::zmq::sockopt::heartbeat_ttl, type == ::zmq::socket_type::xpub ? 0 : timeout_ms);
        s.set(::zmq::sockopt::reconnect_ivl, 100);
        s.set(::zmq::sockopt::reconnect_ivl_max, 1000);
        return s;
    };
    auto router = make(::zmq::socket_type::router);
    router.bind("tcp://" + bind + ":7000");
    auto xpub = make(::zmq::socket_type::xpub);
    xpub.bind("tcp://" + bind + ":7001");

    std::vector<::zmq::socket_t> sockets;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        const std::string& peer = peers[i];
        auto dealer = make(::zmq::socket_type::dealer);
        dealer.set(::zmq::sockopt::routing_id, "from-" + bind);
        const std::string address = "inproc://raw-monitor-" + std::to_string(i);
        if (zmq_socket_monitor(dealer.handle(), address.c_str(), ZMQ_EVENT_DISCONNECTED) != 0) return 1;
        ::zmq::socket_t monitor(context, ::zmq::socket_type::pair);
        monitor.set(::zmq::sockopt::linger, 0);
        monitor.connect(address);
        dealer.connect("tcp://" + peer + ":7000");
        auto sub = make(::zmq::socket_type::sub);
        sub.set(::zmq::sockopt::subscribe, "");
        sub.connect("tcp://" + peer + ":7001");
        sockets.push_back(std::move(dealer));
        sockets.push_back(std::move(monitor));
        sockets.push_back(std::move(sub));
    }
    std::printf("UP %.3f\n", grav::testkit::monotonic_ms());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    for (auto& s : sockets) {
        if (s.get(::zmq::sockopt::type) == ZMQ_DEALER) zmq_socket_monitor(s.handle(), nullptr, 0);
    }
    return 0;
}
