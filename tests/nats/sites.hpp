#pragma once
// Sites for the bridge tests: each site is a mesh of buses on real ZeroMQ
// sockets on 127.0.0.1 (joined by connect_endpoint), some of them bridge
// nodes connected to a real NATS cluster (tests/nats/support).

#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <grav/grav.hpp>
#include <grav/nats.hpp>
#include <grav/zmq.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grav::natstest {

using namespace std::chrono_literals;

struct NodeSpec {
    std::string name;
    std::optional<nats::Options> bridge{};  // set: a bridge node
    std::vector<std::string> interests{};   // capabilities it serves
    std::string group = "sites";
};

std::unique_ptr<Bus> make_node(NodeSpec spec);

// A site: its nodes, meshed (every node sees every other ready).
class Site {
public:
    explicit Site(std::vector<NodeSpec> specs);
    Bus& node(std::size_t i) { return *nodes_.at(i); }
    [[nodiscard]] std::size_t size() const { return nodes_.size(); }
    // Stops node i (a clean leave) and forgets it.
    void stop(std::size_t i);

private:
    std::vector<std::unique_ptr<Bus>> nodes_;
};

// Bridge options for these tests: fast reconnects, the given servers and types.
nats::Options bridge_options(std::vector<std::string> servers, std::vector<std::string> types);

// A pod that records every message of `pattern` it receives.
struct Listener {
    Listener(Bus& bus, const std::string& pattern);
    Pod pod;
    std::shared_ptr<test::Inbox> inbox = std::make_shared<test::Inbox>();
};

// Waits until the bridge of `bus` is connected to NATS and its subscriptions
// are known to the whole cluster (a probe message crosses).
bool bridge_connected(Bus& bus, std::chrono::milliseconds timeout = 10s);

std::uint64_t stat(Bus& bus, const std::string& key);

}  // namespace grav::natstest

namespace grav::natstest {

// The payloads of `inbox` that are not warm-up probes ("warm:...").
std::vector<std::string> real_payloads(const test::Inbox& inbox);
// The same, each a decimal number (what the tests send to check the order).
std::vector<int> numbers(const test::Inbox& inbox);

// Sends probe messages of `type` ("warm:<k>") from `from` until `to` has one:
// then the NATS interest of `to`'s site for that type is in place.
bool warm_up(Pod& from, const std::string& type, const test::Inbox& to, std::chrono::milliseconds timeout = 15s);

}  // namespace grav::natstest
