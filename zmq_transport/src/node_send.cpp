// Node: what goes out — publishes, direct messages, control messages, subscriptions.
#include "node.hpp"

#include "batch.hpp"
#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <utility>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

void Node::send_control(::zmq::socket_t& socket, wire::Control command, std::string_view body,
                        std::string_view identity, const MessageId& header_id) {
    const auto topic = wire::topic_of(command);
    auto control = wire::control_header(self_.id);
    control.id = header_id;  // HELLO: this node's incarnation
    const auto header = wire::encode_header(control);
    std::array<::zmq::message_t, 4> frames;
    std::size_t n = 0;
    if (!identity.empty()) frames[n++] = ::zmq::message_t(identity.data(), identity.size());
    frames[n++] = ::zmq::message_t(topic.data(), topic.size());
    frames[n++] = ::zmq::message_t(header.data(), header.size());
    frames[n++] = ::zmq::message_t(body.data(), body.size());
    try {
        if (!send_all(socket, std::span(frames.data(), n))) {
            bump(counters_.backpressure);
            log("control message dropped: the link is at its high-water mark");
        }
    } catch (const ::zmq::error_t& e) {
        // ROUTER_MANDATORY: the dialler is gone already.
        log(std::string("control message not delivered: ") + e.what());
    }
}

namespace {

// One data frame (docs/PROTOCOL.md, "Data messages") holding `count`
// messages from `first` on, numbered from ++seq: written in place into the
// frame libzmq sends, so a batch costs one allocation whatever its size.
template <class It>
::zmq::message_t data_frame(It first, std::size_t count, std::size_t size, std::uint64_t& seq) {
    ::zmq::message_t frame(size);
    const std::span out(static_cast<std::byte*>(frame.data()), size);
    wire::write_batch_prefix(out, static_cast<std::uint32_t>(count));
    std::size_t at = wire::batch_prefix_size;
    for (std::size_t i = 0; i < count; ++i, ++first) {
        const Message& message = **first;
        at += wire::write_record(out.subspan(at), wire::header_of(message, ++seq), message.payload());
    }
    return frame;
}

}  // namespace

Status Node::check_data(const Message& message) {
    if (auto ok = wire::check_type(message.type()); !ok) return ok;
    if (message.payload_size() > wire::max_record_payload) {
        return Error(Errc::invalid_argument,
                     "payload of " + std::to_string(message.payload_size()) + " bytes is too large to send");
    }
    return success();
}

void Node::publish_batch() {
    if (auto ok = check_data(*publishes_.front()); !ok) {
        log("not published: " + ok.error().reason());
        bump(counters_.send_failed);
        publishes_.pop_front();
        return;
    }
    // Coalesce the run of queued publishes of the same type (only what is
    // already here: a lone message leaves at once), bounded in count and
    // bytes. Other types break the run, so the order between types holds.
    const std::string& type = publishes_.front()->type();
    std::size_t count = 0;
    std::size_t size = wire::batch_prefix_size;
    for (auto it = publishes_.begin(); it != publishes_.end() && count < wire::max_batch_records; ++it) {
        const Message& message = **it;
        if (message.type() != type || message.payload_size() > wire::max_record_payload) break;
        const std::size_t next = size + wire::record_size(message.payload_size());
        if (count > 0 && next > wire::max_batch_bytes) break;
        size = next;
        ++count;
    }
    auto seq_it = fanout_seq_out_.find(type);
    if (seq_it == fanout_seq_out_.end()) seq_it = fanout_seq_out_.emplace(type, 0).first;
    std::array<::zmq::message_t, 2> frames{::zmq::message_t(type.data(), type.size()),
                                           data_frame(publishes_.begin(), count, size, seq_it->second)};
    bump(counters_.messages_sent, count);
    bump(counters_.published, count);
    bump(counters_.bytes_sent, type.size() + size);
    bump(counters_.batches_sent);
    // Kept for RESEND (node_resend.cpp): each record with its own number.
    window_.record_run(window_key(wire::StreamKind::fanout, type), seq_it->second - count + 1,
                       publishes_.begin(), count);
    const auto sent = publishes_.begin() + static_cast<std::ptrdiff_t>(count);
    std::move(publishes_.begin(), sent, std::back_inserter(spent_));
    publishes_.erase(publishes_.begin(), sent);
    // In parts, so that no publish() call frees a whole queue's worth.
    if (spent_.size() >= give_back_batch) inbox_.give_back(spent_);
    if (!fanout_backlog_.empty() || !send_all(*xpub_, frames)) {
        if (fanout_backlog_.empty()) bump(counters_.backpressure);
        fanout_backlog_.push_back(std::move(frames));
    }
}

void Node::flush_fanout() {
    while (!fanout_backlog_.empty()) {
        if (!send_all(*xpub_, fanout_backlog_.front())) return;
        fanout_backlog_.pop_front();
    }
    while (!publishes_.empty() && fanout_backlog_.empty()) publish_batch();
}

void Node::send_direct(command::SendTo& request) {
    PeerLink* link = joined_link(request.peer);
    if (!link) {
        bump(counters_.send_failed);
        if (request.done) {
            request.done(Error(Errc::no_peer, "no connected peer " + request.peer.short_str()));
        }
        return;
    }
    if (auto ok = check_data(*request.message); !ok) {
        bump(counters_.send_failed);
        if (request.done) request.done(ok.error());
        return;
    }
    const auto& message = *request.message;
    const std::size_t size = wire::batch_prefix_size + wire::record_size(message.payload_size());
    Outgoing out{
        .frames = {::zmq::message_t(message.type().data(), message.type().size()),
                   data_frame(&request.message, 1, size, link->direct_seq_out)},
        .bytes = message.type().size() + size,
        .done = std::move(request.done),
    };
    // Kept for RESEND (node_resend.cpp).
    window_.record(window_key(wire::StreamKind::direct, wire::routing_id(link->id)), link->direct_seq_out,
                   message);
    link->outbox.push_back(std::move(out));
    flush_outbox(*link);
}

void Node::flush_outbox(PeerLink& link) {
    while (!link.outbox.empty() && link.dealer) {
        auto& out = link.outbox.front();
        if (!send_all(*link.dealer, out.frames)) {
            bump(counters_.backpressure);
            arm_timers(SteadyClock::now() + timer_period);  // retried by the timers
            return;
        }
        bump(counters_.messages_sent);
        bump(counters_.batches_sent);
        bump(counters_.direct_sent);
        bump(counters_.bytes_sent, out.bytes);
        auto done = std::move(out.done);
        link.outbox.pop_front();
        if (done) done(success());
    }
}

void Node::apply_subscriptions(std::vector<std::string> prefixes) {
    std::sort(prefixes.begin(), prefixes.end());
    prefixes.erase(std::unique(prefixes.begin(), prefixes.end()), prefixes.end());
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::set_difference(prefixes.begin(), prefixes.end(), prefixes_.begin(), prefixes_.end(),
                        std::back_inserter(added));
    std::set_difference(prefixes_.begin(), prefixes_.end(), prefixes.begin(), prefixes.end(),
                        std::back_inserter(removed));
    for (auto& [id, link] : peers_) {
        if (!link->sub) continue;
        for (const auto& p : added) link->sub->set(::zmq::sockopt::subscribe, p);
        for (const auto& p : removed) link->sub->set(::zmq::sockopt::unsubscribe, p);
        // Types we no longer receive restart their sequence when wanted again.
        for (auto it = link->fanout_in.begin(); it != link->fanout_in.end();) {
            const bool wanted = std::any_of(prefixes.begin(), prefixes.end(),
                                            [&](const std::string& p) { return it->first.starts_with(p); });
            it = wanted ? std::next(it) : link->fanout_in.erase(it);
        }
    }
    prefixes_ = std::move(prefixes);
}

}  // namespace grav::zmq
