#include "counters.hpp"

namespace grav::beacon {
namespace {

constexpr std::array<const char*, static_cast<std::size_t>(Counter::count_)> kNames{
    "beacon.sent",
    "beacon.send_failed",
    "beacon.received",
    "beacon.answered",
    "beacon.own",
    "beacon.foreign",
    "beacon.unknown_version",
    "beacon.oversized",
    "beacon.malformed",
    "beacon.foreign_group",
    "beacon.other_interface",
    "beacon.peer_limit",
    "beacon.peers_found",
    "beacon.peers_withdrew",
    "beacon.peers_timed_out",
    "beacon.peers_replaced",
    "beacon.address_conflict",
    "beacon.redial",
    "beacon.kept_alive",
    "beacon.callback_threw",
    "beacon.unsigned",
    "beacon.not_admitted",
    "beacon.bad_signature",
    "beacon.replayed",
    "beacon.duplicate",
    "beacon.stale",
    "beacon.signed_ignored",
};
// Every counter has a name (a missing initializer would be a null pointer).
static_assert(kNames.back() != nullptr);

}  // namespace

std::map<std::string, std::uint64_t> Counters::snapshot() const {
    std::map<std::string, std::uint64_t> out;
    for (std::size_t i = 0; i < kNames.size(); ++i)
        out[kNames[i]] = values_[i].load(std::memory_order_relaxed);
    return out;
}

}  // namespace grav::beacon
