#pragma once
// Grav's failure rule for one pod: a message its handler failed is kept, and
// once the handler succeeds again what it failed is handed to it again,
// oldest first. Touched only by the worker running the pod (PodState's
// one-worker-at-a-time rule), so it takes no lock.
//
// A vector, not a deque: an empty deque allocates, and most pods never fail.
// It stays short: the pod is disconnected at the high-water mark.

#include <grav/handler.hpp>
#include <grav/message.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace grav::detail {

class TypeFilter;

class FailureReplay {
public:
    // What one replay did, for the pod's counters.
    struct Outcome {
        std::uint64_t redelivered = 0;  // handled this time
        std::uint64_t failed = 0;       // failed again (the replay stops there)
        std::uint64_t dropped = 0;      // no longer wanted by the handler
    };

    void record(MessagePtr message) { failed_.push_back(std::move(message)); }
    [[nodiscard]] std::size_t size() const noexcept { return failed_.size(); }
    [[nodiscard]] bool empty() const noexcept { return failed_.empty(); }

    // After a success: hands the kept messages to `handler` in order until
    // one fails again. Those `filter` no longer matches are dropped.
    Outcome replay(const TypeFilter& filter, const Handler& handler);
    // Forgets every kept message; returns how many (they are drops).
    std::size_t clear() noexcept;

private:
    std::vector<MessagePtr> failed_;
};

// Runs `fn` on `m`; a throw becomes Errc::handler_failed with its reason.
Status invoke_handler(const Handler& fn, const Message& m) noexcept;

}  // namespace grav::detail
