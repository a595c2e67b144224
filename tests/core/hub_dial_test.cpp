// The hub's dials to discovered peers, over the in-process transport and a
// discovery the test drives by hand: at most 64 are in flight, and a peer
// found while every slot is taken is dialled once one frees (issue 20: when
// 100 nodes start at once, each finds 99 peers at once).
#include <grav/grav.hpp>

#include "support/inproc_transport.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace grav::test {
namespace {

// A Discovery that reports what the test tells it, and nothing else (a real
// implementation of the interface, like InprocTransport is of Transport).
class HandDiscovery final : public Discovery {
public:
    Status start(const LocalNode&, const Contact&, DiscoveryEvents& events) override {
        std::lock_guard lock(mutex_);
        events_ = &events;
        return success();
    }
    void stop() override {
        std::lock_guard lock(mutex_);
        events_ = nullptr;
    }
    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const override { return {}; }
    void found(const DiscoveredPeer& peer) {
        std::lock_guard lock(mutex_);
        if (events_) events_->on_peer_found(peer);
    }

private:
    std::mutex mutex_;
    DiscoveryEvents* events_ = nullptr;
};

std::unique_ptr<Bus> make_bus(const InprocNetwork& net, std::unique_ptr<Discovery> discovery = nullptr) {
    BusOptions options;
    options.transport = net.make_transport();
    options.discovery = std::move(discovery);
    options.workers = 1;
    return std::make_unique<Bus>(std::move(options));
}

// What discovery would report of `bus`: its node id and its contact
// ("inproc-net://<n>" is host "inproc", port n).
DiscoveredPeer discovered(const Bus& bus) {
    const std::string endpoint = bus.endpoint();
    DiscoveredPeer peer;
    peer.id = bus.node_id();
    peer.belongs_to = "*";
    peer.contact.host = "inproc";
    peer.contact.direct_port =
        static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind('/') + 1)));
    peer.contact.fanout_port = peer.contact.direct_port;
    return peer;
}

TEST(HubDials, PeersFoundWhileEverySlotIsTakenAreDialledAsSlotsFree) {
    InprocNetwork net;
    auto hand = std::make_unique<HandDiscovery>();
    HandDiscovery* discovery = hand.get();
    auto a = make_bus(net, std::move(hand));
    // More peers than slots (64), all found at once and reported once: the
    // ones beyond the slots must wait for a free one, not for a second
    // report (which this discovery never makes).
    constexpr int count = 80;
    std::vector<std::unique_ptr<Bus>> others;
    for (int i = 0; i < count; ++i) others.push_back(make_bus(net));
    for (const auto& b : others) discovery->found(discovered(*b));
    EXPECT_TRUE(eventually([&] { return a->peers().size() == count; }, 20s))
        << a->peers().size() << " of " << count << " peers joined";
    const auto stats = a->stats().network;
    EXPECT_GT(stats.at("hub.dials_deferred"), 0U) << "every peer got a slot at once: the test proves nothing";
    EXPECT_EQ(stats.at("hub.dials_in_flight"), 0U);
    EXPECT_EQ(stats.at("hub.dials_pending"), 0U);
}

}  // namespace
}  // namespace grav::test
