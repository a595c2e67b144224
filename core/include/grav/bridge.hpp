#pragma once
// The interface a bridge implements so that buses on different sites (each
// its own mesh, or a lone bus) become one system through an external
// messaging engine. The core knows nothing of that engine: grav::nats
// implements this on NATS.
//
//   site A                                     site B
//   pods ─ mesh ─ bridge node ══ engine ══ bridge node ─ mesh ─ pods
//
// The core decides what crosses and keeps the semantics of one mesh:
//  - one bridge node of a site is active at a time (the one with the lowest
//    node id among the site's bridge nodes in view); only it forwards and
//    injects, so a site with two bridges sends and delivers each message once;
//  - only messages that originate on this site are forwarded (no echo, no
//    loop between sites); what comes in is delivered on this site only;
//  - a reply to a node of another site goes back to that node alone.
//
// Threading contract: every call may come from any thread; an implementation
// never blocks inside its engine's callbacks. It calls BridgeEvents from a
// thread of its own with `may_block` (the call may wait for mailbox room:
// backpressure), or from the engine's callback without it: the call then
// never waits and returns false, having done nothing, when delivering now
// would have to, and the bridge hands the message to its own thread (after
// anything it holds there from the same stream, to keep the order).

#include <grav/error.hpp>
#include <grav/message.hpp>
#include <grav/peer.hpp>
#include <grav/transport.hpp>
#include <grav/type_pattern.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace grav {

// The capability a bridge node advertises to its mesh, so that the other
// nodes of the site know it (and which of them is active).
inline constexpr std::string_view kBridgeCapability = "grav.bridge";

// This site, as the core sees it through the mesh.
struct BridgeSite {
    bool active = true;                     // this node is the site's active bridge
    std::vector<NodeId> nodes;              // this node and its peers: messages for them come here
    std::vector<std::string> capabilities;  // what they offer: tunnels from other sites come here
};

// Implemented by the core; the bridge reports what comes from other sites.
class BridgeEvents {
public:
    virtual ~BridgeEvents() = default;
    // Published on another site: deliver to every pod on this site that wants it.
    // Each of these three returns true once it has dealt with the message
    // (always, with `may_block`), false when it would have to wait.
    virtual bool on_remote_message(MessagePtr message, bool may_block) = 0;
    // For one node of this site (a reply to a request it sent).
    virtual bool on_remote_direct(const NodeId& target, MessagePtr message, bool may_block) = 0;
    // A tunnel request for a capability this site offers: to exactly one node offering it.
    virtual bool on_remote_tunnel(const std::string& capability, MessagePtr message, bool may_block) = 0;
    // Messages from another site that will never arrive (a gap in a
    // stream, an overflow of the bridge's queue): `count` of them. Never hidden.
    // `from` is the bridge node that sent them (nil when not known).
    virtual void on_remote_lost(const NodeId& from, std::string_view stream, std::uint64_t count) = 0;
};

class Bridge {
public:
    virtual ~Bridge() = default;
    Bridge() = default;
    Bridge(const Bridge&) = delete;
    Bridge& operator=(const Bridge&) = delete;

    // Starts the bridge's threads and its connection (which may come up
    // later: the bus serves its site meanwhile). An error only for options
    // that can never work. `events` outlives stop().
    virtual Status start(const LocalNode& self, BridgeEvents& events) = 0;
    // Flushes what is queued (bounded time) and closes. Idempotent; no
    // events after it returns.
    virtual void stop() = 0;

    // The types this bridge carries.
    [[nodiscard]] virtual const std::vector<TypePattern>& types() const = 0;
    // Whether `message` can cross (a valid subject, within the engine's size
    // limit); the reason when not. Checked before the message is sent anywhere.
    [[nodiscard]] virtual Status check(const Message& message) const = 0;

    // What the core knows of this site; given again after every change of the mesh.
    virtual void update_site(const BridgeSite& site) = 0;

    // To every other site. The core calls it only with a message that
    // passed check(), so a bridge need not check it again.
    virtual void publish(MessagePtr message) = 0;
    // To one node of another site (a reply). `done` as in Transport::send_to.
    virtual void send_to(const NodeId& node, MessagePtr message, SendDone done) = 0;
    // To exactly one node of another site that offers `capability`. `done`
    // is called at most once, only with an error: Errc::no_peer as soon as
    // the engine says no site offers it, or why it could not be sent.
    virtual void tunnel(const std::string& capability, MessagePtr message, SendDone done) = 0;

    [[nodiscard]] virtual std::map<std::string, std::uint64_t> stats() const = 0;
    // Optional: what each stats() key is, as Transport::describe_metrics.
    [[nodiscard]] virtual std::vector<MetricInfo> describe_metrics() const { return {}; }
};

}  // namespace grav
