#include "beacon_discovery.hpp"

#include "beacon_seal.hpp"
#include "seeds.hpp"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace grav::beacon {

BeaconDiscovery::BeaconDiscovery(BeaconOptions options) : options_(std::move(options)) {}

BeaconDiscovery::~BeaconDiscovery() {
    stop();
    // Destroyed from inside one of its own callbacks: the thread cannot join
    // itself; it only finishes the callback and leaves the loop.
    if (thread_.joinable()) thread_.detach();
}

Status BeaconDiscovery::start(const LocalNode& self, const Contact& contact, DiscoveryEvents& events) {
    const std::lock_guard lock(lifecycle_);
    if (started_) return Error(Errc::invalid_argument, "beacon discovery already started");
    if (options_.interval <= std::chrono::milliseconds::zero() || options_.expiry <= options_.interval) {
        return Error(Errc::invalid_argument,
                     "beacon interval must be > 0 and expiry longer than the interval");
    }
    if (options_.port == 0) return Error(Errc::invalid_argument, "beacon port must not be 0");
    if (contact.direct_port == 0 || contact.fanout_port == 0) {
        return Error(Errc::invalid_argument, "the transport's contact has no ports to advertise");
    }
    if (self.belongs_to.size() > kMaxGroupSize) {
        return Error(Errc::invalid_argument,
                     "group name longer than " + std::to_string(kMaxGroupSize) + " bytes");
    }
    auto selector = InterfaceSelector::parse(options_.interface);
    if (!selector) return selector.error();
    selector_ = *selector;
    if (!options_.multicast_group.empty()) {
        const auto g = parse_ipv4(options_.multicast_group);
        if (!g || !IN_MULTICAST(ntohl(g->s_addr))) {
            return Error(Errc::invalid_argument,
                         "'" + options_.multicast_group + "' is not an IPv4 multicast group");
        }
        group_ = *g;
    }
    auto seeds = resolve_seeds(options_.seeds);
    if (!seeds) return seeds.error();
    seeds_ = std::move(*seeds);

    if (!selector_.is_default()) {
        const auto all = list_ipv4_interfaces();
        if (std::none_of(all.begin(), all.end(), [&](const Interface& i) { return selector_.matches(i); })) {
            return Error(Errc::invalid_argument, "no up IPv4 interface matches '" + options_.interface + "'");
        }
    }

    if (options_.security && options_.max_clock_skew <= std::chrono::milliseconds::zero()) {
        return Error(Errc::invalid_argument, "beacon max_clock_skew must be > 0");
    }

    auto listener = UdpSocket::open(options_.port, true);
    if (!listener) return listener.error();
    auto sender = UdpSocket::open(0, false);
    if (!sender) return sender.error();
    if (auto st = sender->set_multicast_ttl(options_.multicast_ttl); !st) return st.error();
    Fd wakeup(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
    if (!wakeup.valid())
        return Error(Errc::transport_failed, std::string("eventfd: ") + std::strerror(errno));

    listener_ = std::move(*listener);
    sender_ = std::move(*sender);
    wakeup_ = std::move(wakeup);
    self_ = self;
    contact_ = contact;
    events_ = &events;
    if (options_.security) {
        authenticator_.emplace(options_.security, options_.max_clock_skew, options_.max_peers);
    }
    RefusalLog::Sink sink = options_.log;
    if (!sink) {
        sink = [prefix = "grav.beacon[" + self.id.short_str() + "]: "](std::string_view line) {
            std::fprintf(stderr, "%s%.*s\n", prefix.c_str(), static_cast<int>(line.size()), line.data());
        };
    }
    refusals_.emplace(options_.security, std::move(sink));
    random_.seed(static_cast<std::uint32_t>(std::hash<NodeId>{}(self.id) ^ std::random_device{}()));
    started_ = true;
    thread_ = std::jthread([this] { run(); });
    return success();
}

void BeaconDiscovery::stop() {
    const std::lock_guard lock(lifecycle_);
    if (!thread_.joinable()) return;
    stopping_.store(true);
    const std::uint64_t one = 1;
    // The eventfd cannot be full (it would take 2^64 - 1 writes), so this
    // write never fails for a reason we could act on.
    [[maybe_unused]] const auto n = ::write(wakeup_.get(), &one, sizeof one);
    // stop() from inside a callback: the thread leaves its loop once the
    // callback returns, and makes no further callback (notify checks).
    if (thread_.get_id() == std::this_thread::get_id()) return;
    thread_.join();
}

std::map<std::string, std::uint64_t> BeaconDiscovery::stats() const {
    auto out = counters_.snapshot();
    out["beacon.peers"] = peer_count_.load(std::memory_order_relaxed);
    return out;
}

std::vector<MetricInfo> BeaconDiscovery::describe_metrics() const {
    auto out = Counters::describe();
    out.push_back({"beacon.peers", MetricKind::gauge, "Peers discovery tracks now"});
    return out;
}

std::vector<NodeId> BeaconDiscovery::heard() const {
    const std::lock_guard lock(heard_mutex_);
    return heard_;
}

void BeaconDiscovery::publish_table(const NodeId* added, const NodeId* removed) {
    peer_count_.store(peers_.size());
    const std::lock_guard lock(heard_mutex_);
    if (added != nullptr) heard_.push_back(*added);
    if (removed != nullptr) std::erase(heard_, *removed);
    if (peers_.empty()) heard_.clear();
}

void BeaconDiscovery::run() {
    refresh_interfaces();
    send_round(hello);
    auto next_beacon = Clock::now() + jittered_interval();
    while (!stopping_.load()) {
        const auto now = Clock::now();
        const auto deadline = next_deadline(next_beacon);
        const auto wait =
            std::chrono::ceil<std::chrono::milliseconds>(std::max(deadline - now, Clock::duration::zero()));
        std::array<pollfd, 3> fds{
            {{wakeup_.get(), POLLIN, 0}, {listener_.fd(), POLLIN, 0}, {sender_.fd(), POLLIN, 0}}};
        const int rc =
            ::poll(fds.data(), fds.size(), static_cast<int>(std::min<std::int64_t>(wait.count(), 1000)));
        if (rc < 0 && errno != EINTR) break;
        if (stopping_.load()) break;
        if (fds[1].revents & POLLIN) drain(listener_, false);
        if (fds[2].revents & POLLIN) drain(sender_, true);
        const auto after = Clock::now();
        if (after >= next_beacon) {
            refresh_interfaces();
            send_round(0);
            next_beacon = after + jittered_interval();
        }
        expire(after);
    }
    // Clean stop: every peer hears we leave, by the usual paths and directly.
    send_round(leaving);
    const auto goodbye = make_beacon(leaving);
    for (const auto& [id, peer] : peers_) send_to(goodbye, peer.source);
    peers_.clear();
    publish_table(nullptr, nullptr);
}

Clock::duration BeaconDiscovery::round_interval() const {
    // Every node hears every other's rounds: on a LAN of N nodes each one
    // takes N / interval beacons a second, N^2 / interval in all, a large
    // share of a big mesh's idle CPU (issue 20; see docs/BENCHMARKS_HISTORY.md,
    // Mesh scale). Beyond kQuietAbove known peers the rounds slow down in
    // proportion, so that a node hears about kQuietAbove / interval beacons a
    // second however big the LAN, but never beyond half the expiry: a peer
    // without a TCP link (found, not yet dialled) still hears two rounds per
    // expiry. Nothing waits for these rounds: a newcomer's first beacon is
    // answered at once by everyone, and a known peer's liveness comes from
    // its TCP link.
    const auto base = std::chrono::duration_cast<std::chrono::microseconds>(options_.interval);
    const auto peers = peers_.size();
    if (peers <= kQuietAbove) return base;
    const auto scaled = base * static_cast<std::int64_t>(peers) / static_cast<std::int64_t>(kQuietAbove);
    const auto cap = std::chrono::duration_cast<std::chrono::microseconds>(options_.expiry) / 2;
    return std::max(base, std::min(scaled, cap));
}

Clock::duration BeaconDiscovery::jittered_interval() {
    // Uniform in [3/4, 1] of the interval: never later than the interval, and
    // nodes started together drift apart instead of beaconing in bursts.
    const auto full = std::chrono::duration_cast<std::chrono::microseconds>(round_interval()).count();
    std::uniform_int_distribution<std::int64_t> pick(full * 3 / 4, full);
    return std::chrono::microseconds(pick(random_));
}

BeaconDiscovery::Clock::time_point BeaconDiscovery::next_deadline(Clock::time_point next_beacon) const {
    return std::min(next_beacon, next_check_);
}

BeaconDiscovery::Clock::time_point BeaconDiscovery::earliest_check() const {
    auto deadline = Clock::time_point::max();
    for (const auto& [id, peer] : peers_) {
        const auto silent_at = peer.last_seen + options_.expiry;
        deadline = std::min(deadline, std::max(silent_at, peer.next_alive_check));
        // The redial check only matters while the peer still beacons; a
        // silent peer's stale check time must not make poll() spin.
        if (peer.next_redial_check < silent_at) deadline = std::min(deadline, peer.next_redial_check);
    }
    return deadline;
}

void BeaconDiscovery::refresh_interfaces() {
    auto all = list_ipv4_interfaces();
    std::erase_if(all, [&](const Interface& i) { return !selector_.matches(i); });
    interfaces_ = std::move(all);
    if (!group_) return;
    for (const auto& itf : interfaces_) {
        if (itf.loopback || !itf.can_multicast) continue;
        if (std::find(joined_.begin(), joined_.end(), itf.index) != joined_.end()) continue;
        if (listener_.join_group(*group_, itf.index)) joined_.push_back(itf.index);
    }
}

Encoded BeaconDiscovery::make_beacon(std::uint8_t flags) {
    Beacon b;
    b.node = self_.id;
    b.direct_port = contact_.direct_port;
    b.fanout_port = contact_.fanout_port;
    b.group = self_.belongs_to;
    b.flags = flags;
    if (options_.security) {
        return encode_sealed(std::move(b), stamper_.next(wall_clock_ms()), options_.security->identity());
    }
    return *encode(b);  // start() checked the group length
}

void BeaconDiscovery::send_to(const Encoded& beacon, const sockaddr_in& to, unsigned interface,
                              in_addr source) {
    if (sender_.send(beacon.view(), to, interface, source)) {
        counters_.add(Counter::sent);
    } else {
        counters_.add(Counter::send_failed);
    }
}

void BeaconDiscovery::send_round(std::uint8_t flags) {
    const auto beacon = make_beacon(flags);
    if (options_.broadcast) {
        // One datagram per (interface, destination): an interface with
        // several addresses in one subnet would otherwise send duplicates.
        std::vector<std::pair<unsigned, in_addr_t>> done;
        for (const auto& itf : interfaces_) {
            in_addr to{};
            if (itf.loopback) {
                to = itf.broadcast;
            } else if (group_) {
                if (!itf.can_multicast) continue;
                to = *group_;
            } else if (itf.can_broadcast) {
                // The limited broadcast, leaving through this interface only
                // (IP_PKTINFO): unlike the directed one (10.0.0.255) it needs
                // no "brd" configured and no agreement on the netmask, and
                // routers never forward it.
                to.s_addr = htonl(INADDR_BROADCAST);
            } else {
                continue;
            }
            const std::pair key{itf.index, to.s_addr};
            if (std::find(done.begin(), done.end(), key) != done.end()) continue;
            done.push_back(key);
            send_to(beacon, make_endpoint(to, options_.port), itf.index, itf.address);
        }
    }
    for (const auto& seed : seeds_) send_to(beacon, seed);
    for (const auto& [id, peer] : peers_) {
        if (peer.unicast) send_to(beacon, peer.source);
    }
}

// A peer that keeps beaconing while the transport has no live link to it
// (its link timed out during a partition shorter than the beacon expiry, or
// a dial failed) is reported found again, so the bus dials it again instead
// of never hearing of it until it goes silent.
void BeaconDiscovery::redial_unlinked(Clock::time_point now) {
    std::vector<NodeId> due;
    for (auto& [id, peer] : peers_) {
        if (now >= peer.next_redial_check && now - peer.last_seen < options_.expiry) due.push_back(id);
    }
    for (const auto& id : due) {
        bool alive = true;
        notify([&](DiscoveryEvents& e) { alive = e.peer_alive(id); });
        auto it = peers_.find(id);
        if (it == peers_.end()) continue;
        if (alive) {
            it->second.redials = 0;
            it->second.next_redial_check = now + options_.expiry;
            continue;
        }
        // A node that beacons a port nobody answers on is retried ever more
        // rarely: 1, 2, 4, 8, then every 16 expiries.
        it->second.next_redial_check = now + options_.expiry * (1U << std::min(it->second.redials, 4U));
        ++it->second.redials;
        counters_.add(Counter::redial);
        const DiscoveredPeer info = it->second.info;
        notify([&](DiscoveryEvents& e) { e.on_peer_found(info); });
    }
}

void BeaconDiscovery::expire(Clock::time_point now) {
    if (now < next_check_) return;
    redial_unlinked(now);
    std::vector<NodeId> silent;
    for (const auto& [id, peer] : peers_) {
        if (now - peer.last_seen >= options_.expiry && now >= peer.next_alive_check) silent.push_back(id);
    }
    for (const auto& id : silent) {
        bool alive = false;
        notify([&](DiscoveryEvents& e) { alive = e.peer_alive(id); });
        auto it = peers_.find(id);
        if (it == peers_.end()) continue;
        if (alive) {
            // Its TCP link still shows signs of life: ask again an interval later.
            counters_.add(Counter::kept_alive);
            it->second.next_alive_check = now + options_.interval;
            continue;
        }
        peers_.erase(it);
        publish_table(nullptr, &id);
        counters_.add(Counter::lost_timed_out);
        notify([&](DiscoveryEvents& e) { e.on_peer_lost(id, LeaveReason::timed_out); });
    }
    next_check_ = earliest_check();
}

}  // namespace grav::beacon

namespace grav {

std::unique_ptr<Discovery> beacon_discovery(BeaconOptions options) {
    return std::make_unique<beacon::BeaconDiscovery>(std::move(options));
}

}  // namespace grav
