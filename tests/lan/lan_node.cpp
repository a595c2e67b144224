// grav_lan_node: one full node (Bus + ZeroMQ transport + beacon discovery)
// for the namespace LAN tests and the discovery benchmark. Prints one event
// per line, times in CLOCK_MONOTONIC ms (comparable across processes):
//   START <node-id> <ms>                      just before the bus is built
//   UP <ms>                                   the bus is running
//   READY <peer-id> <address> <ms>            peer joined: handshake done, subscriptions in place
//   LEFT <peer-id> <reason> <ms>              reason: withdrew | timed_out | refused | replaced | local_stop
//   RECV <origin-id> <seq> <ms>               a lan.ping message from another node
//   SENT <seq> <ms>
//   STOPPED <ms>
//   STAT <name> <value>                       discovery's and transport's counters, after STOPPED
// SIGUSR1: send one lan.ping to every peer. SIGTERM/SIGINT: clean stop.

#include "child_process.hpp"
#include "node_output.hpp"

#include <grav/beacon.hpp>
#include <grav/bus.hpp>
#include <grav/zmq.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <string>

using grav::testkit::emit;
using grav::testkit::reason_word;

int main(int argc, char** argv) {
    CLI::App app{"grav LAN test node"};
    grav::BeaconOptions beacon;
    std::string group = "*";
    int interval_ms = static_cast<int>(beacon.interval.count());
    int expiry_ms = static_cast<int>(beacon.expiry.count());
    int heartbeat_timeout_ms = 3000;
    std::size_t workers = 2;
    app.add_option("--group", group, "belongs_to");
    app.add_option("--port", beacon.port, "beacon UDP port");
    app.add_option("--interval", interval_ms, "beacon interval, ms");
    app.add_option("--expiry", expiry_ms, "beacon expiry, ms");
    app.add_option("--interface", beacon.interface, "interface name, address or CIDR");
    app.add_option("--heartbeat-timeout", heartbeat_timeout_ms, "ZMTP heartbeat timeout, ms");
    app.add_option("--workers", workers, "the bus's worker threads (an idle node of a big mesh needs 1)");
    CLI11_PARSE(app, argc, argv);
    beacon.interval = std::chrono::milliseconds(interval_ms);
    beacon.expiry = std::chrono::milliseconds(expiry_ms);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const auto id = grav::NodeId::random();
    emit("START %s %.3f\n", id.str().c_str(), grav::testkit::monotonic_ms());

    grav::zmq::Options zopts;
    zopts.heartbeat_timeout = std::chrono::milliseconds(heartbeat_timeout_ms);
    zopts.heartbeat_interval = std::chrono::milliseconds(std::max(100, heartbeat_timeout_ms / 3));
    grav::BusOptions options;
    options.transport = grav::zmq::transport(zopts);
    options.discovery = grav::beacon_discovery(beacon);
    options.belongs_to = group;
    options.node_id = id;
    options.workers = workers;
    grav::Bus bus(std::move(options));
    bus.on_peer([](const grav::PeerEvent& e) {
        if (e.kind == grav::PeerEvent::Kind::joined) {
            emit("READY %s %s %.3f\n", e.peer.id.str().c_str(), e.peer.address.c_str(),
                 grav::testkit::monotonic_ms());
        } else if (e.kind == grav::PeerEvent::Kind::lost_messages) {
            emit("LOST %s %llu %.3f\n", e.peer.id.str().c_str(), static_cast<unsigned long long>(e.lost),
                 grav::testkit::monotonic_ms());
        } else {
            emit("LEFT %s %s %.3f\n", e.peer.id.str().c_str(), e.reason ? reason_word(*e.reason) : "unknown",
                 grav::testkit::monotonic_ms());
        }
    });
    auto pod = bus.connect();
    const grav::Status subscribed = pod.on_type("lan.ping", [](const grav::Message& m) {
        emit("RECV %s %s %.3f\n", m.origin().str().c_str(), std::string(m.payload_view()).c_str(),
             grav::testkit::monotonic_ms());
    });
    if (!subscribed) {
        std::fprintf(stderr, "lan_node: %s\n", subscribed.error().what().c_str());
        return 1;
    }
    emit("UP %.3f\n", grav::testkit::monotonic_ms());

    int seq = 0;
    while (true) {
        int sig = 0;
        sigwait(&signals, &sig);
        if (sig != SIGUSR1) break;
        ++seq;
        pod.send(grav::Message("lan.ping", std::to_string(seq)));
        emit("SENT %d %.3f\n", seq, grav::testkit::monotonic_ms());
    }
    const auto network = bus.stats().network;  // before stop: the transport's and discovery's counters
    bus.stop();
    emit("STOPPED %.3f\n", grav::testkit::monotonic_ms());
    for (const auto& [name, value] : network)
        emit("STAT %s %llu\n", name.c_str(), static_cast<unsigned long long>(value));
    return 0;
}
