// Node: stop without losing the tail silently (docs/PROTOCOL.md, "Leaving").
//
// ZeroMQ cannot tell what a peer has read: a message handed to the XPUB may
// still sit in its pipe, in TCP buffers or in the peer's SUB when the node
// closes. So the stopping node says in its BYE how far each of its streams
// went (the READY announcement's layout), and each joined peer answers, when
// it closes the link, with GOT: how far it took them. Until every GOT came
// (or stop_flush_timeout and a grace passed) the node keeps serving its
// ROUTER and XPUB and flushing its fan-out. The difference is counted per
// peer, logged and reported; the peer, for its part, reports what it never
// got as lost. A slow subscriber thus holds stop() up to the timeout, never
// longer.
#include "node.hpp"

#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

// ---------------------------------------------------------------- receiving side

void Node::on_bye_tails(PeerLink& link, std::span<const std::byte> body) {
    auto tails = wire::decode_announcement(body);
    if (!tails) {
        malformed("BYE from " + link.id.short_str() + ": " + tails.error().reason());
        return;
    }
    link.tails_announced = true;
    auto wanted = [&](std::string_view type) {
        return std::any_of(prefixes_.begin(), prefixes_.end(),
                           [&](const std::string& p) { return type.starts_with(p); });
    };
    auto await = [&](StreamIn& stream, std::uint64_t last) {
        stream.started = true;  // a stream not seen yet began after we joined: from 1
        stream.announced_to = std::max(stream.announced_to, last);
    };
    if (tails->direct_last > 0 && (link.direct_in.started || !link.prefixes_grew)) {
        await(link.direct_in, tails->direct_last);
    }
    for (const auto& tail : tails->fanout) {
        if (tail.last == 0 || !wanted(tail.type) || !wire::check_type(tail.type)) continue;
        StreamIn* stream = stream_in(link, wire::StreamKind::fanout, tail.type, false);
        // Not seen yet, and we may have wanted it only lately: its start is unknown.
        if (!stream && link.prefixes_grew) continue;
        if (!stream) stream = stream_in(link, wire::StreamKind::fanout, tail.type, true);
        await(*stream, tail.last);
    }
}

bool Node::tail_pending(const PeerLink& link) {
    if (link.direct_in.tail_pending()) return true;
    return std::any_of(link.fanout_in.begin(), link.fanout_in.end(),
                       [](const auto& entry) { return entry.second.tail_pending(); });
}

void Node::send_got(PeerLink& link) {
    if (!link.dealer || !link.admitted) return;
    wire::Announcement got;
    got.direct_last = link.direct_in.last;
    for (const auto& [type, stream] : link.fanout_in) {
        if (stream.announced_to == 0 || got.fanout.size() == wire::max_announced) continue;
        got.fanout.push_back({type, stream.last});
    }
    send_control(*link.dealer, wire::Control::got, wire::encode_announcement(got));
}

// ---------------------------------------------------------------- stopping side

void Node::on_got(PeerLink& link, std::span<const std::byte> body) {
    auto got = wire::decode_announcement(body);
    if (!got) {
        malformed("GOT from " + link.id.short_str() + ": " + got.error().reason());
        return;
    }
    auto flush = stop_flush_.find(link.id);
    if (flush == stop_flush_.end()) return;  // not stopping, or not told: nothing to settle
    flush->second.got = std::move(*got);
}

wire::Announcement Node::tails_at_stop(const PeerLink& link) const {
    // What was handed to the XPUB, and what still waits to be: every batch
    // taken before the BYE is numbered already.
    auto last = fanout_seq_out_;
    for (const auto& batch : batches_) {
        if (!batch.rejected.empty() || batch.count == 0) continue;
        auto& seq = last[batch.type];
        seq = std::max(seq, batch.first_seq + batch.count - 1);
    }
    wire::Announcement tails;
    tails.direct_last = link.direct_seq_out;
    for (auto& [type, seq] : last) {
        if (tails.fanout.size() == wire::max_announced) break;
        tails.fanout.push_back({type, seq});
    }
    return tails;
}

void Node::serve_while_stopping(milliseconds timeout) {
    std::array<::zmq::pollitem_t, 3> items{{
        {nullptr, inbox_.wake_fd(), ZMQ_POLLIN, 0},
        {router_->handle(), 0, ZMQ_POLLIN, 0},
        {xpub_->handle(), 0, ZMQ_POLLIN, 0},
    }};
    try {
        ::zmq::poll(items.data(), items.size(), timeout);
        if (items[1].revents & ZMQ_POLLIN) on_router();
        if (items[2].revents & ZMQ_POLLIN) on_xpub();
    } catch (const std::exception& e) {
        log(std::string("error while stopping: ") + e.what());
    }
    for (auto& [id, link] : peers_) {
        if (!link->outbox.empty()) flush_outbox(*link);
        if (!link->resend_out.empty()) flush_resends(*link);
    }
}

void Node::report_unsent() {
    for (const auto& [id, flush] : stop_flush_) {
        const std::string who = id.short_str() + (flush.name.empty() ? "" : " (" + flush.name + ")");
        if (!flush.got) {
            bump(counters_.unconfirmed_at_stop);
            log("peer " + who + " did not confirm within " +
                std::to_string(options_.stop_flush_timeout.count()) +
                " ms what it took of this node's messages: some may not have made it");
            events_.on_messages_unsent(id, std::nullopt);
            continue;
        }
        std::uint64_t unsent = 0;
        if (flush.sent.direct_last > flush.got->direct_last) {
            unsent += flush.sent.direct_last - flush.got->direct_last;
        }
        for (const auto& took : flush.got->fanout) {
            auto sent = std::find_if(flush.sent.fanout.begin(), flush.sent.fanout.end(),
                                     [&](const wire::StreamTail& t) { return t.type == took.type; });
            if (sent != flush.sent.fanout.end() && sent->last > took.last) unsent += sent->last - took.last;
        }
        if (unsent == 0) continue;
        bump(counters_.unsent_at_stop, unsent);
        log(std::to_string(unsent) + " message(s) to peer " + who + " did not make it before stop (" +
            std::to_string(options_.stop_flush_timeout.count()) + " ms stop_flush_timeout)");
        events_.on_messages_unsent(id, unsent);
    }
}

// A pause that a new command cuts short.
void Node::wait_for_wake(milliseconds timeout) {
    ::zmq::pollitem_t wake{nullptr, inbox_.wake_fd(), ZMQ_POLLIN, 0};
    ::zmq::poll(&wake, 1, timeout);
}

void Node::shutdown() {
    const auto start = SteadyClock::now();
    const auto flush_deadline = start + options_.stop_flush_timeout;
    const auto got_deadline = flush_deadline + (options_.stop_flush_timeout.count() > 0 ? got_grace : 0ms);
    // What was published before stop() still goes out, then the goodbyes.
    take_work(true);
    stopping_ = true;
    // BYE first on the direct links, with our tails: it overtakes a fan-out
    // held up by a slow subscriber, which then knows what to wait for.
    for (auto& [id, link] : peers_) {
        flush_outbox(*link);
        if (!link->dealer || !link->admitted) continue;
        if (!link->joined) {
            send_control(*link->dealer, wire::Control::bye);
            continue;
        }
        StopFlush flush{.name = link->info.name, .sent = tails_at_stop(*link), .got = {}, .gone_at = {}};
        send_control(*link->dealer, wire::Control::bye, wire::encode_announcement(flush.sent));
        // Nothing sent to it: nothing it could confirm, no reason to wait.
        const bool sent_any =
            flush.sent.direct_last > 0 || std::any_of(flush.sent.fanout.begin(), flush.sent.fanout.end(),
                                                      [](const wire::StreamTail& t) { return t.last > 0; });
        if (sent_any) stop_flush_.emplace(id, std::move(flush));
    }
    const auto bye_topic = wire::topic_of(wire::Control::bye);
    const auto header = wire::encode_header(wire::control_header(self_.id));
    std::array<::zmq::message_t, 3> bye{::zmq::message_t(bye_topic.data(), bye_topic.size()),
                                        ::zmq::message_t(header.data(), header.size()), ::zmq::message_t()};
    bool bye_published = false;
    const auto awaited = [&](SteadyTime now) {
        return std::any_of(stop_flush_.begin(), stop_flush_.end(), [&](const auto& entry) {
            const StopFlush& f = entry.second;
            return !f.got && (!f.gone_at || now - *f.gone_at < got_grace);
        });
    };
    for (;;) {
        const auto now = SteadyClock::now();
        if (now < flush_deadline) flush_fanout();
        if (!bye_published && fanout_backlog_.empty() && batches_.empty())
            bye_published = send_all(*xpub_, bye);
        if (now >= got_deadline || (bye_published && !awaited(now))) break;
        if (now >= flush_deadline && !awaited(now)) break;
        const bool held_back = !bye_published && now < flush_deadline;
        serve_while_stopping(held_back ? 1ms : timer_period);
    }
    if (!fanout_backlog_.empty() || !batches_.empty()) {
        log("published messages in " + std::to_string(fanout_backlog_.size() + batches_.size()) +
            " batch(es) could not leave within the stop_flush_timeout");
    }
    report_unsent();
    std::vector<NodeId> ids;
    for (auto& [id, link] : peers_) {
        flush_outbox(*link);
        ids.push_back(id);
    }
    for (const auto& id : ids) remove_peer(id, LeaveReason::local_stop, "this node stopped");
    probes_.clear();
    // Refuse what arrived meanwhile.
    for (auto& command : commands_) {
        if (auto* send = std::get_if<command::SendTo>(&command); send && send->done) {
            send->done(Error(Errc::closed, "the transport stopped"));
        }
    }
    commands_.clear();
    for (const auto& batch : batches_) bump(counters_.dropped_after_stop, batch.count);
    batches_.clear();
    fanout_backlog_.clear();
    stop_server_monitors();
    router_.reset();
    xpub_.reset();
    zap_.reset();  // after the servers: none may ask it any more
}

}  // namespace grav::zmq
