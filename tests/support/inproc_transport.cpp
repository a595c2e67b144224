// The in-process transport's network, life cycle and handshake (messages,
// subscriptions and observation: inproc_transport_messages.cpp).
#include "support/inproc_transport.hpp"

#include "support/inproc_network.hpp"

#include <utility>

namespace grav::test {

using detail::endpoint_of;
using detail::parse_endpoint;

// ---------------------------------------------------------------- network

InprocNetwork::InprocNetwork() : state_(std::make_shared<detail::NetworkState>()) {}
InprocNetwork::~InprocNetwork() = default;

std::unique_ptr<InprocTransport> InprocNetwork::make_transport() const {
    return std::make_unique<InprocTransport>(state_);
}

void InprocNetwork::break_link(const NodeId& from, const NodeId& to) {
    std::lock_guard lock(state_->mutex);
    state_->broken.insert({from, to});
}

void InprocNetwork::heal_link(const NodeId& from, const NodeId& to) {
    std::lock_guard lock(state_->mutex);
    state_->broken.erase({from, to});
}

// ---------------------------------------------------------- life cycle

InprocTransport::InprocTransport(std::shared_ptr<detail::NetworkState> network)
    : network_(std::move(network)), mailbox_(std::make_shared<detail::Mailbox>()) {}

InprocTransport::~InprocTransport() { stop(); }

Status InprocTransport::start(const LocalNode& self, TransportEvents& events) {
    std::lock_guard life(life_mutex_);
    if (started_) return Error(Errc::invalid_argument, "inproc transport already started");
    {
        std::lock_guard lock(network_->mutex);
        if (network_->by_id.count(self.id) != 0)
            return Error(Errc::invalid_argument, "node " + self.id.str() + " already on this network");
        const int number = network_->next_number++;
        number_ = number;
        network_->by_number[number] = mailbox_;
        network_->by_id[self.id] = mailbox_;
    }
    self_ = self;
    events_ = &events;
    started_ = true;
    thread_ = std::thread([this] { run(); });
    return success();
}

void InprocTransport::stop() {
    std::lock_guard life(life_mutex_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    mailbox_->post([](InprocTransport& t, bool) { t.do_stop(); });
    thread_.join();
}

void InprocTransport::run() {
    detail::Mailbox::Work work;
    while (mailbox_->take(work)) {
        try {
            work(*this, !quit_);
        } catch (...) {
            // A throwing callback must not kill the transport's thread; the
            // interface says callbacks do not throw, so this is only a guard.
            ++dropped_;
        }
        work = nullptr;
    }
}

void InprocTransport::do_stop() {
    {
        std::lock_guard lock(network_->mutex);
        network_->by_number.erase(number_);
        network_->by_id.erase(self_.id);
    }
    for (const auto& [id, peer] : peers_) {
        network_->post(id, [from = self_.id](InprocTransport& t, bool live) {
            if (live) t.on_bye(from);
        });
    }
    peers_.clear();
    publish_live_view();
    quit_ = true;
    // Work already queued still runs (with live == false) before run() ends.
    mailbox_->close();
}

// ------------------------------------------------------------ handshake

Status InprocTransport::connect(std::string_view endpoint) {
    const auto number = parse_endpoint(endpoint);
    if (!number)
        return Error(Errc::invalid_argument, "not an inproc endpoint: '" + std::string(endpoint) + "'");
    const bool queued =
        mailbox_->post([ep = std::string(endpoint), n = *number](InprocTransport& t, bool live) {
            if (live) t.dial(ep, n, std::nullopt);
        });
    if (!queued) return Error(Errc::closed, "inproc transport stopped");
    return success();
}

Status InprocTransport::connect(const Contact& contact, const NodeId& expected) {
    if (contact.host != "inproc" || contact.direct_port == 0)
        return Error(Errc::invalid_argument, "not an inproc contact: host '" + contact.host + "'");
    const int n = contact.direct_port;
    const bool queued = mailbox_->post([n, expected](InprocTransport& t, bool live) {
        if (live) t.dial(endpoint_of(n), n, expected);
    });
    if (!queued) return Error(Errc::closed, "inproc transport stopped");
    return success();
}

InprocTransport::Hello InprocTransport::hello_for(std::optional<NodeId> expected, std::string dialled) const {
    PeerInfo info;
    info.id = self_.id;
    info.name = self_.name;
    info.belongs_to = self_.belongs_to;
    info.interests = self_.interests;
    info.endpoints = {endpoint_of(number_)};
    info.address = endpoint_of(number_);
    info.last_seen = std::chrono::steady_clock::now();
    return Hello{std::move(info), subscriptions_, expected, std::move(dialled)};
}

void InprocTransport::dial(std::string endpoint, int number, std::optional<NodeId> expected) {
    if (number == number_) {
        on_refused(endpoint, "a node does not dial itself");
        return;
    }
    for (const auto& [id, peer] : peers_) {
        // Duplicate connections collapse: already linked to that endpoint.
        if (!peer.info.endpoints.empty() && peer.info.endpoints.front() == endpoint) return;
    }
    auto box = network_->find(number);
    const bool sent =
        box && box->post([hello = hello_for(expected, endpoint)](InprocTransport& t, bool live) {
            if (live)
                t.on_hello(hello);
            else
                t.on_refused_remote(hello);
        });
    if (!sent) on_refused(endpoint, "no node listens at " + endpoint);
}

void InprocTransport::on_refused_remote(const Hello& hello) {
    // The listener stopped with our hello still queued: tell the dialler.
    network_->post(hello.info.id, [ep = hello.dialled](InprocTransport& t, bool live) {
        if (live) t.on_refused(ep, "node stopped during the handshake");
    });
}

void InprocTransport::on_hello(const Hello& hello) {
    const NodeId from = hello.info.id;
    auto refuse = [&](std::string reason) {
        ++rejected_;
        network_->post(from, [ep = hello.dialled, reason = std::move(reason)](InprocTransport& t, bool live) {
            if (live) t.on_refused(ep, reason);
        });
    };
    if (hello.expected && *hello.expected != self_.id) {
        refuse("expected node " + hello.expected->str() + ", this is " + self_.id.str());
        return;
    }
    if (auto it = peers_.find(from); it != peers_.end()) {
        // Already linked (both dialled at once): refresh, answer, no second join.
        it->second.subscriptions = hello.subscriptions;
    } else {
        Status admitted = events_->admit(hello.info);
        if (!admitted) {
            refuse(admitted.error().reason());
            return;
        }
        peers_[from] = Peer{hello.info, hello.subscriptions, false};
    }
    publish_live_view();
    const bool sent = network_->post(
        from, [welcome = hello_for(std::nullopt, hello.dialled)](InprocTransport& t, bool live) {
            if (live) t.on_welcome(welcome);
        });
    if (!sent) {
        peers_.erase(from);
        publish_live_view();
    }
}

void InprocTransport::on_welcome(const Hello& welcome) {
    const NodeId from = welcome.info.id;
    auto it = peers_.find(from);
    if (it != peers_.end() && it->second.ready) return;  // duplicate link
    if (it == peers_.end()) {
        Status admitted = events_->admit(welcome.info);
        if (!admitted) {
            on_refused(welcome.dialled, admitted.error().reason());
            ++rejected_;
            network_->post(from, [me = self_.id](InprocTransport& t, bool live) {
                if (live) t.on_rejected_by_dialler(me);
            });
            return;
        }
        it = peers_.emplace(from, Peer{welcome.info, welcome.subscriptions, false}).first;
    } else {
        it->second.subscriptions = welcome.subscriptions;
    }
    join_peer(from);
    network_->post(from, [me = self_.id](InprocTransport& t, bool live) {
        if (live) t.on_ready(me);
    });
}

void InprocTransport::on_ready(const NodeId& from) {
    auto it = peers_.find(from);
    if (it == peers_.end() || it->second.ready) return;
    join_peer(from);
}

void InprocTransport::join_peer(const NodeId& id) {
    auto& peer = peers_.at(id);
    peer.ready = true;
    peer.info.last_seen = std::chrono::steady_clock::now();
    publish_live_view();
    events_->on_peer_joined(peer.info);
}

void InprocTransport::on_refused(const std::string& endpoint, const std::string& reason) {
    ++refused_;
    events_->on_peer_refused(endpoint, reason);
}

void InprocTransport::on_rejected_by_dialler(const NodeId& from) {
    auto it = peers_.find(from);
    if (it == peers_.end()) return;
    const bool was_ready = it->second.ready;
    peers_.erase(it);
    publish_live_view();
    if (was_ready) events_->on_peer_left(from, LeaveReason::refused, "the dialler refused this node");
}

void InprocTransport::on_bye(const NodeId& from) {
    auto it = peers_.find(from);
    if (it == peers_.end()) return;
    const bool was_ready = it->second.ready;
    peers_.erase(it);
    publish_live_view();
    if (was_ready) events_->on_peer_left(from, LeaveReason::withdrew, "peer stopped");
}

void InprocTransport::drop(const NodeId& peer) {
    mailbox_->post([peer](InprocTransport& t, bool live) {
        if (!live) return;
        // The hub asked: it already knows, so no on_peer_left here.
        if (t.peers_.erase(peer) != 0) t.publish_live_view();
    });
}

}  // namespace grav::test
