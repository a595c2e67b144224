// What comes in from NATS: decoded on nats.c's delivery thread, handed to
// the bridge's thread through the bounded queue, checked against each
// stream's count there and given to the core.
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
        if (!natsMsg_IsNoResponders(msg.get())) return;  // only the server's "no responders" comes here
    } else {
        auto decoded = decode(msg.get(), item.kind == Subjects::Kind::message ? item.rest : std::string());
        if (!decoded) {
            self->decode_failed_.fetch_add(1, std::memory_order_relaxed);
            log_warning("message on '" + item.subject + "' dropped: " + decoded.error().what());
            return;
        }
        item.decoded = std::move(decoded).value();
    }
    const bool counted = item.decoded.envelope.seq != 0;
    if (!self->queue_.push(std::move(item))) {
        self->queue_overflow_.fetch_add(1, std::memory_order_relaxed);
        // A counted stream reports the gap when its next message comes.
        if (!counted) self->unsequenced_overflow_.fetch_add(1, std::memory_order_relaxed);
    }
}

void NatsBridge::on_sub_complete(void* closure) {
    auto* self = static_cast<NatsBridge*>(closure);
    // Notified under the lock: stop() may return and destroy the bridge as
    // soon as it can take the lock and sees the count at 0.
    std::lock_guard lock(self->complete_mutex_);
    --self->live_subs_;
    self->complete_cv_.notify_all();
}

void NatsBridge::run() {
    std::deque<Inbound> batch;
    std::uint64_t reported_overflow = 0;
    while (queue_.take(batch)) {
        for (auto& item : batch) {
            if (stopping_) return;
            handle(item);
        }
        batch.clear();
        const auto overflow = unsequenced_overflow_.load(std::memory_order_relaxed);
        if (overflow != reported_overflow) {
            events_->on_remote_lost(NodeId{}, "nats (the bridge's queue was full)", overflow - reported_overflow);
            reported_overflow = overflow;
        }
    }
}

void NatsBridge::handle(Inbound& item) {
    switch (item.kind) {
        case Subjects::Kind::inbox: fail_tunnel(item.rest); return;
        case Subjects::Kind::message: {
            const auto& env = item.decoded.envelope;
            const auto verdict = streams_.next(env.bridge, item.subject, env.seq);
            if (verdict.lost != 0) {
                lost_.fetch_add(verdict.lost, std::memory_order_relaxed);
                events_->on_remote_lost(env.bridge, "nats '" + item.subject + "'", verdict.lost);
            }
            if (!verdict.deliver) {
                duplicates_.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            events_->on_remote_message(std::move(item.decoded.message));
            return;
        }
        case Subjects::Kind::node: {
            auto target = NodeId::parse(item.rest);
            if (!target) return;
            events_->on_remote_direct(*target, std::move(item.decoded.message));
            return;
        }
        case Subjects::Kind::tunnel:
            events_->on_remote_tunnel(item.rest, std::move(item.decoded.message));
            return;
        case Subjects::Kind::unknown: return;
    }
}

void NatsBridge::fail_tunnel(const std::string& message_id) {
    PendingTunnel pending;
    {
        std::lock_guard lock(tunnels_mutex_);
        auto it = tunnels_.find(message_id);
        if (it == tunnels_.end()) return;
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
