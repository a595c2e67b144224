#pragma once
// The ZAP handler (ZeroMQ RFC 27) of a secure node: libzmq asks it, for every
// CURVE handshake on the node's ROUTER and XPUB, whether the client's key may
// in. It is a ROUTER bound to inproc://zeromq.zap.01 in the node's own
// context and is served by the node's actor thread from its poll loop, like
// every other socket of the node: no extra thread touches a socket.

#include "counters.hpp"

#include <grav/security.hpp>

#include <zmq.hpp>

#include <functional>
#include <memory>
#include <string>

namespace grav::zmq {

// ZAP domain of grav's server sockets (ZMQ_ZAP_DOMAIN).
inline constexpr const char* zap_domain = "grav";

class ZapHandler {
public:
    // (key, line): the node logs at most one line per key per interval.
    using Log = std::function<void(std::string_view key, const std::string& line)>;
    // Binds inproc://zeromq.zap.01: must happen before any CURVE server binds.
    ZapHandler(::zmq::context_t& context, std::shared_ptr<const security::Policy> policy, Counters& counters,
               Log log);

    ::zmq::socket_t& socket() { return socket_; }
    // Answers every waiting request (never blocks).
    void serve();

private:
    void answer(::zmq::message_t& routing, const std::string& request_id, bool ok,
                const std::string& status_text, const std::string& user_id);

    ::zmq::socket_t socket_;
    std::shared_ptr<const security::Policy> policy_;
    Counters& counters_;
    Log log_;
};

}  // namespace grav::zmq
