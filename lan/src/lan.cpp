#include <grav/lan.hpp>

#include <string>
#include <utility>

namespace grav {
namespace {

// Invariant: a part's own policy is either unset or the very object given as
// lan.security; anything else means two switches, which is what this refuses.
Status same_policy(const std::shared_ptr<const security::Policy>& part, const LanOptions& lan,
                   const char* field) {
    if (!part || part == lan.security) return success();
    return Error(Errc::invalid_argument,
                 std::string("join_lan: ") + field +
                     (lan.security ? " holds a policy other than LanOptions::security"
                                   : " holds a policy but LanOptions::security is null (a plain mesh)") +
                     ": set the policy once, in LanOptions::security, for the transport and the beacons");
}

}  // namespace

Status join_lan(BusOptions& options, LanOptions lan) {
    if (options.transport)
        return Error(Errc::invalid_argument, "join_lan: BusOptions already has a transport");
    if (lan.beacons && options.discovery)
        return Error(Errc::invalid_argument, "join_lan: BusOptions already has a discovery");
    if (Status s = same_policy(lan.transport.security, lan, "LanOptions::transport.security"); !s) return s;
    if (lan.beacons) {
        if (Status s = same_policy(lan.discovery.security, lan, "LanOptions::discovery.security"); !s)
            return s;
    }
    lan.transport.security = lan.security;
    options.transport = zmq::transport(std::move(lan.transport));
    if (lan.beacons) {
        lan.discovery.security = lan.security;
        options.discovery = beacon_discovery(std::move(lan.discovery));
    }
    return success();
}

}  // namespace grav
