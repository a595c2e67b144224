// The in-process transport's messages (publish filtered by each peer's
// subscriptions, send_to), subscriptions, and what other threads may observe.
#include "support/inproc_transport.hpp"

#include "support/inproc_network.hpp"

#include <utility>

namespace grav::test {

using detail::endpoint_of;

// ------------------------------------------------------------- messages

bool InprocTransport::wanted(const std::vector<std::string>& subscriptions, std::string_view type) {
    for (const auto& prefix : subscriptions)
        if (type.starts_with(prefix)) return true;
    return false;
}

void InprocTransport::publish(MessagePtr message) {
    const bool queued = mailbox_->post([m = std::move(message)](InprocTransport& t, bool live) {
        if (live)
            t.do_publish(m);
        else
            ++t.dropped_;
    });
    if (!queued) ++dropped_;
}

void InprocTransport::do_publish(const MessagePtr& message) {
    for (const auto& [id, peer] : peers_) {
        if (!wanted(peer.subscriptions, message->type())) {
            ++filtered_;
            continue;
        }
        const bool sent = network_->post(id, [from = self_.id, message](InprocTransport& t, bool live) {
            if (live)
                t.on_envelope(from, message);
            else
                ++t.dropped_;
        });
        if (sent)
            ++published_;
        else
            ++dropped_;
    }
}

void InprocTransport::send_to(const NodeId& peer, MessagePtr message, SendDone done) {
    auto work = [peer, m = std::move(message), done](InprocTransport& t, bool live) {
        if (live)
            t.do_send_to(peer, m, done);
        else if (done)
            done(Error(Errc::closed, "inproc transport stopped before sending"));
    };
    if (!mailbox_->post(std::move(work))) {
        ++send_failed_;
        if (done) done(Error(Errc::closed, "inproc transport stopped"));
    }
}

void InprocTransport::do_send_to(const NodeId& peer, const MessagePtr& message, const SendDone& done) {
    auto fail = [&](Errc code, std::string reason) {
        ++send_failed_;
        if (done) done(Error(code, std::move(reason)));
    };
    if (peers_.count(peer) == 0)
        return fail(Errc::no_peer, "no peer " + peer.str() + " on this inproc network");
    if (network_->link_broken(self_.id, peer))
        return fail(Errc::transport_failed, "link to " + peer.short_str() + " broken by the test");
    const bool sent = network_->post(peer, [from = self_.id, message](InprocTransport& t, bool live) {
        if (live)
            t.on_envelope(from, message);
        else
            ++t.dropped_;
    });
    if (!sent) return fail(Errc::transport_failed, "peer " + peer.short_str() + " is gone");
    ++sent_direct_;
    if (done) done(success());
}

void InprocTransport::on_envelope(const NodeId& from, const MessagePtr& message) {
    if (peers_.count(from) == 0) {
        ++dropped_;
        return;
    }
    ++received_;
    events_->on_message(from, message);
}

// -------------------------------------------------------- subscriptions

void InprocTransport::subscribe(std::vector<std::string> prefixes) {
    mailbox_->post([p = std::move(prefixes)](InprocTransport& t, bool live) mutable {
        if (live) t.do_subscribe(std::move(p));
    });
}

void InprocTransport::do_subscribe(std::vector<std::string> prefixes) {
    subscriptions_ = std::move(prefixes);
    for (const auto& [id, peer] : peers_) {
        network_->post(id, [from = self_.id, p = subscriptions_](InprocTransport& t, bool live) mutable {
            if (live) t.on_subscriptions(from, std::move(p));
        });
    }
}

void InprocTransport::on_subscriptions(const NodeId& from, std::vector<std::string> prefixes) {
    auto it = peers_.find(from);
    if (it == peers_.end()) return;
    it->second.subscriptions = std::move(prefixes);
    publish_live_view();
}

// ---------------------------------------------------------- observation

void InprocTransport::publish_live_view() {
    std::lock_guard lock(view_mutex_);
    view_ = peers_;
}

std::string InprocTransport::endpoint() const {
    const int n = number_;
    return n == 0 ? std::string() : endpoint_of(n);
}

Contact InprocTransport::contact() const {
    const int n = number_;
    return Contact{"inproc", static_cast<std::uint16_t>(n), static_cast<std::uint16_t>(n), {}};
}

bool InprocTransport::alive(const NodeId& peer) const {
    std::lock_guard lock(view_mutex_);
    return view_.count(peer) != 0;
}

std::optional<std::vector<std::string>> InprocTransport::peer_subscriptions(const NodeId& peer) const {
    std::lock_guard lock(view_mutex_);
    auto it = view_.find(peer);
    if (it == view_.end()) return std::nullopt;
    return it->second.subscriptions;
}

bool InprocTransport::peer_wants(const NodeId& peer, std::string_view type) const {
    auto subs = peer_subscriptions(peer);
    return subs && wanted(*subs, type);
}

std::map<std::string, std::uint64_t> InprocTransport::stats() const {
    std::uint64_t ready = 0;
    {
        std::lock_guard lock(view_mutex_);
        for (const auto& [id, peer] : view_) ready += peer.ready ? 1 : 0;
    }
    return {
        {"inproc.published", published_},
        {"inproc.filtered", filtered_},
        {"inproc.sent_direct", sent_direct_},
        {"inproc.send_failed", send_failed_},
        {"inproc.received", received_},
        {"inproc.refused", refused_},
        {"inproc.rejected", rejected_},
        {"inproc.dropped", dropped_},
        {"inproc.peers", ready},
    };
}

}  // namespace grav::test
