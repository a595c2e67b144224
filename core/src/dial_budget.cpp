#include "dial_budget.hpp"

namespace grav::detail {

DialBudget::Take DialBudget::take(const NodeId& peer, const std::string& host, std::uint64_t* serial) {
    const std::lock_guard lock(mutex_);
    if (dials_.contains(peer)) return Take::in_flight;
    auto& on_host = per_host_count_[host];
    if (dials_.size() >= total_ || on_host >= per_host_) {
        if (on_host == 0) per_host_count_.erase(host);
        return Take::full;
    }
    ++on_host;
    dials_.emplace(peer, Dial{host, ++next_serial_});
    if (serial != nullptr) *serial = next_serial_;
    return Take::taken;
}

bool DialBudget::release(const NodeId& peer) { return release_matching(peer, std::nullopt); }

bool DialBudget::release_if(const NodeId& peer, std::uint64_t serial) { return release_matching(peer, serial); }

bool DialBudget::release_matching(const NodeId& peer, std::optional<std::uint64_t> serial) {
    const std::lock_guard lock(mutex_);
    const auto it = dials_.find(peer);
    if (it == dials_.end() || (serial && it->second.serial != *serial)) return false;
    const auto host = per_host_count_.find(it->second.host);
    if (host != per_host_count_.end() && --host->second == 0) per_host_count_.erase(host);
    dials_.erase(it);
    return true;
}

std::size_t DialBudget::in_flight() const {
    const std::lock_guard lock(mutex_);
    return dials_.size();
}

}  // namespace grav::detail
