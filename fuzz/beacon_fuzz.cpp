// libFuzzer target for the discovery beacon decoder and, for sealed
// (version 2) beacons, the secure-mode checks (discovery/src/beacon_codec.cpp,
// beacon_auth.cpp): the input is one UDP datagram, exactly as the listener
// receives it. Nothing may crash or read out of bounds; whatever decodes
// must encode back to the very same bytes (no slack a forger could use to
// make two datagrams mean one beacon); a beacon found authentic once is a
// duplicate the second time.
#include "beacon_auth.hpp"
#include "beacon_codec.hpp"
#include "fuzz_keys.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace grav::beacon;
    using Verdict = Authenticator::Verdict;
    const std::span<const std::uint8_t> datagram(data, size);
    const auto decoded = decode(datagram);
    const auto* beacon = std::get_if<Beacon>(&decoded);
    if (beacon == nullptr) return 0;
    const auto again = encode(*beacon);
    if (!again || !std::ranges::equal(again->view(), datagram)) std::abort();

    // The seeds are sealed by the fuzz cluster's key at grav::fuzz::kSeedStamp.
    Authenticator receiver(grav::fuzz::policy(), std::chrono::seconds(30), 4);
    const auto first = receiver.check(*beacon, datagram, grav::fuzz::kSeedStamp);
    if (first == Verdict::authentic &&
        receiver.check(*beacon, datagram, grav::fuzz::kSeedStamp) != Verdict::duplicate) {
        std::abort();
    }
    if (first == Verdict::unsigned_beacon && beacon->seal) std::abort();
    return 0;
}
