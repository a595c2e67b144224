#pragma once
// grav::Discovery on UDP beacons. One thread per instance owns both sockets
// and the peer table; start/stop/stats may be called from any thread.

#include "beacon_auth.hpp"
#include "beacon_codec.hpp"
#include "counters.hpp"
#include "freshness.hpp"
#include "interfaces.hpp"
#include "refusal_log.hpp"
#include "udp_socket.hpp"

#include <grav/beacon.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

namespace grav::beacon {

class BeaconDiscovery final : public Discovery {
public:
    explicit BeaconDiscovery(BeaconOptions options);
    ~BeaconDiscovery() override;
    BeaconDiscovery(const BeaconDiscovery&) = delete;
    BeaconDiscovery& operator=(const BeaconDiscovery&) = delete;
    BeaconDiscovery(BeaconDiscovery&&) = delete;  // the thread holds `this`
    BeaconDiscovery& operator=(BeaconDiscovery&&) = delete;

    Status start(const LocalNode& self, const Contact& contact, DiscoveryEvents& events) override;
    void stop() override;
    [[nodiscard]] std::map<std::string, std::uint64_t> stats() const override;
    [[nodiscard]] std::vector<NodeId> heard() const override;
    [[nodiscard]] std::vector<MetricInfo> describe_metrics() const override;

private:
    using Clock = std::chrono::steady_clock;

    struct KnownPeer {
        DiscoveredPeer info;
        sockaddr_in source{};  // where its beacons come from: answers go there
        bool unicast = false;  // it beacons us by unicast, so we beacon it back the same way
        Clock::time_point last_seen;
        Clock::time_point next_alive_check;
        Clock::time_point next_redial_check;  // beaconing, but is the transport linked to it?
        unsigned redials = 0;                 // in a row without a link: the next one backs off
    };

    // Everything below is touched only by the discovery thread once it runs.
    void run();
    void refresh_interfaces();
    void send_round(std::uint8_t flags);
    void send_to(const Encoded& beacon, const sockaddr_in& to, unsigned interface = 0, in_addr source = {});
    void drain(UdpSocket& socket, bool unicast_socket);
    void handle(const Datagram& datagram, std::span<const std::uint8_t> bytes, bool unicast_socket);
    void on_beacon(const Beacon& beacon, const Datagram& datagram, bool unicast);
    void answer(const sockaddr_in& to);
    // Runs the expiry and redial checks when the earliest of them is due
    // (next_check_), not on every datagram: each is a pass over every peer,
    // and a node of a 100-node mesh hears 200 beacons a second (issue 20).
    void expire(Clock::time_point now);
    [[nodiscard]] Clock::time_point earliest_check() const;
    void redial_unlinked(Clock::time_point now);
    [[nodiscard]] Clock::time_point next_deadline(Clock::time_point next_beacon) const;
    // Between two rounds: the interval, longer once many peers are known.
    static constexpr std::size_t kQuietAbove = 25;
    [[nodiscard]] Clock::duration round_interval() const;
    [[nodiscard]] Clock::duration jittered_interval();
    [[nodiscard]] bool accepted_interface(const Datagram& datagram) const;
    [[nodiscard]] bool is_unicast_destination(in_addr destination) const;
    // Secure mode: true when a decoded beacon may be used; counts why not.
    [[nodiscard]] bool authentic(const Beacon& beacon, std::span<const std::uint8_t> datagram,
                                 const sockaddr_in& source);
    [[nodiscard]] Encoded make_beacon(std::uint8_t flags);
    template <class F>
    void notify(F&& callback);

    BeaconOptions options_;
    InterfaceSelector selector_;
    std::optional<in_addr> group_;
    std::vector<sockaddr_in> seeds_;

    LocalNode self_;
    Contact contact_;
    DiscoveryEvents* events_ = nullptr;

    UdpSocket listener_;  // the shared beacon port: broadcasts, multicast, seeds
    UdpSocket sender_;    // an ephemeral port of our own: answers and unicast beacons
    Fd wakeup_;           // eventfd: stop() wakes the thread out of poll at once

    std::vector<Interface> interfaces_;
    std::vector<unsigned> joined_;  // interfaces whose multicast group the listener joined
    std::unordered_map<NodeId, KnownPeer> peers_;
    // No peer's expiry or redial check is due before this. Beacons only
    // ever postpone a check; a new peer's first check may come sooner.
    Clock::time_point next_check_ = Clock::time_point::max();
    std::unordered_map<NodeId, Clock::time_point> replaced_;  // recently, by a new id at their address
    std::minstd_rand random_;
    Stamper stamper_;                             // secure mode: our beacons' stamps
    std::optional<Authenticator> authenticator_;  // secure mode only
    std::optional<RefusalLog> refusals_;          // says why beacons were ignored

    // After every change of peers_ (one id added or removed, or cleared):
    // its size and ids, for other threads.
    void publish_table(const NodeId* added, const NodeId* removed);

    Counters counters_;
    std::atomic<std::size_t> peer_count_{0};
    mutable std::mutex heard_mutex_;
    std::vector<NodeId> heard_;  // the ids of peers_ (at most max_peers), under heard_mutex_

    std::mutex lifecycle_;
    std::atomic<bool> stopping_{false};
    bool started_ = false;
    std::jthread thread_;
};

// Defined here: both beacon_discovery.cpp and beacon_receive.cpp call it.
template <class F>
void BeaconDiscovery::notify(F&& callback) {
    if (stopping_.load()) return;  // stop() promises no callbacks after it
    // A throwing hub must not take discovery down with it.
    try {
        callback(*events_);
    } catch (...) {
        counters_.add(Counter::callback_threw);
    }
}

}  // namespace grav::beacon
