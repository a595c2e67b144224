#include <grav/log_throttle.hpp>

namespace grav {

LogThrottle::LogThrottle(std::chrono::milliseconds interval, std::size_t max_keys)
    : interval_(interval), max_keys_(max_keys == 0 ? 1 : max_keys) {}

LogThrottle::Slot& LogThrottle::slot_for(std::string_view key, Clock::time_point now, bool& fresh) {
    fresh = false;
    if (auto it = slots_.find(std::string(key)); it != slots_.end()) return it->second;
    if (slots_.size() >= max_keys_) {
        // Keys quiet for a whole interval would be admitted anyway: forget them.
        std::erase_if(slots_, [&](const auto& entry) {
            return entry.second.held_back == 0 && now - entry.second.last >= interval_;
        });
    }
    if (slots_.size() < max_keys_) {
        fresh = true;
        return slots_.emplace(std::string(key), Slot{now, 0}).first->second;
    }
    if (!overflow_) {
        fresh = true;
        overflow_ = Slot{now, 0};
    }
    return *overflow_;
}

std::optional<std::uint64_t> LogThrottle::admit(std::string_view key, Clock::time_point now) {
    bool fresh = false;
    Slot& slot = slot_for(key, now, fresh);
    if (fresh) return 0;
    if (now - slot.last < interval_) {
        ++slot.held_back;
        return std::nullopt;
    }
    const std::uint64_t held = slot.held_back;
    slot.last = now;
    slot.held_back = 0;
    return held;
}

std::string LogThrottle::annotate(std::string line, std::uint64_t held_back) const {
    if (held_back == 0) return line;
    return line + " (" + std::to_string(held_back) + " more like it since the last one)";
}

}  // namespace grav
