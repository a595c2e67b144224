#include "endpoint.hpp"

#include <charconv>

namespace grav::zmq {

std::string TcpEndpoint::str() const {
    const bool v6 = host.find(':') != std::string::npos;
    return "tcp://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<TcpEndpoint> parse_tcp_endpoint(std::string_view text) {
    constexpr std::string_view scheme = "tcp://";
    auto bad = [&](const char* why) {
        return Error(Errc::invalid_argument,
                     "endpoint '" + std::string(text) + "': " + why + " (expected tcp://host:port)");
    };
    if (!text.starts_with(scheme)) return bad("not a tcp:// endpoint");
    const std::string_view rest = text.substr(scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("no host:port");
    std::string_view host = rest.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    const std::string_view port_text = rest.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
        port > 65535) {
        return bad("bad port");
    }
    return TcpEndpoint{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string with_host(std::string_view endpoint, std::string_view host) {
    auto parsed = parse_tcp_endpoint(endpoint);
    if (!parsed || !parsed->wildcard()) return std::string(endpoint);
    parsed->host = std::string(host);
    return parsed->str();
}

KeyedEndpoint split_key_suffix(std::string_view text) {
    const auto hash = text.rfind('#');
    if (hash == std::string_view::npos) return {std::string(text), {}};
    return {std::string(text.substr(0, hash)), std::string(text.substr(hash + 1))};
}

}  // namespace grav::zmq
