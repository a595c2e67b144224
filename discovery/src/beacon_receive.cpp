// BeaconDiscovery, receiving: datagrams read in bursts from both sockets,
// checked (interface, destination, codec, signature, freshness), and what
// a beacon says applied to the table of peers heard.

#include "beacon_discovery.hpp"

#include "beacon_seal.hpp"
#include "seeds.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace grav::beacon {
namespace {

// Datagrams read per socket per wake-up, so that a flood on one socket
// cannot starve the beacon timer or the other socket.
constexpr int kReadBurst = 64;

}  // namespace

void BeaconDiscovery::drain(UdpSocket& socket, bool unicast_socket) {
    std::array<std::uint8_t, kMaxSize + 1> buffer{};
    for (int i = 0; i < kReadBurst && !stopping_.load(); ++i) {
        const auto d = socket.receive(buffer);
        if (!d) return;
        handle(*d, std::span<const std::uint8_t>(buffer.data(), std::min(d->size, buffer.size())),
               unicast_socket);
    }
}

bool BeaconDiscovery::accepted_interface(const Datagram& d) const {
    if (selector_.is_default()) return true;
    if (std::any_of(interfaces_.begin(), interfaces_.end(),
                    [&](const Interface& i) { return i.index == d.interface; })) {
        return true;
    }
    // Seeds may be reached through any interface.
    return std::any_of(seeds_.begin(), seeds_.end(),
                       [&](const sockaddr_in& s) { return s.sin_addr.s_addr == d.source.sin_addr.s_addr; });
}

bool BeaconDiscovery::is_unicast_destination(in_addr destination) const {
    if (IN_MULTICAST(ntohl(destination.s_addr)) || destination.s_addr == htonl(INADDR_BROADCAST))
        return false;
    return std::none_of(interfaces_.begin(), interfaces_.end(), [&](const Interface& i) {
        return i.broadcast.s_addr == destination.s_addr ||
               (i.address.s_addr | ~i.netmask.s_addr) == destination.s_addr;
    });
}

void BeaconDiscovery::handle(const Datagram& d, std::span<const std::uint8_t> bytes, bool unicast_socket) {
    if (d.truncated || d.size > kMaxSize) {
        counters_.add(Counter::oversized);
        return;
    }
    if (!accepted_interface(d)) {
        counters_.add(Counter::other_interface);
        return;
    }
    auto decoded = decode(bytes);
    if (const auto* defect = std::get_if<Defect>(&decoded)) {
        switch (*defect) {
            case Defect::foreign: counters_.add(Counter::foreign); break;
            case Defect::unknown_version: counters_.add(Counter::unknown_version); break;
            case Defect::oversized: counters_.add(Counter::oversized); break;
            case Defect::malformed: counters_.add(Counter::malformed); break;
        }
        return;
    }
    counters_.add(Counter::received);
    const auto& beacon = std::get<Beacon>(decoded);
    if (beacon.node == self_.id) {
        counters_.add(Counter::own);
        return;
    }
    if (!groups_match(self_.belongs_to, beacon.group)) {
        counters_.add(Counter::foreign_group);
        return;
    }
    if (!authentic(beacon, bytes, d.source)) return;
    on_beacon(beacon, d, unicast_socket || is_unicast_destination(d.destination));
}

bool BeaconDiscovery::authentic(const Beacon& beacon, std::span<const std::uint8_t> datagram,
                                const sockaddr_in& source) {
    if (!authenticator_) {
        if (!beacon.seal) return true;
        counters_.add(Counter::signed_ignored);
        refusals_->signed_ignored(beacon, source);
        return false;
    }
    using Verdict = Authenticator::Verdict;
    const std::uint64_t now_ms = wall_clock_ms();
    const Verdict verdict = authenticator_->check(beacon, datagram, now_ms);
    refusals_->refused(verdict, beacon, source, now_ms);
    switch (verdict) {
        case Verdict::authentic: return true;
        case Verdict::unsigned_beacon: counters_.add(Counter::unsigned_beacon); break;
        case Verdict::not_admitted: counters_.add(Counter::not_admitted); break;
        case Verdict::bad_signature: counters_.add(Counter::bad_signature); break;
        case Verdict::replayed: counters_.add(Counter::replayed); break;
        case Verdict::duplicate: counters_.add(Counter::duplicate); break;
        case Verdict::stale: counters_.add(Counter::stale); break;
        case Verdict::full: counters_.add(Counter::peer_limit); break;
    }
    return false;
}

void BeaconDiscovery::on_beacon(const Beacon& beacon, const Datagram& d, bool unicast) {
    const auto now = Clock::now();
    const auto known = peers_.find(beacon.node);
    if (beacon.has(leaving)) {
        if (known == peers_.end()) return;
        peers_.erase(known);
        publish_table(nullptr, &beacon.node);
        counters_.add(Counter::lost_withdrew);
        notify([&](DiscoveryEvents& e) { e.on_peer_lost(beacon.node, LeaveReason::withdrew); });
        return;
    }
    // Beacons that answer ours need no answer, and do not make the sender a
    // unicast peer: it answered by unicast only because we asked.
    const bool wants_answer = !beacon.has(reply);
    const bool beacons_by_unicast = unicast && !beacon.has(reply);
    if (known != peers_.end()) {
        known->second.last_seen = now;
        known->second.next_alive_check = now;
        if (beacons_by_unicast) {
            known->second.unicast = true;
            known->second.source = d.source;
        }
        if (wants_answer && beacon.has(hello)) answer(d.source);
        return;
    }
    if (peers_.size() >= options_.max_peers) {
        counters_.add(Counter::peer_limit);
        return;
    }
    KnownPeer peer;
    peer.info.id = beacon.node;
    peer.info.belongs_to = beacon.group;
    peer.info.contact.host = to_string(d.source.sin_addr);
    peer.info.contact.direct_port = beacon.direct_port;
    peer.info.contact.fanout_port = beacon.fanout_port;
    if (beacon.seal) peer.info.contact.public_key = key_of(*beacon.seal).text();
    peer.source = d.source;
    peer.unicast = beacons_by_unicast;
    peer.last_seen = now;
    peer.next_alive_check = now;
    peer.next_redial_check = now + options_.expiry;  // time enough to dial and handshake
    // A new id where a known node was (same address and port): that node
    // restarted, and its old incarnation will never beacon again. Unless the
    // new one was itself replaced a moment ago: then two live nodes share an
    // address (NAT, a misconfiguration), and replacing would flap forever.
    std::erase_if(replaced_, [&](const auto& r) { return now - r.second > options_.expiry; });
    std::vector<NodeId> replaced;
    if (replaced_.count(beacon.node) != 0) {
        counters_.add(Counter::address_conflict);
    } else {
        for (const auto& [id, other] : peers_) {
            if (other.info.contact.host == peer.info.contact.host &&
                other.info.contact.direct_port == peer.info.contact.direct_port) {
                replaced.push_back(id);
            }
        }
    }
    for (const auto& id : replaced) {
        peers_.erase(id);
        publish_table(nullptr, &id);
        // Bounded like the peer table: a flood of forged ids at one address
        // would otherwise grow it by every beacon within an expiry.
        if (replaced_.size() < options_.max_peers) replaced_[id] = now;
        counters_.add(Counter::replaced);
        notify([&](DiscoveryEvents& e) { e.on_peer_lost(id, LeaveReason::replaced); });
    }
    const DiscoveredPeer info = peer.info;
    next_check_ = std::min(next_check_, std::max(peer.last_seen + options_.expiry, peer.next_alive_check));
    next_check_ = std::min(next_check_, peer.next_redial_check);
    peers_.emplace(beacon.node, std::move(peer));
    publish_table(&beacon.node, nullptr);
    // Answer before reporting, so the newcomer hears us as early as possible.
    if (wants_answer) answer(d.source);
    counters_.add(Counter::found);
    notify([&](DiscoveryEvents& e) { e.on_peer_found(info); });
}

void BeaconDiscovery::answer(const sockaddr_in& to) {
    counters_.add(Counter::answered);
    send_to(make_beacon(reply), to);
}

}  // namespace grav::beacon
