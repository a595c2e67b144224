#pragma once
// Where the bus's PeerEvents go (Bus::on_peer): one callback, replaced by
// set(), called by emit() from whichever thread reports (the network thread,
// the bridge's thread, a thread in withdraw/stop). The callback runs outside
// the lock, and a throwing callback never reaches the reporting thread.

#include <grav/peer.hpp>

#include <functional>
#include <mutex>

namespace grav::detail {

class PeerEvents {
public:
    void set(std::function<void(const PeerEvent&)> callback) {
        std::lock_guard lock(mutex_);
        callback_ = std::move(callback);
    }

    void emit(const PeerEvent& event) const {
        std::function<void(const PeerEvent&)> callback;
        {
            std::lock_guard lock(mutex_);
            callback = callback_;
        }
        if (!callback) return;
        try {
            callback(event);
        } catch (...) {
            // The reporting thread must survive a throwing user callback.
        }
    }

private:
    mutable std::mutex mutex_;
    std::function<void(const PeerEvent&)> callback_;
};

}  // namespace grav::detail
