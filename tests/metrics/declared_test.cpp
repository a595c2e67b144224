// Every module declares every key its stats() carries: a bus with the ZeroMQ
// transport, beacon discovery and a NATS bridge (no server: it need not
// connect) exports no `untyped` family, so each of its metrics has its type
// and its help line (the fallback is for modules that declare nothing).
#include <grav/beacon.hpp>
#include <grav/grav.hpp>
#include <grav/nats.hpp>
#include <grav/zmq.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

namespace grav::mtest {
namespace {

TEST(DeclaredMetrics, EveryModuleDeclaresEveryKey) {
    zmq::Options transport;
    transport.bind = "tcp://127.0.0.1:0";
    transport.log = [](std::string_view) {};
    BeaconOptions beacon;
    beacon.interface = "lo";  // loopback only; a port of this process alone
    beacon.port = static_cast<std::uint16_t>(40000 + ::getpid() % 20000);
    beacon.log = [](std::string_view) {};
    nats::Options bridge;
    bridge.servers = {"nats://127.0.0.1:1"};  // nobody: the bridge keeps trying, the bus serves
    bridge.types = {"declared.*"};
    BusOptions options;
    options.transport = zmq::transport(std::move(transport));
    options.discovery = beacon_discovery(std::move(beacon));
    options.bridge = nats::bridge(std::move(bridge));
    Bus bus(std::move(options));

    const BusStats stats = bus.stats();
    for (const char* prefix : {"zmq.", "beacon.", "hub.", "bridge.", "nats."}) {
        bool any = false;
        for (const auto& [key, value] : stats.network) any = any || key.starts_with(prefix);
        EXPECT_TRUE(any) << "no " << prefix << " key at all";
    }
    std::size_t network = 0;
    for (const MetricFamily& f : bus.metrics()) {
        EXPECT_NE(f.kind, MetricKind::untyped) << f.name << ": " << f.help;
        network += f.name.starts_with("grav_bus_") || f.name == "grav_node_info" ? 0 : 1;
    }
    EXPECT_EQ(network, stats.network.size());  // one family per key, none lost
}

}  // namespace
}  // namespace grav::mtest
