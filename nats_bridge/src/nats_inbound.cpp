// What comes in from NATS: decoded on nats.c's delivery thread, and given to
// the core there when that cannot wait (nothing queued ahead of it, room in
// every mailbox: deliver_now), else handed to the bridge's thread through the
// bounded queue; checked against each stream's count on whichever thread
// gives it to the core, under deliver_mutex_, one at a time.
#include "nats_bridge.hpp"
#include "nats_log.hpp"

namespace grav::nats::detail {

void NatsBridge::on_msg(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsMsg* raw, void* closure) {
    auto* self = static_cast<NatsBridge*>(closure);
    MsgPtr msg(raw);
    if (self->stopping_) return;
    self->received_.fetch_add(1, std::memory_order_relaxed);
    Inbound item;
    item.subject = natsMsg_GetSubject(msg.get());
    auto parsed = self->subjects_->parse(item.subject);
    item.kind = parsed.kind;
    item.rest = std::move(parsed.rest);
    if (item.kind == Subjects::Kind::unknown) return;
    if (item.kind == Subjects::Kind::inbox) {
        // The server's "no responders" for a tunnel request, or (durable) the stream's ack of a publication.
        if (!natsMsg_IsNoResponders(msg.get())) {
            if (self->options_.durable.enabled) self->on_pub_ack(msg.get());
            return;
        }
    } else {
        auto decoded = decode(msg.get(), item.kind == Subjects::Kind::message ? item.rest : std::string());
        if (!decoded) {
            self->decode_failed_.fetch_add(1, std::memory_order_relaxed);
            log_warning("message on '" + item.subject + "' dropped: " + decoded.error().what());
            return;
        }
        item.decoded = std::move(decoded).value();
    }
    if (self->deliver_now(item)) return;
    const bool counted = item.decoded.envelope.seq != 0;
    if (!self->queue_.push(std::move(item))) {
        self->queue_overflow_.fetch_add(1, std::memory_order_relaxed);
        // A counted stream reports the gap when its next message comes.
        if (!counted) self->unsequenced_overflow_.fetch_add(1, std::memory_order_relaxed);
    }
}

void NatsBridge::on_sub_complete(void* closure) {
    auto* self = static_cast<NatsBridge*>(closure);
    // Notified under the lock: stop() may destroy the bridge as soon as it sees the count at 0.
    std::lock_guard lock(self->complete_mutex_);
    --self->live_subs_;
    self->complete_cv_.notify_all();
}

bool NatsBridge::deliver_now(Inbound& item) {
    // (A tunnel's "no responders" is rare: it goes the queued way.)
    if (item.kind == Subjects::Kind::inbox) return false;
    // Never waits: the lock is the bridge thread's while it hands over (and
    // maybe waits for room); then this message goes behind what it holds.
    std::unique_lock lock(deliver_mutex_, std::try_to_lock);
    if (!lock.owns_lock() || queue_.outstanding() != 0) return false;
    if (item.kind == Subjects::Kind::message) {
        const auto& env = item.decoded.envelope;
        const auto verdict = streams_.next(env.bridge, item.subject, env.seq);
        // A gap is reported by the bridge's thread (an event for the user's
        // callback): the verdict goes with the message, not checked twice.
        if (verdict.lost != 0) {
            item.verdict = verdict;
            return false;
        }
        if (!verdict.deliver) {
            duplicates_.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        if (events_->on_remote_message(item.decoded.message, false)) {
            delivered_inline_.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        item.verdict = verdict;
        return false;
    }
    if (!handle(item, false)) return false;
    delivered_inline_.fetch_add(1, std::memory_order_relaxed);
    return true;
}

void NatsBridge::run() {
    std::deque<Inbound> batch;
    std::uint64_t reported_overflow = 0;
    while (queue_.take(batch)) {
        for (auto& item : batch) {
            if (stopping_) return;
            std::lock_guard lock(deliver_mutex_);
            handle(item, true);
            queue_.done(1);
        }
        batch.clear();
        const auto overflow = unsequenced_overflow_.load(std::memory_order_relaxed);
        if (overflow != reported_overflow) {
            events_->on_remote_lost(NodeId{}, "nats (the bridge's queue was full)", overflow - reported_overflow);
            reported_overflow = overflow;
        }
    }
}

bool NatsBridge::handle(Inbound& item, bool may_block) {
    switch (item.kind) {
        case Subjects::Kind::inbox: fail_tunnel(item.rest); return true;
        case Subjects::Kind::message: {
            const auto& env = item.decoded.envelope;
            const auto verdict =
                item.verdict ? *item.verdict : streams_.next(env.bridge, item.subject, env.seq);
            if (verdict.lost != 0) {
                lost_.fetch_add(verdict.lost, std::memory_order_relaxed);
                events_->on_remote_lost(env.bridge, "nats '" + item.subject + "'", verdict.lost);
            }
            if (!verdict.deliver) {
                duplicates_.fetch_add(1, std::memory_order_relaxed);
                return true;
            }
            return events_->on_remote_message(item.decoded.message, may_block);
        }
        case Subjects::Kind::node: {
            auto target = NodeId::parse(item.rest);
            if (!target) return true;
            return events_->on_remote_direct(*target, item.decoded.message, may_block);
        }
        case Subjects::Kind::tunnel:
            return events_->on_remote_tunnel(item.rest, item.decoded.message, may_block);
        case Subjects::Kind::unknown: return true;
    }
    return true;
}

void NatsBridge::fail_tunnel(const std::string& message_id) {
    PendingTunnel pending;
    {
        std::lock_guard lock(tunnels_mutex_);
        auto it = tunnels_.find(message_id);
        if (it == tunnels_.end()) {
            // Durable: a publication that no stream (nor anyone) took.
            if (options_.durable.enabled) {
                unstored_.fetch_add(1, std::memory_order_relaxed);
                log_warning("message " + message_id + " was not stored: no stream '" + stream_name_ +
                            "' takes its subject (NATS: no responders)");
            }
            return;
        }
        pending = std::move(it->second);
        tunnels_.erase(it);
    }
    no_responders_.fetch_add(1, std::memory_order_relaxed);
    if (pending.done) {
        pending.done(Error(Errc::no_peer, "no node on any site offers capability '" + pending.capability +
                                              "' (NATS: no responders)"));
    }
}

}  // namespace grav::nats::detail
