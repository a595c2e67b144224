// libFuzzer target for the discovery beacon decoder (discovery/src/beacon_codec.cpp):
// the input is one UDP datagram, exactly as the listener receives it. The
// decoder must never crash or read out of bounds, and whatever it accepts
// must encode back to the very same bytes (the layout has no slack a forger
// could use to make two datagrams mean one beacon).
#include "beacon_codec.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace grav::beacon;
    const std::span<const std::uint8_t> datagram(data, size);
    const auto decoded = decode(datagram);
    if (const auto* beacon = std::get_if<Beacon>(&decoded)) {
        const auto again = encode(*beacon);
        if (!again || !std::ranges::equal(again->view(), datagram)) std::abort();
    }
    return 0;
}
