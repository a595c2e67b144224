#include "bridged.hpp"

#include <grav/nats.hpp>
#include <grav/zmq.hpp>

#include <stdexcept>

namespace grav::natsbench {
namespace {

// A handler for a literal type is never refused; if it were, the figures would be meaningless.
void must(const grav::Status& s) {
    if (!s) throw std::runtime_error(s.error().what());
}

constexpr const char* kGroup = "natsbench";

std::unique_ptr<Bus> make_site(const std::string& name, const std::string& url, const SiteOptions& site) {
    BusOptions o;
    o.name = name;
    o.belongs_to = kGroup;
    o.workers = 2;
    if (site.transport) o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0"});
    nats::Options n;
    n.servers = {url};
    n.types = {"bench.*"};
    n.send_asap = site.send_asap;
    o.bridge = nats::bridge(std::move(n));
    return std::make_unique<Bus>(std::move(o));
}

std::uint64_t stat(const Bus& bus, const std::string& key) {
    const auto s = bus.stats();
    auto it = s.network.find(key);
    return it == s.network.end() ? 0 : it->second;
}

BridgeCounters minus(const BridgeCounters& x, const BridgeCounters& y) {
    return {x.forwarded - y.forwarded,
            x.published - y.published,
            x.publish_failed - y.publish_failed,
            x.received - y.received,
            x.injected - y.injected,
            x.lost - y.lost,
            x.queue_overflow - y.queue_overflow,
            x.slow_consumer - y.slow_consumer,
            x.disconnects - y.disconnects,
            x.bridge_lost - y.bridge_lost};
}

template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        if (pred()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

}  // namespace

BridgedSites::BridgedSites(const std::string& url, const SiteOptions& site, std::size_t rtt_payload)
    : a_(make_site("site-a", url, site)), b_(make_site("site-b", url, site)), rtt_payload_(rtt_payload, 'q') {
    for (auto* bus : {a_.get(), b_.get()}) {
        if (!eventually([&] { return stat(*bus, "nats.connected") == 1; }, 15s)) {
            throw std::runtime_error("the bridge of " + bus->name() + " did not connect to NATS within 15 s");
        }
    }
    sender_ = std::make_unique<Pod>(a_->connect());
    counter_ = std::make_unique<Pod>(b_->connect());
    must(counter_->on_type("bench.x", [this](const Message&) {
        last_ns_.store(now_ns(), std::memory_order_relaxed);
        arrived_.fetch_add(1, std::memory_order_release);
    }));
    warm_ = std::make_unique<Pod>(b_->connect());
    must(warm_->on_type("bench.warm", [this](const Message&) { warm_seen_.fetch_add(1); }));
    server_ = std::make_unique<Pod>(b_->connect());
    must(server_->on_type(
        "bench.req", [this](const Message& m) { server_->reply_to(m, Message("bench.rep", rtt_payload_)); }));
}

BridgedSites::~BridgedSites() {
    // Pods first (their handlers use this object), then the buses.
    server_.reset();
    warm_.reset();
    counter_.reset();
    sender_.reset();
    a_->stop();
    b_->stop();
}

bool BridgedSites::warm_up() {
    const auto deadline = Clock::now() + 15s;
    bool crossed = false;
    while (!crossed && Clock::now() < deadline) {
        (void)sender_->send(Message("bench.warm", "warm"));
        crossed = eventually([&] { return warm_seen_.load() > 0; }, 50ms);
    }
    while (crossed && Clock::now() < deadline) {
        if (sender_->send(Message("bench.req", rtt_payload_)).wait_until(200ms)) return true;
    }
    return false;
}

BridgeCounters BridgedSites::counters() const {
    BridgeCounters c;
    c.forwarded = stat(*a_, "bridge.forwarded");
    c.published = stat(*a_, "nats.published");
    c.publish_failed = stat(*a_, "nats.publish_failed");
    c.received = stat(*b_, "nats.received");
    c.injected = stat(*b_, "bridge.injected");
    c.lost = stat(*b_, "nats.lost");
    c.queue_overflow = stat(*b_, "nats.queue_overflow");
    c.slow_consumer = stat(*a_, "nats.slow_consumer") + stat(*b_, "nats.slow_consumer");
    c.disconnects = stat(*a_, "nats.disconnects") + stat(*b_, "nats.disconnects");
    c.bridge_lost = stat(*b_, "bridge.lost");
    return c;
}

FanoutResult BridgedSites::fanout(std::uint64_t count, std::size_t payload_size, BridgeCounters& counters) {
    const std::string payload(payload_size, 'g');
    arrived_ = 0;
    const auto before = this->counters();
    FanoutResult r;
    r.sent = count;
    const auto cpu0 = thread_cpu_ns();
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < count; ++i) {
        if (!sender_->send(Message("bench.x", payload)).status()) ++r.send_failed;
    }
    r.send_seconds = static_cast<double>(now_ns() - t0) / 1e9;
    r.send_cpu_us = static_cast<double>(thread_cpu_ns() - cpu0) / 1e3 / static_cast<double>(count);
    r.arrived = wait_arrivals([&] { return arrived_.load(std::memory_order_acquire); }, count, 3s, 90s);
    r.seconds = static_cast<double>(last_ns_.load() - t0) / 1e9;
    counters = minus(this->counters(), before);
    return r;
}

double BridgedSites::rtt_once() {
    const auto t0 = now_ns();
    auto reply = sender_->send(Message("bench.req", rtt_payload_)).wait_until(5s);
    const auto t1 = now_ns();
    return reply ? static_cast<double>(t1 - t0) / 1e3 : -1;
}

}  // namespace grav::natsbench
