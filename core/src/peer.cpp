#include <grav/peer.hpp>

namespace grav {

bool groups_match(const std::string& a, const std::string& b) noexcept {
    return a == "*" || b == "*" || a == b;
}

const char* to_string(LeaveReason reason) noexcept {
    switch (reason) {
        case LeaveReason::withdrew: return "withdrew";
        case LeaveReason::timed_out: return "timed out";
        case LeaveReason::refused: return "refused";
        case LeaveReason::replaced: return "replaced";
        case LeaveReason::local_stop: return "local stop";
    }
    return "unknown";
}

}  // namespace grav
