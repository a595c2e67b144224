#include "refusal_log.hpp"

#include "beacon_seal.hpp"
#include "interfaces.hpp"

#include <arpa/inet.h>

#include <utility>

namespace grav::beacon {
namespace {

std::string address_of(const sockaddr_in& source) {
    return to_string(source.sin_addr) + ":" + std::to_string(ntohs(source.sin_port));
}

std::string who(const Beacon& beacon, const sockaddr_in& source) {
    return "node " + beacon.node.short_str() + " at " + address_of(source);
}

}  // namespace

RefusalLog::RefusalLog(std::shared_ptr<const security::Policy> policy, Sink sink)
    : policy_(std::move(policy)), sink_(std::move(sink)), throttle_(std::chrono::seconds(10), kMaxKeys) {}

void RefusalLog::say(std::string_view reason, const Beacon& beacon, const sockaddr_in& source,
                     const std::string& line) {
    // Keyed by source host, node id and reason: each node is one line per
    // interval; forged ids beyond the throttle's bound share one.
    const auto held =
        throttle_.admit(to_string(source.sin_addr) + " " + beacon.node.str() + " " + std::string(reason));
    if (held && sink_) sink_(throttle_.annotate(line, *held));
}

void RefusalLog::refused(Authenticator::Verdict verdict, const Beacon& beacon, const sockaddr_in& source,
                         std::uint64_t now_ms) {
    using Verdict = Authenticator::Verdict;
    switch (verdict) {
        case Verdict::authentic:
        case Verdict::duplicate: return;
        case Verdict::unsigned_beacon:
            say("unsigned", beacon, source,
                "ignoring the plain (unsigned) beacons of " + who(beacon, source) +
                    ": this node is secure and that one is not, so they never mesh");
            return;
        case Verdict::not_admitted: {
            const std::string key = beacon.seal ? key_of(*beacon.seal).text() : std::string("?");
            const bool secret = policy_ && policy_->mode() == security::Policy::Mode::cluster_secret;
            say("not_admitted", beacon, source,
                "ignoring the beacons of " + who(beacon, source) + ": they are signed with key " + key +
                    (secret ? ", not this cluster secret's key (that node has another cluster secret)"
                            : ", which is not on this node's allow-list") +
                    "; it is never dialled");
            return;
        }
        case Verdict::bad_signature:
            say("bad_signature", beacon, source,
                "dropped a beacon claiming " + who(beacon, source) +
                    ": its signature does not match its bytes (forged or corrupted)");
            return;
        case Verdict::replayed:
            say("replayed", beacon, source,
                "dropped a replayed beacon of " + who(beacon, source) + " (older than one already accepted)");
            return;
        case Verdict::stale: {
            const std::int64_t skew = beacon.seal ? static_cast<std::int64_t>(beacon.seal->stamp) -
                                                        static_cast<std::int64_t>(now_ms)
                                                  : 0;
            say("stale", beacon, source,
                "ignoring the beacons of " + who(beacon, source) + ": stamped " + std::to_string(skew) +
                    " ms from this node's clock, beyond the tolerance (max_clock_skew): check both clocks");
            return;
        }
        case Verdict::full:
            say("full", beacon, source,
                "ignoring the beacons of " + who(beacon, source) +
                    ": too many senders remembered within the clock tolerance (beacon.peer_limit)");
            return;
    }
}

void RefusalLog::signed_ignored(const Beacon& beacon, const sockaddr_in& source) {
    say("signed", beacon, source,
        "ignoring the signed beacons of " + who(beacon, source) +
            ": that node is secure and this one is not, so they never mesh");
}

}  // namespace grav::beacon
