#pragma once
// The checks a HELLO must pass before the node admits its sender: pure, no
// sockets, so that the handshake fuzzer (fuzz/handshake_fuzz.cpp) drives
// exactly the logic the transport runs on a hostile peer's bytes.

#include "wire/wire.hpp"

#include <grav/peer.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace grav::zmq {

struct HelloVerdict {
    enum class Kind : std::uint8_t {
        admit,         // passes: `peer` is filled in (the application's admit() still has its say)
        refuse,        // answer REFUSE with `reason`
        refuse_group,  // REFUSE too, and drop a link to that node if there is one
        malformed,     // not a grav peer speaking the protocol: count, do not answer
    };
    Kind kind = Kind::malformed;
    std::string reason;
    std::string who;  // names the sender in logs and refusal events
    PeerInfo peer;
};

// `identity`: the ROUTER routing id the HELLO came with; `peer_address`: the
// TCP source address ("" when unknown: taken as 127.0.0.1).
HelloVerdict vet_hello(const wire::Hello& hello, std::string_view identity, std::string_view peer_address,
                       const LocalNode& self);

}  // namespace grav::zmq
