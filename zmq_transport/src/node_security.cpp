// Node: secure mode — CURVE on every socket, the ZAP handler, and the binding
// of each peer's node id to the member key it authenticated with.
#include "node.hpp"

#include "frames.hpp"
#include "wire/monitor_event.hpp"

#include <cstdio>
#include <cstring>

namespace grav::zmq {

namespace {

std::string handshake_failure(std::uint16_t event, std::uint32_t value) {
    switch (event) {
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            return "refused by this node's policy (ZAP status " + std::to_string(value) + ")";
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: {
            char hex[16];
            std::snprintf(hex, sizeof hex, "0x%x", value);
            return std::string("protocol error ") + hex +
                   " (a client without CURVE, or with the wrong server key)";
        }
        default: return "handshake failed (" + std::string(std::strerror(static_cast<int>(value))) + ")";
    }
}

// "tcp://10.0.0.2:41234" -> "10.0.0.2": a client reconnects from new ports.
std::string host_of(std::string_view address) {
    if (const auto scheme = address.find("://"); scheme != std::string_view::npos)
        address.remove_prefix(scheme + 3);
    if (const auto colon = address.rfind(':'); colon != std::string_view::npos)
        address = address.substr(0, colon);
    return std::string(address);
}

}  // namespace

void Node::start_security() {
    if (!secure()) return;
    // Before the ROUTER and XPUB bind: libzmq lets a CURVE client in unasked
    // when no handler is bound to inproc://zeromq.zap.01.
    zap_.emplace(context_, options_.security, counters_,
                 [this](std::string_view key, const std::string& line) { log_throttled(key, line); });
    contact_.public_key = options_.security->identity().public_key().text();
}

void Node::secure_server(::zmq::socket_t& socket, std::optional<::zmq::socket_t>& monitor, const char* name) {
    if (!secure()) return;
    const auto& identity = options_.security->identity();
    socket.set(::zmq::sockopt::curve_server, 1);
    socket.set(::zmq::sockopt::curve_secretkey,
               ::zmq::const_buffer(identity.curve_secret().data(), identity.curve_secret().size()));
    socket.set(::zmq::sockopt::zap_domain, zap_domain);
    // Failed handshakes never reach the ZAP handler when the client does not
    // even speak CURVE: the socket's monitor is where they show.
    const std::string address = std::string("inproc://grav-server-monitor-") + name;
    if (zmq_socket_monitor(socket.handle(), address.c_str(),
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) != 0) {
        throw ::zmq::error_t();
    }
    ::zmq::socket_t pair(context_, ::zmq::socket_type::pair);
    pair.set(::zmq::sockopt::linger, 0);
    pair.connect(address);
    monitor.emplace(std::move(pair));
}

std::string Node::dial_key(const std::string& given) const {
    if (!secure()) return {};
    if (options_.security->mode() == security::Policy::Mode::cluster_secret) {
        return options_.security->identity().public_key().text();
    }
    return given;
}

bool Node::secure_client(::zmq::socket_t& socket, const std::string& public_key,
                         const std::string& endpoint) {
    if (!secure()) return true;
    if (public_key.empty()) {
        bump(counters_.auth_refused);
        log("cannot dial " + endpoint + " securely: its public key is unknown (give it as " + endpoint +
            "#KEY)");
        return false;
    }
    auto key = security::PublicKey::parse(public_key);
    if (!key || !options_.security->admits(*key)) {
        bump(counters_.auth_refused);
        log("not dialling " + endpoint + ": its key " + public_key + " is not a member of this cluster");
        return false;
    }
    const auto server = key->curve();
    if (!server) return false;  // parse() already proved it converts
    const auto& identity = options_.security->identity();
    socket.set(::zmq::sockopt::curve_serverkey, ::zmq::const_buffer(server->data(), server->size()));
    socket.set(::zmq::sockopt::curve_publickey,
               ::zmq::const_buffer(identity.curve_public().data(), identity.curve_public().size()));
    socket.set(::zmq::sockopt::curve_secretkey,
               ::zmq::const_buffer(identity.curve_secret().data(), identity.curve_secret().size()));
    return true;
}

bool Node::from_bound_key(const PeerLink& link, ::zmq::message_t& frame) {
    // Only an allow-list tells members apart; with a cluster secret they all
    // hold the same key.
    // Every ROUTER frame from a peer passes here: a sign of life (PeerTraffic).
    if (!secure() || options_.security->mode() != security::Policy::Mode::allow_list) {
        link.traffic->seen();
        return true;
    }
    const char* user = nullptr;
    try {
        user = frame.gets("User-Id");
    } catch (const ::zmq::error_t&) {}
    if (user != nullptr && link.public_key == user) {
        link.traffic->seen();
        return true;
    }
    bump(counters_.auth_refused);
    log("dropped a message claiming node " + link.id.short_str() + " from key " + (user ? user : "(none)") +
        ", which is not that node's key");
    return false;
}

void Node::on_server_monitor(::zmq::socket_t& monitor) {
    Frames frames;
    for (int n = 0; n < 64 && receive(monitor, frames); ++n) {
        if (frames.count < 1) continue;
        const auto read = wire::read_monitor_event(frames.part[0].data(), frames.part[0].size());
        if (!read) continue;
        const auto [event, value] = *read;
        bump(counters_.handshake_failed);
        const std::string where = frames.count > 1 ? std::string(frames.text(1)) : std::string("?");
        log_throttled("server " + std::to_string(event) + " " + host_of(where),
                      "secure handshake failed on " + where + ": " + handshake_failure(event, value));
    }
}

int Node::handshake_failure_events() const noexcept {
    return secure() ? ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                          ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                    : 0;
}

void Node::client_handshake_failed(const std::string& peer, const std::string& key, std::uint16_t event,
                                   std::uint32_t value) {
    bump(counters_.handshake_rejected);
    std::string why;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
        why = "it refused this node's key " + options_.security->identity().public_key().text() +
              " (ZAP status " + std::to_string(value) +
              "): its policy does not admit this node (another cluster secret, or not on its allow-list)";
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%x", value);
        why = std::string("protocol error ") + hex +
              " (the key this node dialled it with is not its key, or it does not speak CURVE)";
    } else {
        why = handshake_failure(event, value);
    }
    log_throttled("client " + key + " " + std::to_string(event),
                  "cannot join " + peer + ": the secure handshake failed, " + why);
}

void Node::stop_server_monitors() {
    // libzmq's I/O thread sends monitor events with a blocking send.
    if (router_ && router_monitor_) zmq_socket_monitor(router_->handle(), nullptr, 0);
    if (xpub_ && xpub_monitor_) zmq_socket_monitor(xpub_->handle(), nullptr, 0);
    router_monitor_.reset();
    xpub_monitor_.reset();
}

}  // namespace grav::zmq
