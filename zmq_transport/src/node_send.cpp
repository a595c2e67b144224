// Node: what goes out — publishes, direct messages, control messages, subscriptions.
#include "node.hpp"

#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

void Node::send_control(::zmq::socket_t& socket, wire::Control command, std::string_view body,
                        std::string_view identity) {
    const auto topic = wire::topic_of(command);
    const auto header = wire::encode_header(wire::control_header(self_.id));
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

void Node::publish_now(MessagePtr message) {
    if (auto ok = wire::check_type(message->type()); !ok) {
        log("not published: " + ok.error().reason());
        bump(counters_.send_failed);
        return;
    }
    auto seq_it = fanout_seq_out_.find(message->type());
    if (seq_it == fanout_seq_out_.end()) seq_it = fanout_seq_out_.emplace(message->type(), 0).first;
    const auto header = wire::encode_header(wire::header_of(*message, ++seq_it->second));
    std::array<::zmq::message_t, 3> frames{
        ::zmq::message_t(message->type().data(), message->type().size()),
        ::zmq::message_t(header.data(), header.size()),
        ::zmq::message_t(message->payload_view().data(), message->payload_size()),
    };
    const std::size_t bytes = message->type().size() + header.size() + message->payload_size();
    bump(counters_.messages_sent);
    bump(counters_.published);
    bump(counters_.bytes_sent, bytes);
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
    while (!publishes_.empty() && fanout_backlog_.empty()) {
        publish_now(std::move(publishes_.front()));
        publishes_.pop_front();
    }
}

void Node::send_direct(command::SendTo& request) {
    PeerLink* link = find(request.peer);
    if (!link || !link->joined || !link->dealer) {
        bump(counters_.send_failed);
        if (request.done) {
            request.done(Error(Errc::no_peer, "no connected peer " + request.peer.short_str()));
        }
        return;
    }
    if (auto ok = wire::check_type(request.message->type()); !ok) {
        bump(counters_.send_failed);
        if (request.done) request.done(ok.error());
        return;
    }
    const auto& message = *request.message;
    const auto header = wire::encode_header(wire::header_of(message, ++link->direct_seq_out));
    Outgoing out{
        .frames = {::zmq::message_t(message.type().data(), message.type().size()),
                   ::zmq::message_t(header.data(), header.size()),
                   ::zmq::message_t(message.payload_view().data(), message.payload_size())},
        .bytes = message.type().size() + header.size() + message.payload_size(),
        .done = std::move(request.done),
    };
    link->outbox.push_back(std::move(out));
    flush_outbox(*link);
}

void Node::flush_outbox(PeerLink& link) {
    while (!link.outbox.empty() && link.dealer) {
        auto& out = link.outbox.front();
        if (!send_all(*link.dealer, out.frames)) {
            bump(counters_.backpressure);
            return;  // retried by the timers
        }
        bump(counters_.messages_sent);
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
