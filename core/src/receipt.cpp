#include "reply_slot.hpp"

#include "bus_core.hpp"
#include "pod_state.hpp"

#include <grav/receipt.hpp>

#include <thread>

namespace grav {
namespace detail {

ReplySlot::~ReplySlot() {
    if (auto core = core_.lock()) core->unregister_reply(id_, this);
}

void ReplySlot::detach_from_bus() noexcept { core_.reset(); }

void ReplySlot::deliver(const MessagePtr& reply) { (void)deliver(reply, true); }

bool ReplySlot::try_deliver(const MessagePtr& reply) { return deliver(reply, false); }

bool ReplySlot::deliver(const MessagePtr& reply, bool callbacks) {
    std::unique_lock lock(mutex_);
    if (callback_ && !callbacks) return false;
    if (closed_) return true;
    if (replies_.size() - replies_head_ >= max_buffered_) {
        // Bounded: the oldest unclaimed reply makes room, and it is counted.
        take_reply();
        ++overflowed_;
    }
    replies_.push_back(reply);
    arrivals_.fetch_add(1, std::memory_order_release);
    if (callback_) {
        drain_to_callback(lock);
    } else {
        lock.unlock();
        arrived_.notify_all();
        interrupt_server();
    }
    return true;
}

MessagePtr ReplySlot::take_reply() {
    MessagePtr next = std::move(replies_[replies_head_++]);
    if (replies_head_ == replies_.size()) {
        replies_.clear();
        replies_head_ = 0;
    }
    return next;
}

void ReplySlot::drain_to_callback(std::unique_lock<std::mutex>& lock) {
    // One thread at a time feeds the callback, so replies are seen in order.
    if (calling_back_) return;
    calling_back_ = true;
    while (has_reply() && callback_) {
        MessagePtr next = take_reply();
        auto callback = callback_;
        lock.unlock();
        try {
            callback(*next);
        } catch (...) {
            // A callback must not take the bus down; the reply was handed over.
        }
        lock.lock();
    }
    calling_back_ = false;
}

void ReplySlot::close(Error reason) {
    std::function<void(const Error&)> on_close;
    {
        std::lock_guard lock(mutex_);
        if (closed_) return;
        closed_ = reason;
        arrivals_.fetch_add(1, std::memory_order_release);
        on_close = std::move(on_close_);
    }
    arrived_.notify_all();
    interrupt_server();
    if (on_close) on_close(reason);
}

void ReplySlot::fail_send(Error reason) {
    {
        std::lock_guard lock(mutex_);
        send_error_ = reason;
    }
    close(std::move(reason));
}

void ReplySlot::set_close_callback(std::function<void(const Error&)> callback) {
    std::unique_lock lock(mutex_);
    if (closed_) {
        Error reason = *closed_;
        lock.unlock();
        callback(reason);
        return;
    }
    on_close_ = std::move(callback);
}

Status ReplySlot::send_status() const {
    std::lock_guard lock(mutex_);
    if (send_error_) return *send_error_;
    return success();
}

void ReplySlot::serve_for_arrival(std::unique_lock<std::mutex>& lock,
                                  std::optional<std::chrono::steady_clock::time_point> deadline) {
    auto core = core_.lock();
    if (!core) return;
    const auto seen = arrivals_.load(std::memory_order_acquire);
    server_.store(std::this_thread::get_id());
    lock.unlock();
    // A wait with no deadline serves in slices: it never holds the loop for
    // ever, and comes back here (then sleeps) only if no reply came.
    const auto until = deadline.value_or(std::chrono::steady_clock::now() + std::chrono::seconds(1));
    (void)core->serve_until([&] { return arrivals_.load(std::memory_order_acquire) != seen; }, until);
    // Only if still ours: two threads may wait on one receipt.
    auto self = std::this_thread::get_id();
    server_.compare_exchange_strong(self, std::thread::id{});
    lock.lock();
}

void ReplySlot::interrupt_server() const {
    const auto server = server_.load();
    // The server itself read the reply: it sees it without being woken.
    if (server == std::thread::id{} || server == std::this_thread::get_id()) return;
    if (auto core = core_.lock()) core->interrupt_serve();
}

Result<Message> ReplySlot::wait_first(std::optional<std::chrono::steady_clock::time_point> deadline) {
    std::unique_lock lock(mutex_);
    bool served = false;
    for (;;) {
        if (has_reply()) {
            MessagePtr first = take_reply();
            return Message(*first);
        }
        if (closed_) return *closed_;
        if (!served) {
            served = true;
            serve_for_arrival(lock, deadline);
            continue;
        }
        if (!deadline) {
            arrived_.wait(lock);
        } else if (arrived_.wait_until(lock, *deadline) == std::cv_status::timeout && !has_reply() &&
                   !closed_) {
            return Error(Errc::timeout, "no reply to " + id_.str() + " before the deadline");
        }
    }
}

Status ReplySlot::wait_accepted(std::optional<std::chrono::steady_clock::time_point> deadline,
                                const Handler& handler) {
    std::unique_lock lock(mutex_);
    bool served = false;
    for (;;) {
        while (has_reply()) {
            MessagePtr next = take_reply();
            lock.unlock();
            Status verdict = [&]() -> Status {
                try {
                    return handler(*next);
                } catch (const std::exception& e) {
                    return Error(Errc::handler_failed, e.what());
                } catch (...) {
                    return Error(Errc::handler_failed, "unknown exception");
                }
            }();
            if (verdict.ok()) return verdict;
            if (verdict.error().code() != Errc::not_wanted) return verdict;
            lock.lock();
        }
        if (closed_) return *closed_;
        if (!served) {
            served = true;
            serve_for_arrival(lock, deadline);
            continue;
        }
        if (!deadline) {
            arrived_.wait(lock);
        } else if (arrived_.wait_until(lock, *deadline) == std::cv_status::timeout && !has_reply() &&
                   !closed_) {
            return Error(Errc::timeout, "no accepted reply to " + id_.str() + " before the deadline");
        }
    }
}

void ReplySlot::set_callback(std::function<void(const Message&)> callback) {
    std::unique_lock lock(mutex_);
    callback_ = std::move(callback);
    if (callback_) drain_to_callback(lock);
}

}  // namespace detail

namespace {
Error empty_receipt() {
    return {Errc::invalid_argument, "empty receipt (default-constructed or moved from)"};
}
auto deadline_after(std::chrono::milliseconds timeout) { return std::chrono::steady_clock::now() + timeout; }
}  // namespace

MessageId Receipt::id() const { return slot_ ? slot_->id() : MessageId{}; }

Status Receipt::status() const {
    if (!slot_) return empty_receipt();
    return slot_->send_status();
}

Result<Message> Receipt::wait_until(std::chrono::milliseconds timeout) const {
    if (!slot_) return empty_receipt();
    return slot_->wait_first(deadline_after(timeout));
}

Status Receipt::wait_until(std::chrono::milliseconds timeout, const Handler& handler) const {
    if (!slot_) return empty_receipt();
    return slot_->wait_accepted(deadline_after(timeout), handler);
}

Status Receipt::wait_on(const Handler& handler) const {
    if (!slot_) return empty_receipt();
    return slot_->wait_accepted(std::nullopt, handler);
}

void Receipt::on_reply(std::function<void(const Message&)> callback) const {
    if (!slot_) return;
    // Keep listening while the sending pod lives, even if this receipt is dropped.
    if (auto pod = slot_->owner_pod()) pod->pin(slot_);
    slot_->set_callback(std::move(callback));
}

}  // namespace grav
