#pragma once
// A Pod is one component's connection to the bus. Move-only; disconnects when
// destroyed. Its handler runs on the bus's worker pool, one message at a
// time, in order: never concurrently with itself.

#include <grav/error.hpp>
#include <grav/handler.hpp>
#include <grav/message.hpp>
#include <grav/receipt.hpp>
#include <grav/stats.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace grav {

namespace detail {
class BusCore;
class PodState;
class TypeFilter;
}  // namespace detail

enum class DisconnectReason : std::uint8_t {
    by_user,        // disconnect() or destruction
    failures,       // its failed messages reached the high-water mark
    overflow,       // its mailbox overflowed under OverflowPolicy::disconnect
    bus_stopped,    // the bus stopped
};

const char* to_string(DisconnectReason reason) noexcept;

class Pod {
public:
    Pod(Pod&&) noexcept;
    Pod& operator=(Pod&&) noexcept;
    Pod(const Pod&) = delete;
    Pod& operator=(const Pod&) = delete;
    ~Pod();

    // Sends to every other pod on this bus and, with a transport, to peers
    // whose pods want the type. Stamps origin. Never waits for handlers;
    // under OverflowPolicy::block it may wait for mailbox room (not when
    // called from a handler: see README, "Backpressure").
    Receipt send(Message message);
    // Sends `reply` as the answer to `request` (sets reply_to and parent_id).
    // A reply to a message from another node goes to that node only.
    Receipt reply_to(const Message& request, Message reply);
    // Future-style request: the first reply, or Errc::timeout after `timeout`.
    std::future<Result<Message>> request(Message message, std::chrono::milliseconds timeout);
    // Sends to exactly one peer that advertised `capability`, round-robin,
    // trying the next when one fails. The receipt fails at once with
    // Errc::no_peer when no peer offers it.
    Receipt tunnel(std::string_view capability, Message message);

    // Replaces the handler for every message.
    template <MessageHandler F>
    void on(F&& handler) {
        set_handler(make_handler(std::forward<F>(handler)));
    }
    // Replaces the handler, for the types `pattern` matches (grav/type_pattern.hpp,
    // the grammar of NATS subjects): "chat.line" that type, "chat.*" one more
    // token ("chat.line", not "chat.line.x"), "chat.>" one or more, "a.*.c",
    // ">" every type. A pattern that can match nothing ("chat*", "a..b",
    // "a.>.b", "") is refused (Errc::invalid_argument, with the reason) and
    // the previous handler stays; a disconnected pod gives Errc::disconnected.
    template <MessageHandler F>
    Status on_type(std::string_view pattern, F&& handler) {
        return set_handler(pattern, make_handler(std::forward<F>(handler)));
    }

    // Blocks until a message arrives for which `handler` returns success
    // (returns ok) or an error other than not_wanted (returns that error).
    // The pod's own handler is set aside meanwhile and restored after.
    Status wait_on(const Handler& handler);
    Status wait_until(std::chrono::milliseconds timeout, const Handler& handler);

    // Leaves the bus. Waits for a running handler to finish unless called
    // from that handler. Idempotent.
    void disconnect();
    [[nodiscard]] bool connected() const noexcept;
    [[nodiscard]] std::optional<DisconnectReason> disconnect_reason() const;
    // Called once, on a bus worker or the disconnecting thread, when the pod
    // is disconnected for any reason.
    void on_disconnect(std::function<void(DisconnectReason)> callback);

    [[nodiscard]] PodStats stats() const;
    [[nodiscard]] std::uint64_t id() const noexcept;

private:
    friend class Bus;
    friend class detail::BusCore;
    Pod(std::shared_ptr<detail::BusCore> core, std::shared_ptr<detail::PodState> state);
    void set_handler(Handler handler);
    Status set_handler(std::string_view pattern, Handler handler);
    Status install(detail::TypeFilter filter, Handler handler);

    std::shared_ptr<detail::BusCore> core_;
    std::shared_ptr<detail::PodState> state_;
};

}  // namespace grav
