#pragma once
// A tunnel from a node with no bridge of its own to a capability that only
// another site offers goes through its site's active bridge node:
//
//   plain node A1 --direct "grav.sys.tunnel"--> bridge node A0 --NATS queue group--> site B
//        ^                                          |
//        +--- direct "grav.sys.tunnel.failed" <-----+  (NATS: no responders)
//
// The relay message keeps every header field of the request (id, parent,
// timestamp, origin) so that the reply of site B, addressed to the request's
// origin, comes back to A1 as for any cross-site request; only its type and
// payload change: the payload carries the capability, the request's type and
// its payload. The failure is a reply to the request (reply_to = its id) whose
// payload is the reason; A1 fails the receipt with Errc::no_peer at once.
// Both types are reserved (docs/PROTOCOL.md, "Tunnels through a bridge").
//
// A reply made on a plain node to a request from another site goes the same
// way, wrapped with the node it is for:
//
//   plain node B3 --direct "grav.sys.reply" (target A2)--> bridge node B0 --NATS--> A2
//
// so that whichever bridge node is the site's active one when the reply is
// made can send it on: the bridge that injected the request may have left,
// and its successor never saw the request (a standby does not subscribe).

#include "system_types.hpp"

#include <grav/error.hpp>
#include <grav/message.hpp>

#include <string>
#include <string_view>

namespace grav::detail {

struct RelayedTunnel {
    std::string capability;
    MessagePtr request;  // as its sender made it: original type and payload
};

// The relay message for `request`, to a bridge node.
MessagePtr wrap_tunnel(std::string_view capability, const Message& request);
// The request inside a relay message; an Error when the payload is not one.
Result<RelayedTunnel> unwrap_tunnel(const Message& relay);
// The failure reply for `request` (made on `self`, the bridge node).
MessagePtr tunnel_failure(const Message& request, const NodeId& self, std::string_view reason);

struct RelayedReply {
    NodeId target;     // the requester, on another site
    MessagePtr reply;  // as its sender made it
};

// The relay message for `reply`, to the site's bridge node, for `target`.
MessagePtr wrap_reply(const NodeId& target, const Message& reply);
// The reply inside a relay message; an Error when the payload is not one.
Result<RelayedReply> unwrap_reply(const Message& relay);

}  // namespace grav::detail
