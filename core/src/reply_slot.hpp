#pragma once
// The shared state behind a Receipt. Registered with the bus *before* the
// request is dispatched, so a reply that arrives before anyone waits is kept
// here instead of being lost (the race the Go original has).

#include <grav/error.hpp>
#include <grav/handler.hpp>
#include <grav/message.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace grav::detail {

class BusCore;
class PodState;

class ReplySlot {
public:
    ReplySlot(const MessageId& id, std::weak_ptr<BusCore> core, const std::shared_ptr<PodState>& owner,
              std::size_t max_buffered)
        : id_(id),
          core_(std::move(core)),
          owner_(owner),
          owner_raw_(owner.get()),
          max_buffered_(max_buffered) {}
    ~ReplySlot();  // unregisters from the bus
    ReplySlot(const ReplySlot&) = delete;
    ReplySlot& operator=(const ReplySlot&) = delete;

    [[nodiscard]] const MessageId& id() const noexcept { return id_; }
    // The pod that sent the request (compared, never dereferenced, by dispatch).
    [[nodiscard]] const PodState* owner() const noexcept { return owner_raw_; }
    [[nodiscard]] std::shared_ptr<PodState> owner_pod() const { return owner_.lock(); }

    // From the bus: a reply arrived. Runs the on_reply callback (in order,
    // never concurrently) or buffers it for a waiter.
    void deliver(const MessagePtr& reply);
    // deliver() unless an on_reply callback would run (on this thread): then
    // false, nothing done.
    bool try_deliver(const MessagePtr& reply);
    // From the bus: no reply can come any more (bus closed, send failed).
    void close(Error reason);
    // Records that the request could not be sent.
    void fail_send(Error reason);
    [[nodiscard]] Status send_status() const;

    Result<Message> wait_first(std::optional<std::chrono::steady_clock::time_point> deadline);
    Status wait_accepted(std::optional<std::chrono::steady_clock::time_point> deadline,
                         const Handler& handler);
    void set_callback(std::function<void(const Message&)> callback);
    // Called once if the slot closes (bus stopped, send failed) — for request().
    void set_close_callback(std::function<void(const Error&)> callback);

    // Unregistering happens in the destructor; the bus calls this when the
    // bus itself goes away first.
    void detach_from_bus() noexcept;

private:
    bool deliver(const MessagePtr& reply, bool callbacks);
    [[nodiscard]] bool has_reply() const noexcept { return replies_head_ < replies_.size(); }
    MessagePtr take_reply();
    void drain_to_callback(std::unique_lock<std::mutex>& lock);
    // Before sleeping on arrived_: runs the transport's loop until a reply
    // or close arrives (Transport::serve_until), with the lock released, so
    // a reply from another node is read on this thread instead of being
    // handed to it. Returns at once without a transport.
    void serve_for_arrival(std::unique_lock<std::mutex>& lock,
                           std::optional<std::chrono::steady_clock::time_point> deadline);
    // After an arrival: a thread serving the loop for it must look.
    void interrupt_server() const;

    const MessageId id_;
    std::weak_ptr<BusCore> core_;
    std::weak_ptr<PodState> owner_;
    const PodState* owner_raw_;
    const std::size_t max_buffered_;

    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    // Bumped (with mutex_ held) on every reply and on close: what a
    // serving waiter watches.
    std::atomic<std::uint32_t> arrivals_{0};
    // The thread serving the transport's loop while it waits, if any.
    std::atomic<std::thread::id> server_{};
    // Replies not yet taken, oldest first from replies_head_. A vector, not
    // a deque: a receipt is made per send, and an empty deque allocates.
    std::vector<MessagePtr> replies_;
    std::size_t replies_head_ = 0;
    std::function<void(const Error&)> on_close_;
    std::function<void(const Message&)> callback_;
    bool calling_back_ = false;
    std::optional<Error> closed_;
    std::optional<Error> send_error_;
    std::size_t overflowed_ = 0;
};

}  // namespace grav::detail
