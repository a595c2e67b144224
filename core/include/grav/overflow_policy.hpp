#pragma once
#include <cstdint>

namespace grav {

// What a pod's bounded mailbox does when a message arrives and it is full.
// Whatever the policy, every message not delivered is counted in the stats.
enum class OverflowPolicy : std::uint8_t {
    block,        // the sender waits for room (backpressure); the default
    drop_oldest,  // the oldest queued message is discarded and counted
    disconnect,   // the pod is disconnected (reason: overflow) and its queue counted as dropped
};

const char* to_string(OverflowPolicy policy) noexcept;

}  // namespace grav
