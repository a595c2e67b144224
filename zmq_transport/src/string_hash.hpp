#pragma once
// A transparent hash for maps keyed by std::string: look-ups by
// std::string_view make no temporary string (with std::equal_to<>).

#include <cstddef>
#include <functional>
#include <string_view>

namespace grav::zmq {

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace grav::zmq
