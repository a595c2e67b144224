#include "peer_directory.hpp"

#include <algorithm>

namespace grav::cli {

void PeerDirectory::on_event(const PeerEvent& event) {
    const std::lock_guard lock(mutex_);
    if (event.kind == PeerEvent::Kind::lost_messages || event.kind == PeerEvent::Kind::unsent)
        return;  // the peer itself did not change
    auto& record = peers_[event.peer.id];
    if (event.kind == PeerEvent::Kind::joined) {
        record = PeerRecord{event.peer, true, std::nullopt, event.detail, std::chrono::steady_clock::now()};
    } else {
        // A leave event may carry less than the join did: keep what we knew.
        if (record.info.id.is_nil()) record.info = event.peer;
        record.ready = false;
        record.reason = event.reason;
        record.detail = event.detail;
        record.changed = std::chrono::steady_clock::now();
    }
    if (listener_) listener_(event);
    changed_.notify_all();
}

void PeerDirectory::add_ready(const std::vector<PeerInfo>& peers) {
    const std::lock_guard lock(mutex_);
    for (const auto& peer : peers)
        if (!peers_.contains(peer.id))
            peers_[peer.id] = PeerRecord{peer, true, std::nullopt, {}, std::chrono::steady_clock::now()};
    changed_.notify_all();
}

void PeerDirectory::set_listener(std::function<void(const PeerEvent&)> listener) {
    const std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
}

std::string PeerDirectory::name_of(const NodeId& id) const {
    const std::lock_guard lock(mutex_);
    const auto it = peers_.find(id);
    if (it == peers_.end() || it->second.info.name.empty()) return id.short_str();
    return it->second.info.name;
}

std::string PeerDirectory::origin_name(const NodeId& id, std::chrono::milliseconds patience) {
    std::unique_lock lock(mutex_);
    if (!peers_.contains(id) && !waited_for_.contains(id)) {
        if (!changed_.wait_for(lock, patience, [&] { return peers_.contains(id); })) waited_for_.insert(id);
    }
    const auto it = peers_.find(id);
    if (it == peers_.end() || it->second.info.name.empty()) return id.short_str();
    return it->second.info.name;
}

std::vector<PeerRecord> PeerDirectory::snapshot() const {
    const std::lock_guard lock(mutex_);
    std::vector<PeerRecord> out;
    out.reserve(peers_.size());
    for (const auto& [id, record] : peers_) out.push_back(record);
    return out;
}

std::size_t PeerDirectory::ready_count_locked(const std::string& interest) const {
    return static_cast<std::size_t>(std::count_if(peers_.begin(), peers_.end(), [&](const auto& entry) {
        const PeerRecord& r = entry.second;
        if (!r.ready) return false;
        if (interest.empty()) return true;
        return std::find(r.info.interests.begin(), r.info.interests.end(), interest) !=
               r.info.interests.end();
    }));
}

WaitResult PeerDirectory::wait_for_peers(std::size_t count, const std::string& interest,
                                         std::chrono::milliseconds timeout, Interrupt& interrupt) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    while (ready_count_locked(interest) < count) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) return WaitResult::timeout;
        // Short slices so that Ctrl-C is noticed promptly.
        changed_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(deadline - now,
                                                                              std::chrono::milliseconds(50)));
        lock.unlock();
        const bool interrupted = interrupt.requested();
        lock.lock();
        if (interrupted) return WaitResult::interrupted;
    }
    return WaitResult::ok;
}

WaitResult PeerDirectory::wait_until_settled(const std::function<std::vector<NodeId>()>& heard,
                                             std::chrono::milliseconds timeout, Interrupt& interrupt,
                                             std::vector<NodeId>& missing) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        missing = heard();
        {
            std::unique_lock lock(mutex_);
            std::erase_if(missing, [&](const NodeId& id) {
                const auto it = peers_.find(id);
                return it != peers_.end() && it->second.ready;
            });
            if (missing.empty()) return WaitResult::ok;
            const auto now = std::chrono::steady_clock::now();
            if (now >= deadline) return WaitResult::timeout;
            // Discovery does not notify us: short slices catch a newly heard
            // node, and Ctrl-C, promptly.
            changed_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(
                                        deadline - now, std::chrono::milliseconds(20)));
        }
        if (interrupt.requested()) return WaitResult::interrupted;
    }
}

}  // namespace grav::cli
