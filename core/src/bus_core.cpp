#include "bus_core.hpp"

#include "bridge_link.hpp"
#include "hub.hpp"
#include "system_types.hpp"

#include <unistd.h>

#include <thread>

namespace grav::detail {
namespace {

std::string default_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    return std::string(host[0] ? host : "grav") + "-" + std::to_string(::getpid());
}

}  // namespace

BusCore::BusCore(BusOptions&& options)
    : options_(std::move(options)),
      node_id_(options_.node_id.value_or(NodeId::random())),
      name_(options_.name.empty() ? default_name() : options_.name),
      counters_(std::make_shared<BusCounters>()),
      pool_(std::make_shared<WorkerPool>(options_.workers)) {
    if (options_.replay_capacity > 0) history_.reserve(options_.replay_capacity);
}

BusCore::~BusCore() { stop(); }

Status BusCore::start() {
    if (!options_.transport && options_.discovery) {
        return Error(Errc::invalid_argument, "discovery needs a transport to connect the peers it finds");
    }
    LocalNode self{node_id_, name_, options_.belongs_to, options_.interests};
    if (options_.bridge) {
        bridge_ = std::make_unique<BridgeLink>(*this, std::move(options_.bridge), peer_events_);
        self.interests.emplace_back(kBridgeCapability);
    }
    if (options_.transport) {
        hub_ = std::make_unique<Hub>(*this, self, std::move(options_.transport),
                                     std::move(options_.discovery), peer_events_);
        if (bridge_) {
            hub_->on_peers_changed(
                [this](const std::vector<PeerInfo>& peers) { bridge_->peers_changed(peers); });
        }
        if (auto s = hub_->start(); !s) return s;
    }
    if (bridge_) {
        if (auto s = bridge_->start(self); !s) {
            if (hub_) hub_->withdraw();
            return s;
        }
        if (hub_) bridge_->peers_changed(hub_->peers());
        std::lock_guard lock(subscriptions_mutex_);
        push_subscriptions_locked();
    }
    if (options_.on_stats) {
        if (options_.stats_interval <= std::chrono::milliseconds::zero())
            return Error(Errc::invalid_argument, "stats_interval must be positive with on_stats");
        stats_ticker_ =
            std::make_unique<StatsTicker>(options_.stats_interval, [this] { options_.on_stats(stats()); });
    }
    return success();
}

std::shared_ptr<PodState> BusCore::create_pod(bool replay) {
    const PodSettings settings{options_.mailbox_capacity, options_.overflow, options_.failure_high_water,
                               replay};
    std::lock_guard lock(registry_mutex_);
    if (closed()) return nullptr;
    const std::uint64_t id = next_pod_id_++;
    auto pod = std::make_shared<PodState>(id, weak_from_this(), pool_, counters_, settings);
    pods_.emplace(id, pod);
    snapshot_.reset();
    return pod;
}

void BusCore::pod_changed(PodState& pod, const SubscriptionChange& change, bool activate) {
    if (activate) {
        // Under the registry lock: every message dispatched is either in the
        // history copied here or after the cutoff, never both, never neither.
        std::lock_guard lock(registry_mutex_);
        if (pod.wants_replay() && !history_.empty()) {
            std::vector<Envelope> ordered;
            ordered.reserve(history_.size());
            for (std::size_t i = 0; i < history_.size(); ++i) {
                ordered.push_back(history_[(history_head_ + i) % history_.size()]);
            }
            pod.activate(ordered, seq_);
        } else {
            pod.activate({}, seq_);
        }
    }
    apply_subscription(change);
}

void BusCore::pod_gone(PodState& pod, const SubscriptionChange& change) {
    {
        std::lock_guard lock(registry_mutex_);
        if (pods_.erase(pod.id()) > 0) snapshot_.reset();
    }
    apply_subscription(change);
}

void BusCore::apply_subscription(const SubscriptionChange& change) {
    if (!change.changed() || !hub_) return;
    std::vector<std::string> prefixes;
    {
        std::lock_guard lock(subscriptions_mutex_);
        bool keys_changed = false;
        if (change.removed) {
            auto it = subscriptions_.find(*change.removed);
            if (it != subscriptions_.end() && --it->second == 0) {
                subscriptions_.erase(it);
                keys_changed = true;
            }
        }
        if (change.added && subscriptions_[*change.added]++ == 0) keys_changed = true;
        if (!keys_changed) return;
        push_subscriptions_locked();
    }
}

void BusCore::push_subscriptions_locked() {
    if (!hub_) return;
    std::vector<std::string> prefixes;
    prefixes.reserve(subscriptions_.size());
    for (const auto& [prefix, count] : subscriptions_) prefixes.push_back(prefix);
    // A bridge node takes what its site sends of the bridged types, for other sites.
    if (bridge_) {
        for (auto& p : bridge_->prefixes()) prefixes.push_back(std::move(p));
    }
    // Called under the lock so that two changes reach the transport in order.
    hub_->subscribe(std::move(prefixes));
}

std::shared_ptr<ReplySlot> BusCore::register_reply(const MessageId& id,
                                                   const std::shared_ptr<PodState>& owner) {
    auto slot = std::make_shared<ReplySlot>(id, weak_from_this(), owner, options_.max_buffered_replies);
    if (closed()) {
        slot->close(Error(Errc::closed, "the bus is stopped"));
        return slot;
    }
    auto& shard = shard_for(id);
    std::lock_guard lock(shard.mutex);
    shard.slots.insert_or_assign(id, std::make_pair(slot.get(), std::weak_ptr<ReplySlot>(slot)));
    return slot;
}

void BusCore::unregister_reply(const MessageId& id, const ReplySlot* slot) {
    auto& shard = shard_for(id);
    std::lock_guard lock(shard.mutex);
    auto it = shard.slots.find(id);
    if (it != shard.slots.end() && it->second.first == slot) shard.slots.erase(it);
}

bool BusCore::serve_until(const std::function<bool()>& done, std::chrono::steady_clock::time_point deadline) {
    // Not on a worker: a worker that ran the loop could block in fan_out
    // for mailbox room that only workers make (OverflowPolicy::block).
    if (!hub_ || closed() || WorkerPool::on_worker_thread()) return false;
    // Claimed before the loop is asked for: its holder may be waiting for
    // room in a mailbox, and must stop now, or the loop never comes.
    WantingTheLoop wanting(counters_->loop);
    if (wanting.must_release_room_waiters()) {
        for (const auto& pod : all_pods()) pod->release_senders();
    }
    return hub_->serve_until(done, deadline);
}

void BusCore::interrupt_serve() {
    if (hub_) hub_->interrupt_serve();
}

std::shared_ptr<ReplySlot> BusCore::find_reply(const MessageId& id) {
    auto& shard = shard_for(id);
    std::lock_guard lock(shard.mutex);
    auto it = shard.slots.find(id);
    if (it == shard.slots.end()) return nullptr;
    return it->second.second.lock();
}

std::shared_ptr<const std::vector<std::shared_ptr<PodState>>> BusCore::pods_snapshot() const {
    // Caller holds registry_mutex_.
    if (!snapshot_) {
        auto list = std::make_shared<std::vector<std::shared_ptr<PodState>>>();
        list->reserve(pods_.size());
        for (const auto& [id, pod] : pods_) list->push_back(pod);
        // Pod ids grow with connect order: deliver in that order (stable, predictable).
        std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) { return a->id() < b->id(); });
        snapshot_ = std::move(list);
    }
    return snapshot_;
}

void BusCore::fan_out(const MessagePtr& message, std::uint64_t sender, bool may_block) {
    (void)fan_out(message, sender, may_block, true);
}

bool BusCore::fan_out(const MessagePtr& message, std::uint64_t sender, bool may_block, bool callbacks) {
    // The buses' own messages are never a pod's, whoever made them (a pod
    // may send one: it reaches peers, which handle or ignore it).
    if (message->type().starts_with(kSystemTypePrefix)) return true;
    // A reply for a live receipt goes to that receipt (not to its pod's handler).
    const PodState* consumer = nullptr;
    if (!message->reply_to().is_nil()) {
        if (auto slot = find_reply(message->reply_to())) {
            if (callbacks) {
                slot->deliver(message);
            } else if (!slot->try_deliver(message)) {
                return false;
            }
            consumer = slot->owner();
        }
    }
    std::shared_ptr<const std::vector<std::shared_ptr<PodState>>> pods;
    std::uint64_t seq = 0;
    {
        std::lock_guard lock(registry_mutex_);
        seq = ++seq_;
        if (options_.replay_capacity > 0) {
            Envelope e{message, seq, sender};
            if (history_.size() < options_.replay_capacity) {
                history_.push_back(std::move(e));
            } else {
                history_[history_head_] = std::move(e);
                history_head_ = (history_head_ + 1) % history_.size();
            }
        }
        pods = pods_snapshot();
    }
    for (const auto& pod : *pods) {
        if (pod->id() == sender || pod.get() == consumer) continue;
        pod->enqueue(Envelope{message, seq, sender}, may_block);
    }
    return true;
}

namespace {
// "grav.sys." types are the nodes' own (system_types.hpp): a pod's would be
// taken by every node for one of theirs (a grav.sys.stats to the mesh made
// every peer answer).
Status not_reserved(const Message& message) {
    if (!message.type().starts_with(kSystemTypePrefix)) return success();
    return Error(Errc::invalid_argument, "type '" + message.type() + "' is reserved: types under '" +
                                             std::string(kSystemTypePrefix) + "' are grav's own");
}
}  // namespace

Status BusCore::publish(PodState& sender, const MessagePtr& message) {
    if (closed()) return Error(Errc::closed, "the bus is stopped");
    if (auto s = not_reserved(*message); !s) return s;
    // Refused whole, before anyone has it: a bridged type must be able to cross.
    if (bridge_) {
        if (auto s = bridge_->check(*message); !s) return s;
    }
    sender.count_sent();
    fan_out(message, sender.id(), true);
    if (hub_) hub_->publish(message);
    if (bridge_) bridge_->from_local(message);
    return success();
}

Status BusCore::reply(PodState& sender, const MessagePtr& reply, const NodeId& request_origin) {
    if (closed()) return Error(Errc::closed, "the bus is stopped");
    if (auto s = not_reserved(*reply); !s) return s;
    sender.count_sent();
    fan_out(reply, sender.id(), true);
    if (request_origin.is_nil() || request_origin == node_id_) return success();
    const bool in_mesh = hub_ && hub_->has_peer(request_origin);
    // A requester on another site: through this node's bridge, else the hub
    // hands it to the site's active bridge node.
    if (!in_mesh && bridge_ && bridge_->send_reply(request_origin, reply)) return success();
    if (hub_) hub_->send_to(request_origin, reply);
    return success();
}

void BusCore::tunnel(const std::string& capability, const MessagePtr& message,
                     const std::shared_ptr<ReplySlot>& slot) {
    if (auto s = not_reserved(*message); !s) {
        slot->fail_send(s.error());
        return;
    }
    if (hub_ && (hub_->offers(capability) || !bridge_)) {
        hub_->tunnel(capability, message, slot);
    } else if (bridge_) {
        bridge_->tunnel(capability, message, slot);
    } else {
        slot->fail_send(Error(Errc::no_peer,
                              "no peer offers capability '" + capability + "' (this bus has no transport)"));
    }
}

void BusCore::on_peer(std::function<void(const PeerEvent&)> callback) {
    peer_events_.set(std::move(callback));
}

void BusCore::withdraw() {
    // The bridge first: nothing comes in from other sites while the mesh says goodbye.
    if (bridge_) bridge_->stop();
    if (hub_) hub_->withdraw();
}

void BusCore::drain(std::chrono::milliseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    while (std::chrono::steady_clock::now() < deadline) {
        std::shared_ptr<const std::vector<std::shared_ptr<PodState>>> pods;
        {
            std::lock_guard lock(registry_mutex_);
            pods = pods_snapshot();
        }
        bool busy = false;
        for (const auto& pod : *pods) {
            if (pod->busy()) {
                busy = true;
                break;
            }
        }
        if (!busy) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

std::vector<std::shared_ptr<PodState>> BusCore::all_pods() const {
    std::lock_guard lock(registry_mutex_);
    std::vector<std::shared_ptr<PodState>> pods;
    pods.reserve(pods_.size());
    for (const auto& [id, pod] : pods_) pods.push_back(pod);
    return pods;
}

void BusCore::stop() {
    std::lock_guard stop_lock(stop_mutex_);
    if (closed()) return;
    // Release senders blocked on full mailboxes (the transport thread may be
    // one of them, and withdraw() waits for that thread).
    counters_->stopping.store(true, std::memory_order_relaxed);
    for (const auto& pod : all_pods()) pod->release_senders();
    // Drain before leaving the mesh, so that what handlers still send (and
    // what was just sent) goes out before the goodbye. Handlers of this bus
    // cannot wait for themselves to drain.
    if (!pool_->is_own_thread()) drain(options_.drain_timeout);
    withdraw();
    // What the bridge handed over while it stopped (a durable bridge hands
    // over and acks its whole last batch) reaches the pods' handlers too.
    if (bridge_ && !pool_->is_own_thread()) drain(options_.drain_timeout);
    closed_.store(true, std::memory_order_release);
    for (const auto& pod : all_pods()) pod->disconnect(DisconnectReason::bus_stopped, false);

    for (auto& shard : reply_shards_) {
        std::vector<std::shared_ptr<ReplySlot>> open;
        {
            std::lock_guard lock(shard.mutex);
            for (auto& [id, entry] : shard.slots) {
                if (auto slot = entry.second.lock()) open.push_back(std::move(slot));
            }
            shard.slots.clear();
        }
        for (auto& slot : open) {
            slot->detach_from_bus();
            slot->close(Error(Errc::closed, "the bus stopped before a reply came"));
        }
    }
    pool_->stop();
    // After the pods are gone and the workers joined: its last call has the final figures.
    if (stats_ticker_) stats_ticker_->stop();
    timers_.stop();
    std::lock_guard lock(registry_mutex_);
    history_.clear();
}

}  // namespace grav::detail
