#pragma once
// Types under "grav.sys." are the buses' own messages between nodes, never
// delivered to pods: a node handles them in BusCore::on_system_message and
// ignores one it does not know (a newer peer's). docs/PROTOCOL.md lists them.

#include <string_view>

namespace grav::detail {

inline constexpr std::string_view kSystemTypePrefix = "grav.sys.";

// tunnel_relay.hpp: a tunnel request relayed to the site's bridge node, and
// that node's answer when no other site takes it.
inline constexpr std::string_view kTunnelRelayType = "grav.sys.tunnel";
inline constexpr std::string_view kTunnelFailedType = "grav.sys.tunnel.failed";
// tunnel_relay.hpp: a reply for a node of another site, to the site's bridge node.
inline constexpr std::string_view kReplyRelayType = "grav.sys.reply";

}  // namespace grav::detail
