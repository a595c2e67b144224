#include "freshness.hpp"

namespace grav::beacon {

FreshnessGuard::Verdict FreshnessGuard::check(const NodeId& node, std::uint64_t stamp, std::uint64_t now_ms) {
    const std::uint64_t oldest = now_ms > tolerance_ms_ ? now_ms - tolerance_ms_ : 0;
    if (stamp < oldest || stamp > now_ms + tolerance_ms_) return Verdict::stale;
    if (auto it = latest_.find(node); it != latest_.end()) {
        if (stamp < it->second) return Verdict::replayed;
        if (stamp == it->second) return Verdict::duplicate;
        it->second = stamp;
        return Verdict::fresh;
    }
    if (latest_.size() >= capacity_) {
        // A node last heard before the tolerance needs no memory: any stamp
        // at or below its latest is stale by now anyway.
        std::erase_if(latest_, [&](const auto& entry) { return entry.second < oldest; });
        if (latest_.size() >= capacity_) return Verdict::full;
    }
    latest_.emplace(node, stamp);
    return Verdict::fresh;
}

std::uint64_t wall_clock_ms() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace grav::beacon
