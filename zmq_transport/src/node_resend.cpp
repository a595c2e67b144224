// Node: no loss across a broken link (docs/PROTOCOL.md, "Resending after a
// broken link") — the window of what this node sent, gap repair by RESEND and
// RESENT, holding back what arrives behind a gap, and the stream state kept
// for a peer whose link broke until it comes back.
#include "node.hpp"

#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>
#include <utility>

namespace grav::zmq {

namespace {

std::string describe(wire::StreamKind kind, std::string_view type) {
    if (kind == wire::StreamKind::direct) return "its direct messages";
    return "fan-out '" + std::string(type) + "'";
}

}  // namespace

const std::string& Node::window_key(wire::StreamKind kind, std::string_view type_or_peer) {
    // One window for the whole node: fan-out streams by type, direct streams by peer.
    window_key_.assign(1, kind == wire::StreamKind::direct ? 'd' : 'f');
    window_key_.append(type_or_peer);
    return window_key_;
}

StreamIn* Node::stream_in(PeerLink& link, wire::StreamKind kind, std::string_view type, bool create) {
    if (kind == wire::StreamKind::direct) return &link.direct_in;
    auto it = link.fanout_in.find(type);
    if (it != link.fanout_in.end()) return &it->second;
    if (!create) return nullptr;
    StreamIn fresh;
    if (link.resume_from_zero) fresh.started = true;  // published while the link was down: from 1
    return &link.fanout_in.emplace(std::string(type), std::move(fresh)).first->second;
}

void Node::deliver(const NodeId& from, wire::StreamKind kind, MessagePtr message) {
    bump(counters_.messages_received);
    if (PeerLink* link = find(from)) bump(link->traffic->messages_received);
    if (kind == wire::StreamKind::direct) bump(counters_.direct_received);
    // Published messages are read only while there is room (on_sub asks
    // first), so they never wait here: a transport thread blocked here could
    // not keep its SUBs alive. Direct ones still wait for room.
    if (kind == wire::StreamKind::fanout) {
        events_.on_message_unblocked(from, std::move(message));
    } else {
        events_.on_message(from, std::move(message));
    }
}

void Node::accept(PeerLink& link, wire::StreamKind kind, std::string_view type, StreamIn& stream,
                  std::uint64_t seq, MessagePtr message, bool resent) {
    if (!stream.started) {
        // The first we see may be mid-stream (we subscribed late): a baseline.
        stream.started = true;
        stream.last = seq;
        deliver(link.id, kind, std::move(message));
        return;
    }
    if (seq <= stream.last || stream.held.contains(seq)) {
        // A range asked for again may overlap what arrived meanwhile on the
        // link itself (in either order): such copies are expected.
        if (!resent && seq > stream.known_to) bump(counters_.duplicates);
        return;
    }
    if (resent) bump(counters_.recovered);
    if (seq == stream.last + 1) {
        stream.last = seq;
        deliver(link.id, kind, std::move(message));
        release(link.id, kind, stream);
        return;
    }
    // Behind a gap: hold it, ask for what is missing (not what is held or
    // asked already), deliver in order later.
    const std::uint64_t top = std::max(
        {stream.last, stream.asked_to, stream.held.empty() ? std::uint64_t{0} : stream.held.rbegin()->first});
    stream.held.emplace(seq, std::move(message));
    if (seq - 1 > top) request_resend(link, kind, type, stream, top + 1, seq - 1);
    if (!stream.gap_deadline) {
        stream.gap_deadline = SteadyClock::now() + options_.resend_timeout;
        arm_timers(*stream.gap_deadline);
    }
    if (stream.held.size() > std::max<std::size_t>(options_.resend_window_messages, 1)) {
        give_up(link.id, &link, kind, type, stream);  // holding more than the window cannot be worth it
    }
}

void Node::release(const NodeId& from, wire::StreamKind kind, StreamIn& stream) {
    while (!stream.held.empty() && stream.held.begin()->first == stream.last + 1) {
        auto node = stream.held.extract(stream.held.begin());
        stream.last = node.key();
        deliver(from, kind, std::move(node.mapped()));
    }
    if (!stream.gap_pending()) stream.gap_deadline.reset();
}

void Node::give_up(const NodeId& from, PeerLink* link, wire::StreamKind kind, std::string_view type,
                   StreamIn& stream) {
    // Everything up to the first held message (or up to what was asked for)
    // is not coming: report it, never hide it, and deliver what came after.
    const std::uint64_t until = stream.held.empty() ? stream.known_to : stream.held.begin()->first - 1;
    if (until > stream.last) {
        const std::uint64_t lost = until - stream.last;
        bump(counters_.gaps);
        bump(counters_.missing, lost);
        bump(counters_.lost, lost);
        if (PeerLink* known = link ? link : find(from)) bump(known->traffic->lost, lost);
        log(std::to_string(lost) + " message(s) of " + describe(kind, type) + " from " + from.short_str() +
            " are lost (not re-sent in time, or beyond the sender's window)");
        stream.last = until;
        events_.on_messages_lost(from, describe(kind, type), lost);
    }
    stream.gap_deadline.reset();
    release(from, kind, stream);
    if (!stream.held.empty()) {
        // A further gap among the held ones: its own turn, its own deadline.
        stream.gap_deadline = SteadyClock::now() + options_.resend_timeout;
        arm_timers(*stream.gap_deadline);
        const std::uint64_t next = stream.held.begin()->first;
        if (link && next - 1 > std::max(stream.last, stream.asked_to)) {
            request_resend(*link, kind, type, stream, std::max(stream.last, stream.asked_to) + 1, next - 1);
        }
    }
}

void Node::request_resend(PeerLink& link, wire::StreamKind kind, std::string_view type, StreamIn& stream,
                          std::uint64_t from, std::uint64_t to) {
    stream.known_to = std::max(stream.known_to, to);
    stream.asked_to = std::max(stream.asked_to, to);
    if (!stream.gap_deadline) {
        stream.gap_deadline = SteadyClock::now() + options_.resend_timeout;
        arm_timers(*stream.gap_deadline);
    }
    if (!link.dealer || !link.admitted) return;
    bump(counters_.resend_requests);
    send_control(*link.dealer, wire::Control::resend,
                 wire::encode_resend({.kind = kind, .type = std::string(type), .from = from, .to = to}));
}

void Node::request_holes(PeerLink& link, wire::StreamKind kind, std::string_view type, StreamIn& stream,
                         std::uint64_t to) {
    for (const auto& [from, through] : stream.holes(to))
        request_resend(link, kind, type, stream, from, through);
}

void Node::on_resend_request(PeerLink& link, std::span<const std::byte> body) {
    auto request = wire::decode_resend(body);
    if (!request) {
        malformed("from " + link.id.short_str() + ": " + request.error().reason());
        return;
    }
    if (!link.dealer) {
        // Not silent: the asker reports the range lost after its resend
        // timeout; this line says why it was never answered.
        log("resend request from " + link.id.short_str() + " for " + std::to_string(request->from) + ".." +
            std::to_string(request->to) + " not answered: no link back to it");
        return;
    }
    const auto& key = window_key(request->kind, request->kind == wire::StreamKind::direct
                                                    ? std::string_view(wire::routing_id(link.id))
                                                    : std::string_view(request->type));
    // What is no longer in the window is not sent: the asker gives it up
    // after its resend timeout.
    window_.for_each(key, request->from, request->to, [&](const SentMessage& sent) {
        const auto topic = wire::topic_of(wire::Control::resent);
        const auto resent = wire::encode_resent(request->kind, sent.type, sent.payload);
        link.resend_out.push_back({::zmq::message_t(topic.data(), topic.size()),
                                   ::zmq::message_t(sent.header.data(), sent.header.size()),
                                   ::zmq::message_t(resent.data(), resent.size())});
        bump(counters_.resent);
        bump(link.traffic->resent);
    });
    flush_resends(link);
}

void Node::flush_resends(PeerLink& link) {
    while (!link.resend_out.empty() && link.dealer) {
        if (!send_all(*link.dealer, link.resend_out.front())) {
            arm_timers(SteadyClock::now() + tuning::timer_period);  // retried by the timers
            return;
        }
        link.resend_out.pop_front();
    }
}

void Node::on_resent(PeerLink& link, std::span<const std::byte> header_bytes,
                     std::span<const std::byte> body) {
    auto header = wire::decode_header(header_bytes);
    if (!header) {
        malformed("RESENT from " + link.id.short_str() + ": " + header.error().reason());
        return;
    }
    auto resent = wire::decode_resent(body);
    if (!resent) {
        malformed("from " + link.id.short_str() + ": " + resent.error().reason());
        return;
    }
    if (header->seq == 0) {
        malformed("RESENT from " + link.id.short_str() + " with sequence number 0");
        return;
    }
    // A type we no longer follow is not ours to deliver.
    StreamIn* stream = stream_in(link, resent->kind, resent->type, false);
    if (!stream) return;
    accept(link, resent->kind, resent->type, *stream, header->seq,
           wire::message_of(resent->type, *header, resent->payload), true);
}

std::string Node::announcement_for(const PeerLink& link) const {
    wire::Announcement announcement;
    announcement.direct_last = link.direct_seq_out;
    announcement.fanout.reserve(fanout_seq_out_.size());
    for (const auto& [type, seq] : fanout_seq_out_) {
        if (announcement.fanout.size() == wire::max_announced) break;
        announcement.fanout.push_back({type, seq});
    }
    return wire::encode_announcement(announcement);
}

void Node::on_announcement(PeerLink& link, std::span<const std::byte> body) {
    auto announcement = wire::decode_announcement(body);
    if (!announcement) {
        malformed("from " + link.id.short_str() + ": " + announcement.error().reason());
        return;
    }
    auto wanted = [&](std::string_view type) {
        return std::any_of(prefixes_.begin(), prefixes_.end(),
                           [&](const std::string& p) { return type.starts_with(p); });
    };
    // Resuming: the tails show what was sent while the link was down. First
    // join: they are the baselines (what came before is history, not a gap).
    auto apply = [&](wire::StreamKind kind, std::string_view type, StreamIn& stream, std::uint64_t last) {
        if (!stream.started) {
            stream.started = true;
            stream.last = link.resume_from_zero ? 0 : last;
        }
        if (link.resume_from_zero) {
            // Resumed after a broken link: what was asked on that link may
            // never have been answered, and what arrived since may have
            // raised asked_to past it. Ask for every hole again.
            request_holes(link, kind, type, stream, last);
            return;
        }
        const std::uint64_t asked = std::max(stream.last, stream.asked_to);
        if (last > asked) request_resend(link, kind, type, stream, asked + 1, last);
    };
    if (announcement->direct_last > 0) {
        apply(wire::StreamKind::direct, {}, link.direct_in, announcement->direct_last);
    }
    for (const auto& tail : announcement->fanout) {
        if (tail.last == 0 || !wanted(tail.type) || !wire::check_type(tail.type)) continue;
        apply(wire::StreamKind::fanout, tail.type,
              *stream_in(link, wire::StreamKind::fanout, tail.type, true), tail.last);
    }
    link.resume_from_zero = false;
}

void Node::check_gaps(SteadyTime now) {
    for (auto& [id, link] : peers_) {
        if (!link->resend_out.empty()) flush_resends(*link);
        if (link->direct_in.gap_deadline && now >= *link->direct_in.gap_deadline) {
            give_up(id, link.get(), wire::StreamKind::direct, {}, link->direct_in);
        }
        for (auto& [type, stream] : link->fanout_in) {
            if (stream.gap_deadline && now >= *stream.gap_deadline) {
                give_up(id, link.get(), wire::StreamKind::fanout, type, stream);
            }
        }
    }
    for (auto it = retained_.begin(); it != retained_.end();) {
        if (now < it->second.until) {
            ++it;
            continue;
        }
        // It did not come back in time: it starts afresh if it ever does.
        const NodeId id = it->first;
        RetainedPeer gone = std::move(it->second);
        it = retained_.erase(it);
        window_.forget(window_key(wire::StreamKind::direct, wire::routing_id(id)));
        settle(id, gone.direct_in, gone.fanout_in);
    }
}

void Node::settle(const NodeId& from, StreamIn& direct_in,
                  std::unordered_map<std::string, StreamIn, StringHash, std::equal_to<>>& fanout_in) {
    // Gaps still open are lost now; what was held behind them is delivered.
    // So is what a departing sender announced and we never got.
    direct_in.known_to = std::max(direct_in.known_to, direct_in.announced_to);
    for (auto& [type, stream] : fanout_in) stream.known_to = std::max(stream.known_to, stream.announced_to);
    while (direct_in.gap_pending()) give_up(from, nullptr, wire::StreamKind::direct, {}, direct_in);
    for (auto& [type, stream] : fanout_in) {
        while (stream.gap_pending()) give_up(from, nullptr, wire::StreamKind::fanout, type, stream);
    }
}

void Node::retain(PeerLink& link, LeaveReason reason) {
    // Only a link that broke may come back; a peer that said goodbye, was
    // refused or replaced, or this node stopping, ends its streams.
    const bool may_return = (link.joined || link.resumed) && reason == LeaveReason::timed_out &&
                            !link.incarnation.is_nil() && options_.peer_state_retention.count() > 0;
    if (!may_return) {
        window_.forget(window_key(wire::StreamKind::direct, wire::routing_id(link.id)));
        settle(link.id, link.direct_in, link.fanout_in);
        return;
    }
    retained_[link.id] = RetainedPeer{
        .incarnation = link.incarnation,
        .direct_in = std::move(link.direct_in),
        .fanout_in = std::move(link.fanout_in),
        .direct_seq_out = link.direct_seq_out,
        .until = SteadyClock::now() + options_.peer_state_retention,
    };
    arm_timers(retained_[link.id].until);
}

void Node::restore(PeerLink& link) {
    auto it = retained_.find(link.id);
    if (it == retained_.end()) return;
    RetainedPeer kept = std::move(it->second);
    retained_.erase(it);
    if (!link.incarnation.is_nil() && kept.incarnation == link.incarnation) {
        link.direct_in = std::move(kept.direct_in);
        link.fanout_in = std::move(kept.fanout_in);
        link.direct_seq_out = kept.direct_seq_out;
        link.resume_from_zero = true;
        link.resumed = true;
        // What was asked on the broken link may never have been answered:
        // ask again on this one (its READY announcement does), with a fresh
        // deadline.
        auto fresh = [&](StreamIn& stream) {
            stream.asked_to = stream.last;
            stream.gap_deadline.reset();
            if (stream.gap_pending()) {
                stream.gap_deadline = SteadyClock::now() + options_.resend_timeout;
                arm_timers(*stream.gap_deadline);
            }
        };
        fresh(link.direct_in);
        for (auto& [type, stream] : link.fanout_in) fresh(stream);
        log("peer " + link.id.short_str() + " is back: resuming its streams");
        return;
    }
    // Same node id, new incarnation: it restarted and numbers from 1 again.
    window_.forget(window_key(wire::StreamKind::direct, wire::routing_id(link.id)));
    settle(link.id, kept.direct_in, kept.fanout_in);
}

}  // namespace grav::zmq
