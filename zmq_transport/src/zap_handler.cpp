#include "zap_handler.hpp"

#include "frames.hpp"

#include <span>

namespace grav::zmq {

namespace {

constexpr std::string_view zap_endpoint = "inproc://zeromq.zap.01";
constexpr std::string_view zap_version = "1.0";

}  // namespace

ZapHandler::ZapHandler(::zmq::context_t& context, std::shared_ptr<const security::Policy> policy,
                       Counters& counters, Log log)
    : socket_(context, ::zmq::socket_type::router),
      policy_(std::move(policy)),
      counters_(counters),
      log_(std::move(log)) {
    socket_.set(::zmq::sockopt::linger, 0);
    socket_.bind(std::string(zap_endpoint));
}

void ZapHandler::serve() {
    // A request: [routing id][empty][version][request id][domain][address]
    // [identity][mechanism][credentials...]. Frames caps at 5, so read by hand.
    for (;;) {
        std::vector<::zmq::message_t> parts;
        ::zmq::message_t part;
        if (!socket_.recv(part, ::zmq::recv_flags::dontwait)) return;
        bool more = part.more();
        parts.push_back(std::move(part));
        while (more && parts.size() < 16) {
            ::zmq::message_t next;
            if (!socket_.recv(next, ::zmq::recv_flags::none)) break;
            more = next.more();
            parts.push_back(std::move(next));
        }
        while (more) {  // drain anything beyond 16 frames
            ::zmq::message_t rest;
            if (!socket_.recv(rest, ::zmq::recv_flags::none)) break;
            more = rest.more();
        }
        if (parts.size() < 9) continue;  // libzmq never sends that: nothing to answer
        const std::string request_id = parts[3].to_string();
        const std::string address = parts[5].to_string();
        const std::string mechanism = parts[7].to_string();
        if (parts[2].to_string_view() != zap_version) continue;
        bool ok = false;
        std::string why;
        std::string user_id;
        if (mechanism != "CURVE") {
            why = "mechanism " + mechanism + " is not CURVE";
        } else if (parts[8].size() != security::curve_key_bytes) {
            why = "CURVE key of " + std::to_string(parts[8].size()) + " bytes";
        } else {
            const std::span<const std::uint8_t, security::curve_key_bytes> curve{
                static_cast<const std::uint8_t*>(parts[8].data()), security::curve_key_bytes};
            const security::PublicKey member = policy_->member_for_curve(curve);
            if (member.empty()) {
                why = "its key is not a member of this cluster";
            } else {
                ok = true;
                // Every message from this connection carries the member's key
                // as "User-Id": the node checks it against the HELLO's node id.
                user_id = member.text();
            }
        }
        if (!ok) {
            bump(counters_.auth_refused);
            // One line per client host and reason: a refused client reconnects every second.
            log_("zap " + address + " " + why,
                 "refused a connection from " + (address.empty() ? std::string("?") : address) + ": " + why);
        }
        answer(parts[0], request_id, ok, ok ? "OK" : why, user_id);
    }
}

void ZapHandler::answer(::zmq::message_t& routing, const std::string& request_id, bool ok,
                        const std::string& status_text, const std::string& user_id) {
    std::array<::zmq::message_t, 8> reply{
        ::zmq::message_t(routing.data(), routing.size()),
        ::zmq::message_t(),
        ::zmq::message_t(zap_version.data(), zap_version.size()),
        ::zmq::message_t(request_id.data(), request_id.size()),
        ::zmq::message_t(std::string_view(ok ? "200" : "400")),
        ::zmq::message_t(status_text.data(), status_text.size()),
        ::zmq::message_t(user_id.data(), user_id.size()),
        ::zmq::message_t(),  // metadata: none
    };
    // libzmq's side of inproc://zeromq.zap.01 reads at once; a full pipe
    // would mean libzmq is gone, and then the answer does not matter.
    (void)send_all(socket_, reply);
}

}  // namespace grav::zmq
