#include "bus_core.hpp"
#include "hub.hpp"
#include "pod_access.hpp"
#include "pod_state.hpp"
#include "reply_slot.hpp"

#include <grav/pod.hpp>

namespace grav {
namespace {

Receipt failed_receipt(const Message& m, Error why) {
    auto slot = std::make_shared<detail::ReplySlot>(m.id(), std::weak_ptr<detail::BusCore>{},
                                                    std::shared_ptr<detail::PodState>{}, 1);
    slot->fail_send(std::move(why));
    return Receipt(std::move(slot));
}

Error pod_gone() { return {Errc::disconnected, "the pod is disconnected"}; }

}  // namespace

const char* to_string(DisconnectReason reason) noexcept {
    switch (reason) {
        case DisconnectReason::by_user: return "disconnected by its owner";
        case DisconnectReason::failures: return "too many failed messages";
        case DisconnectReason::overflow: return "mailbox overflow";
        case DisconnectReason::bus_stopped: return "bus stopped";
    }
    return "unknown";
}

Pod::Pod(std::shared_ptr<detail::BusCore> core, std::shared_ptr<detail::PodState> state)
    : core_(std::move(core)), state_(std::move(state)) {}

Pod::Pod(Pod&&) noexcept = default;

Pod& Pod::operator=(Pod&& other) noexcept {
    if (this != &other) {
        disconnect();
        core_ = std::move(other.core_);
        state_ = std::move(other.state_);
    }
    return *this;
}

Pod::~Pod() { disconnect(); }

Receipt Pod::send(Message message) {
    if (!state_ || !state_->connected()) return failed_receipt(message, pod_gone());
    PodAccess::stamp_origin(message, core_->node_id());
    auto shared = std::make_shared<const Message>(std::move(message));
    auto slot = core_->register_reply(shared->id(), state_);
    if (auto s = core_->publish(*state_, shared); !s) slot->fail_send(s.error());
    return Receipt(std::move(slot));
}

Receipt Pod::reply_to(const Message& request, Message reply) {
    if (!state_ || !state_->connected()) return failed_receipt(reply, pod_gone());
    PodAccess::stamp_origin(reply, core_->node_id());
    PodAccess::make_reply(reply, request);
    auto shared = std::make_shared<const Message>(std::move(reply));
    auto slot = core_->register_reply(shared->id(), state_);
    if (auto s = core_->reply(*state_, shared, request.origin()); !s) slot->fail_send(s.error());
    return Receipt(std::move(slot));
}

std::future<Result<Message>> Pod::request(Message message, std::chrono::milliseconds timeout) {
    // One shared "done" flag: the reply, the timeout and a closing bus race to
    // fulfil the promise; the first wins and the others do nothing.
    struct Pending {
        std::promise<Result<Message>> promise;
        std::atomic<bool> done{false};
        detail::TimerQueue::TimerId timer = 0;
        std::mutex timer_mutex;
        void finish(Result<Message> r) {
            if (!done.exchange(true)) promise.set_value(std::move(r));
        }
    };
    auto pending = std::make_shared<Pending>();
    auto future = pending->promise.get_future();
    if (!state_ || !state_->connected()) {
        pending->finish(pod_gone());
        return future;
    }
    PodAccess::stamp_origin(message, core_->node_id());
    auto shared = std::make_shared<const Message>(std::move(message));
    auto slot = core_->register_reply(shared->id(), state_);
    std::weak_ptr<detail::BusCore> weak_core = core_;

    // The timer owns the slot until the deadline; a reply cancels the timer,
    // which releases the slot at once.
    {
        std::lock_guard lock(pending->timer_mutex);
        pending->timer = core_->timers().schedule(
            std::chrono::steady_clock::now() + timeout, [pending, slot, timeout] {
                pending->finish(Error(Errc::timeout, "no reply to " + slot->id().str() + " within " +
                                                         std::to_string(timeout.count()) + " ms"));
            });
    }
    auto cancel_timer = [pending, weak_core] {
        detail::TimerQueue::TimerId id = 0;
        {
            std::lock_guard lock(pending->timer_mutex);
            id = pending->timer;
        }
        if (auto core = weak_core.lock()) core->timers().cancel(id);
    };
    slot->set_callback([pending, cancel_timer](const Message& reply) {
        pending->finish(Message(reply));
        cancel_timer();
    });
    slot->set_close_callback([pending, cancel_timer](const Error& why) {
        pending->finish(why);
        cancel_timer();
    });
    if (auto s = core_->publish(*state_, shared); !s) slot->fail_send(s.error());
    return future;
}

Receipt Pod::tunnel(std::string_view capability, Message message) {
    if (!state_ || !state_->connected()) return failed_receipt(message, pod_gone());
    if (capability.empty()) return failed_receipt(message, Error(Errc::invalid_argument, "empty capability"));
    PodAccess::stamp_origin(message, core_->node_id());
    auto shared = std::make_shared<const Message>(std::move(message));
    auto slot = core_->register_reply(shared->id(), state_);
    if (core_->closed()) {
        slot->fail_send(Error(Errc::closed, "the bus is stopped"));
    } else {
        state_->count_sent();
        core_->tunnel(std::string(capability), shared, slot);
    }
    return Receipt(std::move(slot));
}

void Pod::set_handler(Handler handler) { (void)install(detail::TypeFilter(), std::move(handler)); }

Status Pod::set_handler(std::string_view pattern, Handler handler) {
    auto parsed = TypePattern::parse(pattern);
    if (!parsed) return parsed.error();  // the previous handler stays
    return install(detail::TypeFilter(std::move(parsed).value()), std::move(handler));
}

Status Pod::install(detail::TypeFilter filter, Handler handler) {
    if (!state_) return pod_gone();
    auto changed = state_->set_handler(std::move(filter), std::move(handler));
    if (!changed) return pod_gone();
    core_->pod_changed(*state_, changed->first, changed->second);
    return success();
}

Status Pod::wait_on(const Handler& handler) {
    if (!state_) return pod_gone();
    return state_->wait(handler, std::nullopt);
}

Status Pod::wait_until(std::chrono::milliseconds timeout, const Handler& handler) {
    if (!state_) return pod_gone();
    return state_->wait(handler, std::chrono::steady_clock::now() + timeout);
}

void Pod::disconnect() {
    if (state_) state_->disconnect(DisconnectReason::by_user, true);
}

bool Pod::connected() const noexcept { return state_ && state_->connected(); }

std::optional<DisconnectReason> Pod::disconnect_reason() const {
    if (!state_) return DisconnectReason::by_user;
    return state_->disconnect_reason();
}

void Pod::on_disconnect(std::function<void(DisconnectReason)> callback) {
    if (state_) state_->on_disconnect(std::move(callback));
}

PodStats Pod::stats() const { return state_ ? state_->stats() : PodStats{}; }

std::uint64_t Pod::id() const noexcept { return state_ ? state_->id() : 0; }

}  // namespace grav
