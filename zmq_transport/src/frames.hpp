#pragma once
// Multipart receive and send on a ZeroMQ socket, never blocking. Both report
// the use to the thread's SocketPoller: it may have consumed the signal on
// the socket's edge-triggered fd. A receive that finds nothing says so too:
// then the fd is honest again.

#include "socket_poller.hpp"

#include <zmq.hpp>

#include <array>
#include <cstddef>
#include <span>
#include <string_view>

namespace grav::zmq {

// Up to `capacity` frames of one ZeroMQ message; any further frames are
// read and discarded (and `overflow` says so), so a hostile multipart never
// leaves the socket mid-message.
struct Frames {
    static constexpr std::size_t capacity = 5;
    std::array<::zmq::message_t, capacity> part;
    std::size_t count = 0;
    bool overflow = false;

    [[nodiscard]] std::string_view text(std::size_t i) const {
        return {static_cast<const char*>(part[i].data()), part[i].size()};
    }
    [[nodiscard]] std::span<const std::byte> bytes(std::size_t i) const {
        return {static_cast<const std::byte*>(part[i].data()), part[i].size()};
    }
    [[nodiscard]] std::size_t total_size() const {
        std::size_t n = 0;
        for (std::size_t i = 0; i < count; ++i) n += part[i].size();
        return n;
    }
};

// False when nothing is waiting.
inline bool receive(::zmq::socket_t& socket, Frames& frames) {
    frames.count = 0;
    frames.overflow = false;
    SocketPoller::note_use(socket.handle());
    ::zmq::message_t scratch;
    if (!socket.recv(frames.part[0], ::zmq::recv_flags::dontwait)) {
        SocketPoller::note_drained(socket.handle());
        return false;
    }
    frames.count = 1;
    bool more = frames.part[0].more();
    while (more) {
        // The rest of a multipart message is already here: this never waits.
        auto& target = frames.count < Frames::capacity ? frames.part[frames.count] : scratch;
        if (!socket.recv(target, ::zmq::recv_flags::none)) break;
        if (frames.count < Frames::capacity) {
            ++frames.count;
        } else {
            frames.overflow = true;
        }
        more = target.more();
    }
    return true;
}

// Sends all frames or none: false (frames untouched) when the socket is at
// its high-water mark. A multipart message is atomic in ZeroMQ, so once the
// first frame is accepted the rest are too.
inline bool send_all(::zmq::socket_t& socket, std::span<::zmq::message_t> frames) {
    SocketPoller::note_use(socket.handle());
    for (std::size_t i = 0; i < frames.size(); ++i) {
        auto flags = ::zmq::send_flags::dontwait;
        if (i + 1 < frames.size()) flags = flags | ::zmq::send_flags::sndmore;
        if (!socket.send(frames[i], flags)) {
            if (i == 0) return false;
            // Cannot happen for the reasons above; the message is lost if it does.
            return true;
        }
    }
    return true;
}

}  // namespace grav::zmq
