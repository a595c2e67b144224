// Node, timers: each loop turn's deadlines (goodbyes, lost connections,
// handshakes, sequence gaps, pings, probes of manual endpoints), the gauges
// the stats read, and when the next turn must wake at the latest.
#include "node.hpp"

#include "node_tuning.hpp"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace grav::zmq {

using namespace tuning;

void Node::run_timers(SteadyTime now) {
    std::vector<std::pair<NodeId, std::pair<LeaveReason, std::string>>> gone;
    for (auto& [id, link] : peers_) {
        if (!link->outbox.empty()) flush_outbox(*link);
        if (link->leave_deadline && now >= *link->leave_deadline) {
            if (link->bye_direct || link->bye_fanout) {
                gone.push_back({id, {LeaveReason::withdrew, "said goodbye"}});
            } else {
                gone.push_back({id, {LeaveReason::timed_out, "dropped by discovery"}});
            }
        } else if (link->down_since && now - *link->down_since >= down_grace) {
            if (link->joined && link->bye_direct) {
                gone.push_back({id, {LeaveReason::withdrew, "said goodbye"}});  // it closed after its BYE
            } else if (link->joined) {
                gone.push_back({id, {LeaveReason::timed_out, "connection lost"}});
            } else if (!link->bye_direct) {
                link->down_since.reset();  // still handshaking: the deadline decides
            }
        } else if (!link->joined && now >= link->handshake_deadline) {
            bump(counters_.handshake_timeouts);
            const std::string reason = "handshake did not complete within " +
                                       std::to_string(options_.handshake_timeout.count()) + " ms";
            log((link->dial_endpoint.empty() ? id.short_str() : link->dial_endpoint) + ": " + reason);
            if (link->dialled_by_us) events_.on_peer_refused(link->dial_endpoint, reason);
            gone.push_back({id, {LeaveReason::timed_out, reason}});
        }
    }
    for (auto& [id, why] : gone) remove_peer(id, why.first, why.second);
    check_gaps(now);
    send_pings(now);

    for (std::size_t i = 0; i < probes_.size();) {
        if (now < probes_[i].deadline) {
            ++i;
            continue;
        }
        const std::string endpoint = probes_[i].endpoint;
        probes_.erase(probes_.begin() + static_cast<std::ptrdiff_t>(i));
        poll_dirty_ = true;
        log("no answer from " + endpoint + " within " + std::to_string(options_.handshake_timeout.count()) +
            " ms; retrying");
        for (auto& m : manual_) {
            if (m.endpoint == endpoint) {
                m.probing = false;
                m.next_attempt = now;
            }
        }
    }
    for (auto& m : manual_) {
        if (!m.peer && !m.probing && !m.given_up && now >= m.next_attempt) {
            m.probing = true;
            start_probe(m.endpoint);
        }
    }
}

void Node::update_gauges() noexcept {
    // A handful of relaxed stores per turn: the stats are never stale.
    const auto set = [](std::atomic<std::uint64_t>& gauge, std::size_t value) {
        gauge.store(value, std::memory_order_relaxed);
    };
    set(counters_.peer_links, peers_.size());
    set(counters_.retained_peers, retained_.size());
    set(counters_.window_streams, window_.streams());
    set(counters_.window_messages, window_.messages());
    set(counters_.window_bytes, window_.bytes());
    alone_.store(peers_.empty() && retained_.empty(), std::memory_order_release);
}

SteadyTime Node::next_deadline(SteadyTime now) const {
    SteadyTime next = now + timer_idle_period;
    const auto due = [&next](SteadyTime at) { next = std::min(next, at); };
    for (const auto& [id, link] : peers_) {
        if (!link->outbox.empty() || !link->resend_out.empty()) due(now + timer_period);
        if (link->leave_deadline) due(*link->leave_deadline);
        if (link->down_since) due(*link->down_since + down_grace);
        if (!link->joined) due(link->handshake_deadline);
        if (link->direct_in.gap_deadline) due(*link->direct_in.gap_deadline);
        for (const auto& [type, stream] : link->fanout_in) {
            if (stream.gap_deadline) due(*stream.gap_deadline);
        }
    }
    if (options_.ping_interval.count() > 0 && !peers_.empty()) due(next_ping_);
    for (const auto& [id, retained] : retained_) due(retained.until);
    for (const auto& probe : probes_) due(probe.deadline);
    for (const auto& m : manual_) {
        if (!m.peer && !m.probing && !m.given_up) due(m.next_attempt);
    }
    return next;
}

}  // namespace grav::zmq
