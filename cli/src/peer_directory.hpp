#pragma once
// What this node knows about its peers, fed by Bus::on_peer: names for
// printing, who offers which interest, and bounded waits for peers to appear
// (a `pub` right after start-up must wait for a subscriber to be ready, or
// its message reaches nobody).

#include "interrupt.hpp"

#include <grav/peer.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace grav::cli {

struct PeerRecord {
    PeerInfo info;
    bool ready = true;                  // false once it left
    std::optional<LeaveReason> reason;  // why it left
    std::string detail;
    std::chrono::steady_clock::time_point changed;  // joined or left at
};

enum class WaitResult { ok, timeout, interrupted };

class PeerDirectory {
public:
    // Called on the bus's network thread for every join and leave.
    void on_event(const PeerEvent& event);
    // Peers that joined before on_event was installed.
    void add_ready(const std::vector<PeerInfo>& peers);
    // Runs `listener` for each later event, under the directory's lock (keep it short).
    void set_listener(std::function<void(const PeerEvent&)> listener);

    // The peer's name, or its short id when unknown.
    [[nodiscard]] std::string name_of(const NodeId& id) const;
    // The same for the origin of a message that just arrived. A peer's first
    // messages can arrive before its join event: the transport delivers data
    // from a peer it admitted (its HELLO, with its name, came) while the
    // handshake's last step (its READY, on another connection) is still in
    // flight, and only then reports the join. So an unknown origin is waited
    // for, up to `patience`, once per id: a node that never joins delays one
    // line once, never every line.
    [[nodiscard]] std::string origin_name(const NodeId& id, std::chrono::milliseconds patience);
    [[nodiscard]] std::vector<PeerRecord> snapshot() const;

    // Waits until `count` peers are ready (offering `interest` when not
    // empty), the timeout passes or Ctrl-C.
    WaitResult wait_for_peers(std::size_t count, const std::string& interest,
                              std::chrono::milliseconds timeout, Interrupt& interrupt);

    // Waits until every node in `heard()` (polled: what discovery has heard,
    // Bus::discovered) is ready here too, the timeout passes or Ctrl-C.
    // `missing` gets the heard nodes still not ready at the end.
    WaitResult wait_until_settled(const std::function<std::vector<NodeId>()>& heard,
                                  std::chrono::milliseconds timeout, Interrupt& interrupt,
                                  std::vector<NodeId>& missing);

private:
    [[nodiscard]] std::size_t ready_count_locked(const std::string& interest) const;

    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::map<NodeId, PeerRecord> peers_;
    std::set<NodeId> waited_for_;  // origins origin_name waited for in vain
    std::function<void(const PeerEvent&)> listener_;
};

}  // namespace grav::cli
