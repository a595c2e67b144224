// libFuzzer target for the handshake (zmq_transport/src/wire/wire.cpp and
// admission.cpp): a control command as a peer sends it to a ROUTER or
// answers it to a DEALER, decoded and, for HELLO/IAM, judged by exactly the
// admission checks the node runs, with no sockets. Nothing may crash, throw
// or allocate by a length it read; what decodes must survive a round trip.
//
// Input layout: [u8 options][u8 topic length][topic][rest = body]
//   options bit 0: the routing id is the HELLO's own node id (else a wrong one)
//   options bit 1: the TCP source address is unknown ("") instead of 10.1.2.3
//   options bit 2: this node's group is "*" instead of "lab"
#include "admission.hpp"
#include "endpoint.hpp"
#include "wire/resend_wire.hpp"
#include "wire/wire.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace grav;
using namespace grav::zmq;

bool same(const wire::Hello& a, const wire::Hello& b) {
    return a.protocol == b.protocol && a.node == b.node && a.name == b.name && a.belongs_to == b.belongs_to &&
           a.interests == b.interests && a.endpoints == b.endpoints;
}

void hello(std::span<const std::byte> body, std::uint8_t options) {
    auto decoded = wire::decode_hello(body);
    if (!decoded) return;
    if (decoded->protocol == wire::protocol_version) {
        auto again = wire::decode_hello(wire::bytes_of(wire::encode_hello(*decoded)));
        if (!again || !same(*again, *decoded)) std::abort();
    }
    const LocalNode self{.id = *NodeId::parse("00112233-4455-6677-8899-aabbccddeeff"),
                         .name = "fuzz",
                         .belongs_to = (options & 4) != 0 ? "*" : "lab",
                         .interests = {}};
    const std::string identity =
        (options & 1) != 0 ? wire::routing_id(decoded->node) : std::string("not-an-id");
    const auto verdict = vet_hello(*decoded, identity, (options & 2) != 0 ? "" : "10.1.2.3", self);
    if (verdict.kind == HelloVerdict::Kind::admit) {
        // What is admitted must be dialable: two tcp:// endpoints, no wildcard host left.
        if (verdict.peer.endpoints.size() != 2) std::abort();
        for (const auto& e : verdict.peer.endpoints) {
            auto parsed = parse_tcp_endpoint(e);
            if (!parsed || parsed->wildcard()) std::abort();
        }
    } else if (verdict.reason.empty()) {
        std::abort();  // every refusal carries a reason
    }
}

void reason(std::span<const std::byte> body) {
    auto decoded = wire::decode_reason(body);
    if (!decoded) return;
    auto again = wire::decode_reason(wire::bytes_of(wire::encode_reason(*decoded)));
    if (!again || *again != *decoded) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const std::uint8_t options = data[0];
    const std::size_t topic_len = std::min<std::size_t>(data[1], size - 2);
    const std::string_view topic(reinterpret_cast<const char*>(data + 2), topic_len);
    const std::span<const std::byte> body(reinterpret_cast<const std::byte*>(data + 2 + topic_len),
                                          size - 2 - topic_len);
    auto control = wire::parse_control(topic);
    if (!control || !*control) return 0;
    switch (**control) {
        case wire::Control::hello:
        case wire::Control::iam: hello(body, options); break;
        case wire::Control::refuse: reason(body); break;
        // READY's optional body announces the sender's stream tails; RESEND
        // and RESENT carry the resend window's requests and answers.
        case wire::Control::ready:
            if (!body.empty()) (void)wire::decode_announcement(body);
            break;
        case wire::Control::resend: (void)wire::decode_resend(body); break;
        case wire::Control::resent: (void)wire::decode_resent(body); break;
        // BYE on the direct link announces the leaving node's tails; GOT
        // answers with what was taken of them: both in READY's layout.
        case wire::Control::bye:
        case wire::Control::got:
            if (!body.empty()) (void)wire::decode_announcement(body);
            break;
        // WELCOME's body says what the admitting node can do (an old node's is
        // empty); PING and PONG carry a token the peer echoes.
        case wire::Control::welcome: (void)wire::decode_welcome(body); break;
        case wire::Control::ping:
        case wire::Control::pong:
            if (auto token = wire::decode_echo(body)) {
                auto again = wire::decode_echo(wire::bytes_of(wire::encode_echo(*token)));
                if (!again || *again != *token) std::abort();
            }
            break;
        case wire::Control::who: break;  // no body: the node never reads one
    }
    return 0;
}
