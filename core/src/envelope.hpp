#pragma once
#include <grav/message.hpp>

#include <cstdint>

namespace grav::detail {

// A message on its way to one pod: the shared message, the bus-wide dispatch
// sequence number (cuts replayed history from live traffic; 0 = never cut)
// and the local pod that sent it (0 = another node), so a pod never receives
// what it sent itself.
struct Envelope {
    MessagePtr message;
    std::uint64_t seq = 0;
    std::uint64_t sender = 0;
};

}  // namespace grav::detail
