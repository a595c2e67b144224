#pragma once
// What Pod::send returns: a handle on the replies to the sent message.
// The receipt is registered before the message is dispatched, so a reply can
// never arrive "too early": replies that come before anyone waits are kept
// (bounded) until wait_until / wait_on / on_reply takes them.

#include <grav/error.hpp>
#include <grav/handler.hpp>
#include <grav/message.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace grav {

namespace detail {
class ReplySlot;
}

class Receipt {
public:
    Receipt() = default;  // an empty receipt: every wait fails with Errc::invalid_argument
    explicit Receipt(std::shared_ptr<detail::ReplySlot> slot) : slot_(std::move(slot)) {}

    // The id of the message sent; replies carry it in reply_to.
    [[nodiscard]] MessageId id() const;
    // Ok when the message left; otherwise why not (e.g. a tunnel no peer serves).
    [[nodiscard]] Status status() const;

    // The first reply, or Errc::timeout once `timeout` has passed. Called
    // on a thread of yours, it does the transport's work while it waits
    // (Transport::serve_until), so a remote reply is read on this thread.
    [[nodiscard]] Result<Message> wait_until(std::chrono::milliseconds timeout) const;
    // Feeds replies to `handler` until it returns success (Ok), an error other
    // than not_wanted (returned), or the timeout passes (Errc::timeout).
    Status wait_until(std::chrono::milliseconds timeout, const Handler& handler) const;
    // As wait_until with no timeout: returns when the handler accepts a reply,
    // fails, or the bus closes.
    Status wait_on(const Handler& handler) const;
    // Calls `callback` for each reply, in arrival order and never concurrently
    // (replies that already arrived first), on the thread that delivers the
    // reply (the replier's worker, the network thread, or a thread that
    // does the network thread's work while it waits for a reply, see
    // docs/GUIDE.md). Replaces any
    // earlier callback. Keeps listening while the sending pod is connected,
    // even when this Receipt is destroyed.
    void on_reply(std::function<void(const Message&)> callback) const;

private:
    std::shared_ptr<detail::ReplySlot> slot_;
};

}  // namespace grav
