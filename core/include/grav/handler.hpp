#pragma once
// Handlers: what a pod runs for each message. A handler may return void
// (success), a Status (an error means failure: the message is delivered again
// once the pod succeeds again), or throw (treated as failure; the bus never
// crashes because of a handler).

#include <grav/error.hpp>
#include <grav/message.hpp>

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace grav {

using Handler = std::function<Status(const Message&)>;

template <class F>
concept MessageHandler = std::invocable<F&, const Message&> &&
    (std::is_void_v<std::invoke_result_t<F&, const Message&>> ||
     std::convertible_to<std::invoke_result_t<F&, const Message&>, Status>);

// Wraps any MessageHandler as a Handler; void means success.
template <MessageHandler F>
Handler make_handler(F&& f) {
    if constexpr (std::is_void_v<std::invoke_result_t<F&, const Message&>>) {
        return [fn = std::forward<F>(f)](const Message& m) mutable -> Status {
            fn(m);
            return success();
        };
    } else {
        return Handler(std::forward<F>(f));
    }
}

}  // namespace grav
