// Node: what goes out — publishes, direct messages, control messages, subscriptions.
#include "node.hpp"

#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"
#include "wire/batch.hpp"

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

// libzmq's call when it is done with a frame handed over without a copy.
void free_frame(void* /*data*/, void* hint) noexcept {
    const std::unique_ptr<std::vector<std::byte>> owned(static_cast<std::vector<std::byte>*>(hint));
}

// A direct message's data frame (docs/PROTOCOL.md, "Data messages"): one
// record, numbered `seq`, written in place into the frame libzmq sends.
::zmq::message_t direct_frame(const Message& message, std::uint64_t seq, std::size_t size) {
    ::zmq::message_t frame(size);
    const std::span out(static_cast<std::byte*>(frame.data()), size);
    wire::write_batch_prefix(out, 1);
    wire::write_record(out.subspan(wire::batch_prefix_size), wire::header_of(message, seq),
                       message.payload());
    return frame;
}

}  // namespace

void Node::publish_batch() {
    FanoutQueue::Batch batch = std::move(batches_.front());
    batches_.pop_front();
    if (!batch.rejected.empty()) {
        log("not published: " + batch.rejected);
        bump(counters_.send_failed);
        return;
    }
    const std::string& type = batch.type;
    bump(counters_.messages_sent, batch.count);
    bump(counters_.published, batch.count);
    bump(counters_.bytes_sent, type.size() + batch.frame.size());
    bump(counters_.batches_sent);
    fanout_seq_out_[type] = batch.first_seq + batch.count - 1;
    // Kept for RESEND (node_resend.cpp): each record with its own number.
    if (auto ok = wire::decode_batch(batch.frame, sent_records_); ok) {
        window_.record_batch(window_key(wire::StreamKind::fanout, type), type, sent_records_);
    } else {
        log("a batch of ours did not decode: " + ok.error().reason());  // a bug: say so
    }
    sent_records_.clear();
    std::array<::zmq::message_t, 2> frames{::zmq::message_t(type.data(), type.size()),
                                           frame_message(std::move(batch.frame))};
    if (!fanout_backlog_.empty() || !send_all(*xpub_, frames)) {
        if (fanout_backlog_.empty()) bump(counters_.backpressure);
        fanout_backlog_.push_back(std::move(frames));
    }
}

::zmq::message_t Node::frame_message(std::vector<std::byte>&& frame) {
    if (frame.size() < zero_copy_above) {
        ::zmq::message_t copy(frame.data(), frame.size());
        spent_frames_.push_back(std::move(frame));  // back to the Inbox, for new batches
        return copy;
    }
    // Large: handed to libzmq as it is, which frees it once sent.
    auto owned = std::make_unique<std::vector<std::byte>>(std::move(frame));
    ::zmq::message_t message(owned->data(), owned->size(), free_frame, owned.get());
    (void)owned.release();  // now libzmq's
    return message;
}

void Node::flush_fanout() {
    while (!fanout_backlog_.empty()) {
        if (!send_all(*xpub_, fanout_backlog_.front())) return;
        fanout_backlog_.pop_front();
    }
    while (!batches_.empty() && fanout_backlog_.empty()) publish_batch();
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
    if (auto ok = wire::check_data(*request.message); !ok) {
        bump(counters_.send_failed);
        if (request.done) request.done(ok.error());
        return;
    }
    const auto& message = *request.message;
    const std::size_t size = wire::batch_prefix_size + wire::record_size(message.payload_size());
    Outgoing out{
        .frames = {::zmq::message_t(message.type().data(), message.type().size()),
                   direct_frame(message, ++link->direct_seq_out, size)},
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
        bump(link.traffic->messages_sent);
        bump(link.traffic->bytes_sent, out.bytes);
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
        if (!added.empty()) link->prefixes_grew = true;
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
