#pragma once
// How a sent message is kept for resending (the send window's ring): its
// encoded control header (wire.hpp), then its type, then its payload, with
// no lengths stored: the window keeps the type's and the payload's sizes
// beside it. Never sent as such: a resend reads the parts back and frames
// them as RESENT (resend_wire.hpp).

#include "wire.hpp"

#include <cstddef>
#include <cstring>
#include <span>
#include <string_view>

namespace grav::zmq::wire {

[[nodiscard]] inline std::size_t retained_size(std::string_view type, std::span<const std::byte> payload) {
    return header_size + type.size() + payload.size();
}

// `out` is exactly retained_size(type, payload) bytes.
inline void write_retained(std::span<std::byte> out, const Header& header, std::string_view type,
                           std::span<const std::byte> payload) {
    const HeaderBytes bytes = encode_header(header);
    std::memcpy(out.data(), bytes.data(), bytes.size());
    std::memcpy(out.data() + header_size, type.data(), type.size());
    if (!payload.empty()) std::memcpy(out.data() + header_size + type.size(), payload.data(), payload.size());
}

// The parts of a retained message that starts at `at`.
struct RetainedView {
    std::span<const std::byte> header;
    std::string_view type;
    std::span<const std::byte> payload;
};
[[nodiscard]] inline RetainedView read_retained(const std::byte* at, std::size_t type_size,
                                                std::size_t payload_size) {
    const std::byte* type = at + header_size;
    return {std::span(at, header_size), std::string_view(reinterpret_cast<const char*>(type), type_size),
            std::span(type + type_size, payload_size)};
}

}  // namespace grav::zmq::wire
