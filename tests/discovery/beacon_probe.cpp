// grav_beacon_probe: one node's beacon discovery and nothing else, printing
// machine-readable events for the multi-process and LAN tests:
//   START <node-id> <ms>
//   FOUND <node-id> <host> <direct-port> <fanout-port> <group> <ms>
//   LOST <node-id> <reason> <ms>          (reason: withdrew | timed_out | replaced)
//   STOPPED <ms>
//   STAT <name> <value>                   (after STOPPED)
// <ms> is CLOCK_MONOTONIC in milliseconds, comparable across processes.
// SIGTERM or SIGINT: clean stop (leaving beacon). SIGKILL: a crash.

#include "child_process.hpp"

#include <grav/beacon.hpp>

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <mutex>

namespace {

class PrintingEvents final : public grav::DiscoveryEvents {
public:
    void on_peer_found(const grav::DiscoveredPeer& p) override {
        const std::lock_guard lock(mutex_);
        std::printf("FOUND %s %s %u %u %s %.3f\n", p.id.str().c_str(), p.contact.host.c_str(),
                    p.contact.direct_port, p.contact.fanout_port, p.belongs_to.c_str(),
                    grav::testkit::monotonic_ms());
        std::fflush(stdout);
    }
    void on_peer_lost(const grav::NodeId& id, grav::LeaveReason reason) override {
        const std::lock_guard lock(mutex_);
        const char* why = reason == grav::LeaveReason::withdrew    ? "withdrew"
                          : reason == grav::LeaveReason::timed_out ? "timed_out"
                          : reason == grav::LeaveReason::replaced  ? "replaced"
                                                                   : "other";
        std::printf("LOST %s %s %.3f\n", id.str().c_str(), why, grav::testkit::monotonic_ms());
        std::fflush(stdout);
    }
    bool peer_alive(const grav::NodeId&) override { return false; }  // no transport here

private:
    std::mutex mutex_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"beacon discovery probe"};
    grav::BeaconOptions options;
    grav::LocalNode self;
    self.id = grav::NodeId::random();
    grav::Contact contact;
    contact.direct_port = 7001;
    contact.fanout_port = 7002;
    int interval_ms = static_cast<int>(options.interval.count());
    int expiry_ms = static_cast<int>(options.expiry.count());
    bool no_broadcast = false;
    app.add_option("--port", options.port, "beacon UDP port");
    app.add_option("--interval", interval_ms, "beacon interval, ms");
    app.add_option("--expiry", expiry_ms, "peer expiry, ms");
    app.add_option("--interface", options.interface, "interface name, address or CIDR");
    app.add_option("--multicast", options.multicast_group, "multicast group");
    app.add_option("--seed", options.seeds, "unicast seed host:port (repeatable)");
    app.add_flag("--no-broadcast", no_broadcast, "only seeds");
    app.add_option("--group", self.belongs_to, "belongs_to");
    app.add_option("--direct-port", contact.direct_port, "advertised ROUTER port");
    app.add_option("--fanout-port", contact.fanout_port, "advertised XPUB port");
    CLI11_PARSE(app, argc, argv);
    options.interval = std::chrono::milliseconds(interval_ms);
    options.expiry = std::chrono::milliseconds(expiry_ms);
    options.broadcast = !no_broadcast;

    // Block the stop signals before any thread exists, then wait for one.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    PrintingEvents events;
    auto discovery = grav::beacon_discovery(options);
    std::printf("START %s %.3f\n", self.id.str().c_str(), grav::testkit::monotonic_ms());
    std::fflush(stdout);
    if (auto st = discovery->start(self, contact, events); !st) {
        std::printf("ERROR %s\n", st.error().what().c_str());
        return 2;
    }
    int sig = 0;
    sigwait(&stop_signals, &sig);
    discovery->stop();
    std::printf("STOPPED %.3f\n", grav::testkit::monotonic_ms());
    for (const auto& [name, value] : discovery->stats())
        std::printf("STAT %s %llu\n", name.c_str(), static_cast<unsigned long long>(value));
    std::fflush(stdout);
    return 0;
}
