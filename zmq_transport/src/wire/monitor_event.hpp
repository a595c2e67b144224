#pragma once
// The first frame of a libzmq socket-monitor message (zmq_socket_monitor):
// a 16-bit event id and a 32-bit value, in the host's byte order. Not grav's
// protocol, but bytes all the same, so they are read here and nowhere else.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

namespace grav::zmq::wire {

struct MonitorEvent {
    std::uint16_t event = 0;
    std::uint32_t value = 0;
};

// Nothing for a frame too short to hold one.
[[nodiscard]] inline std::optional<MonitorEvent> read_monitor_event(const void* frame, std::size_t size) {
    MonitorEvent e;
    if (size < sizeof e.event + sizeof e.value) return std::nullopt;
    std::memcpy(&e.event, frame, sizeof e.event);
    std::memcpy(&e.value, static_cast<const std::byte*>(frame) + sizeof e.event, sizeof e.value);
    return e;
}

}  // namespace grav::zmq::wire
