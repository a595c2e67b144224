#include <grav/error.hpp>
#include <grav/overflow_policy.hpp>

namespace grav {

const char* to_string(Errc code) noexcept {
    switch (code) {
        case Errc::timeout: return "timeout";
        case Errc::closed: return "closed";
        case Errc::disconnected: return "disconnected";
        case Errc::no_peer: return "no peer";
        case Errc::rejected: return "rejected";
        case Errc::invalid_argument: return "invalid argument";
        case Errc::handler_failed: return "handler failed";
        case Errc::not_wanted: return "not wanted";
        case Errc::decode_failed: return "decode failed";
        case Errc::transport_failed: return "transport failed";
    }
    return "unknown error";
}

const char* to_string(OverflowPolicy policy) noexcept {
    switch (policy) {
        case OverflowPolicy::block: return "block";
        case OverflowPolicy::drop_oldest: return "drop_oldest";
        case OverflowPolicy::disconnect: return "disconnect";
    }
    return "unknown";
}

}  // namespace grav
