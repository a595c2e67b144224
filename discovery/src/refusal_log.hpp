#pragma once
// Why discovery dropped a node's beacons, said in its log: in secure mode a
// node whose beacons are refused is never dialled, so without this neither
// side would say anything ("no peer appeared"). One line per source and
// reason per interval (LogThrottle): a refused node beaconing every 500 ms,
// costs a line every 10 s, not a line a beacon; a flood of forged ids a
// bounded burst, then one line every 10 s.
// The counters (beacon.not_admitted, ...) are kept by the caller.

#include "beacon_auth.hpp"
#include "beacon_codec.hpp"

#include <grav/log_throttle.hpp>
#include <grav/security.hpp>

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace grav::beacon {

class RefusalLog {
public:
    using Sink = std::function<void(std::string_view line)>;
    // `policy`: null for a plain node. `sink` gets whole lines.
    RefusalLog(std::shared_ptr<const security::Policy> policy, Sink sink);

    // A beacon `verdict` dropped (authentic is never reported; neither are
    // duplicates, which every multi-path LAN makes).
    void refused(Authenticator::Verdict verdict, const Beacon& beacon, const sockaddr_in& source,
                 std::uint64_t now_ms);
    // A plain node heard a signed beacon.
    void signed_ignored(const Beacon& beacon, const sockaddr_in& source);

private:
    // Nodes remembered for their lines: a flood of forged ids costs at most
    // this many lines, then one per interval.
    static constexpr std::size_t kMaxKeys = 64;
    void say(std::string_view reason, const Beacon& beacon, const sockaddr_in& source,
             const std::string& line);

    std::shared_ptr<const security::Policy> policy_;
    Sink sink_;
    LogThrottle throttle_;
};

}  // namespace grav::beacon
