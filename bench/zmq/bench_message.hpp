#pragma once
// The message the ZeroMQ benchmarks publish and send: type "bench", a fresh
// id and timestamp, the given payload (the same for raw libzmq's figures).
#include <grav/message.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace grav::bench {

inline MessagePtr message(const NodeId& origin, std::string_view payload) {
    MessageHeader h{.id = MessageId::random(),
                    .parent_id = {},
                    .reply_to = {},
                    .type = "bench",
                    .timestamp = Clock::now(),
                    .origin = origin};
    return std::make_shared<const Message>(std::move(h), std::string(payload));
}

}  // namespace grav::bench
