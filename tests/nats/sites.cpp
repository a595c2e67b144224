#include "sites.hpp"

#include <stdexcept>

namespace grav::natstest {

std::unique_ptr<Bus> make_node(NodeSpec spec) {
    BusOptions o;
    o.name = spec.name;
    o.belongs_to = spec.group;
    o.interests = spec.interests;
    o.workers = 2;
    o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0"});
    if (spec.bridge) o.bridge = nats::bridge(*spec.bridge);
    return std::make_unique<Bus>(std::move(o));
}

Site::Site(std::vector<NodeSpec> specs) {
    for (auto& spec : specs) nodes_.push_back(make_node(std::move(spec)));
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        for (std::size_t j = i + 1; j < nodes_.size(); ++j) {
            if (auto s = nodes_[i]->connect_endpoint(nodes_[j]->endpoint()); !s) {
                throw std::runtime_error("connect_endpoint: " + s.error().what());
            }
        }
    }
    const bool meshed = test::eventually(
        [&] {
            for (auto& n : nodes_) {
                if (n->peers().size() != nodes_.size() - 1) return false;
            }
            return true;
        },
        10s);
    if (!meshed) throw std::runtime_error("the site's nodes did not mesh within 10 s");
}

void Site::stop(std::size_t i) {
    nodes_.at(i)->stop();
    nodes_.erase(nodes_.begin() + static_cast<std::ptrdiff_t>(i));
}

nats::Options bridge_options(std::vector<std::string> servers, std::vector<std::string> types) {
    nats::Options o;
    o.servers = std::move(servers);
    o.types = std::move(types);
    o.reconnect_wait = 50ms;
    return o;
}

Listener::Listener(Bus& bus, const std::string& pattern) : pod(bus.connect()) {
    auto in = inbox;
    if (const Status s = pod.on_type(pattern, [in](const Message& m) { in->add(m); }); !s)
        throw std::invalid_argument("Listener: " + s.error().what());
}

bool bridge_connected(Bus& bus, std::chrono::milliseconds timeout) {
    return test::eventually([&] { return stat(bus, "nats.connected") == 1; }, timeout);
}

std::uint64_t stat(Bus& bus, const std::string& key) {
    const auto s = bus.stats();
    auto it = s.network.find(key);
    return it == s.network.end() ? 0 : it->second;
}

}  // namespace grav::natstest

namespace grav::natstest {

std::vector<std::string> real_payloads(const test::Inbox& inbox) {
    std::vector<std::string> out;
    for (auto& p : inbox.payloads()) {
        if (!p.starts_with("warm:")) out.push_back(std::move(p));
    }
    return out;
}

std::vector<int> numbers(const test::Inbox& inbox) {
    std::vector<int> out;
    for (const auto& p : real_payloads(inbox)) out.push_back(std::stoi(p));
    return out;
}

bool warm_up(Pod& from, const std::string& type, const test::Inbox& to, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int k = 0; std::chrono::steady_clock::now() < deadline; ++k) {
        (void)from.send(Message(type, "warm:" + std::to_string(k)));
        if (test::eventually([&] { return to.size() > real_payloads(to).size(); }, 50ms)) return true;
    }
    return false;
}

}  // namespace grav::natstest
