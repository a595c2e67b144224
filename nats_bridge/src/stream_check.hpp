#pragma once
// Checks the count (Grav-Seq) that each bridge puts on each subject it
// publishes, as the messages come in: the next one is delivered, an old one
// is a duplicate (dropped), a jump is a gap whose size is reported as lost.
// The first message seen from a bridge on a subject starts its count. Bounded:
// past `capacity` streams every count starts again (no gap is invented).

#include <grav/id.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace grav::nats::detail {

class StreamCheck {
public:
    explicit StreamCheck(std::size_t capacity = 65536) : capacity_(capacity) {}

    struct Verdict {
        bool deliver = true;
        std::uint64_t lost = 0;  // messages missing just before this one
    };

    Verdict next(const NodeId& bridge, const std::string& subject, std::uint64_t seq) {
        if (seq == 0 || bridge.is_nil()) return {};
        if (last_.size() >= capacity_) last_.clear();
        auto [it, fresh] = last_.try_emplace(std::make_pair(bridge, subject), seq);
        if (fresh) return {};
        std::uint64_t& last = it->second;
        if (seq <= last) return {false, 0};
        const std::uint64_t lost = seq - last - 1;
        last = seq;
        return {true, lost};
    }

private:
    const std::size_t capacity_;
    std::map<std::pair<NodeId, std::string>, std::uint64_t> last_;
};

}  // namespace grav::nats::detail
