#include "support/inproc_transport.hpp"

#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <set>
#include <utility>

namespace grav::test {
namespace detail {

// One transport's queue. Work runs on the owning transport's thread with
// `live` false once the transport is stopping, so that queued work can still
// keep its promises (a send_to's `done` is always called).
class Mailbox {
public:
    using Work = std::function<void(InprocTransport&, bool live)>;

    bool post(Work work) {
        {
            std::lock_guard lock(mutex_);
            if (closed_) return false;
            queue_.push_back(std::move(work));
        }
        ready_.notify_one();
        return true;
    }
    // Blocks for work; false once closed and empty.
    bool take(Work& out) {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return false;
        out = std::move(queue_.front());
        queue_.pop_front();
        return true;
    }
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Work> queue_;
    bool closed_ = false;
};

struct NetworkState {
    std::mutex mutex;
    int next_number = 1;
    std::map<int, std::shared_ptr<Mailbox>> by_number;
    std::map<NodeId, std::shared_ptr<Mailbox>> by_id;
    std::set<std::pair<NodeId, NodeId>> broken;

    std::shared_ptr<Mailbox> find(int number) {
        std::lock_guard lock(mutex);
        auto it = by_number.find(number);
        return it == by_number.end() ? nullptr : it->second;
    }
    std::shared_ptr<Mailbox> find(const NodeId& id) {
        std::lock_guard lock(mutex);
        auto it = by_id.find(id);
        return it == by_id.end() ? nullptr : it->second;
    }
    bool post(const NodeId& to, Mailbox::Work work) {
        auto box = find(to);
        return box && box->post(std::move(work));
    }
    bool link_broken(const NodeId& from, const NodeId& to) {
        std::lock_guard lock(mutex);
        return broken.count({from, to}) != 0;
    }
};

}  // namespace detail

namespace {

constexpr std::string_view kScheme = "inproc-net://";

std::string endpoint_of(int number) { return std::string(kScheme) + std::to_string(number); }

std::optional<int> parse_endpoint(std::string_view endpoint) {
    if (!endpoint.starts_with(kScheme)) return std::nullopt;
    endpoint.remove_prefix(kScheme.size());
    int number = 0;
    auto [end, ec] = std::from_chars(endpoint.data(), endpoint.data() + endpoint.size(), number);
    if (ec != std::errc{} || end != endpoint.data() + endpoint.size() || number <= 0) return std::nullopt;
    return number;
}

}  // namespace

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
