#include "network_options.hpp"

#include "exit_code.hpp"
#include "metrics_options.hpp"

#include <CLI/CLI.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <optional>

namespace grav::cli {

void add_network_options(CLI::App& app, NetworkOptions& o) {
    const std::string section = "Network (any command)";
    app.add_option("--group", o.group, "Mesh only with nodes of this group ('*' = any)")
        ->group(section)
        ->capture_default_str();
    app.add_option("--name", o.name, "This node's name for humans (default: <host>-<pid>)")->group(section);
    app.add_option("--interface", o.interface,
                   "Beacon and listen on this IPv4 interface: name, address or CIDR (default: all)")
        ->group(section);
    app.add_option("--seed", o.seeds, "Also beacon by unicast to HOST:PORT (networks without broadcast)")
        ->group(section);
    app.add_option("--beacon-port", o.beacon_port, "UDP port of the discovery beacons")
        ->group(section)
        ->capture_default_str()
        ->check(CLI::Range(1, 65535));
    app.add_option("--connect", o.connect, "Dial this node's endpoint tcp://HOST:PORT instead of discovery")
        ->group(section);
    app.add_option("--bind", o.bind,
                   "Listen on tcp://HOST:PORT, and on PORT+1 for the fan-out socket (default: tcp://*:0, "
                   "ephemeral ports)")
        ->group(section);
    app.add_flag("-v,--verbose", o.verbose, "Print peers joining and leaving, and transport warnings")
        ->group(section);
    add_security_options(app, o.security);
    add_nats_options(app, o.nats);
    add_metrics_option(app, o.metrics);
}

Result<TcpAddress> parse_tcp_endpoint(std::string_view text, bool allow_port_zero) {
    const auto bad = [&](const std::string& why) {
        return Error(Errc::invalid_argument, "unparsable endpoint '" + std::string(text) + "': " + why +
                                                 " (expected tcp://HOST:PORT)");
    };
    constexpr std::string_view scheme = "tcp://";
    if (!text.starts_with(scheme)) return bad("it does not start with tcp://");
    std::string_view rest = text.substr(scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    std::string_view host = rest.substr(0, colon);
    const std::string_view port_text = rest.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return bad("no host");
    if (host.find_first_of("[]/ ") != std::string_view::npos) return bad("bad host");
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
        return bad("port is not a number from 0 to 65535");
    if (port == 0 && !allow_port_zero) return bad("port 0 cannot be dialled");
    return TcpAddress{std::string(host), static_cast<std::uint16_t>(port)};
}

namespace {

struct IfaddrsDeleter {
    void operator()(ifaddrs* list) const noexcept { ::freeifaddrs(list); }
};

std::string ipv4_text(const in_addr& address) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

// "10.0.0.0/8" -> network and mask in host byte order; nullopt when not a CIDR.
std::optional<std::pair<std::uint32_t, std::uint32_t>> parse_cidr(std::string_view spec) {
    const auto slash = spec.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    in_addr network{};
    if (::inet_pton(AF_INET, std::string(spec.substr(0, slash)).c_str(), &network) != 1) return std::nullopt;
    unsigned bits = 0;
    const std::string_view bits_text = spec.substr(slash + 1);
    const auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
    if (bits_text.empty() || ec != std::errc() || end != bits_text.data() + bits_text.size() || bits > 32)
        return std::nullopt;
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return std::pair{ntohl(network.s_addr) & mask, mask};
}

}  // namespace

Result<std::string> interface_address(std::string_view spec) {
    ifaddrs* raw = nullptr;
    if (::getifaddrs(&raw) != 0) return Error(Errc::transport_failed, "cannot list the network interfaces");
    const std::unique_ptr<ifaddrs, IfaddrsDeleter> list(raw);
    const auto cidr = parse_cidr(spec);
    for (const ifaddrs* it = list.get(); it != nullptr; it = it->ifa_next) {
        if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET || (it->ifa_flags & IFF_UP) == 0)
            continue;
        in_addr address{};
        std::memcpy(&address, &reinterpret_cast<const sockaddr_in*>(it->ifa_addr)->sin_addr, sizeof address);
        const std::string text = ipv4_text(address);
        const bool matches = cidr ? (ntohl(address.s_addr) & cidr->second) == cidr->first
                                  : (spec == it->ifa_name || spec == text);
        if (matches) return text;
    }
    return Error(Errc::invalid_argument, "unknown interface '" + std::string(spec) +
                                             "': no up IPv4 interface has that name, address or network");
}

std::string validated_bind_endpoint(const NetworkOptions& o) {
    std::string interface_host;
    if (!o.interface.empty()) {
        auto address = interface_address(o.interface);
        if (!address) throw CliError(ExitCode::bad_address, address.error().reason());
        interface_host = *address;
    }
    for (const auto& endpoint : o.connect) {
        // Secure mode: "tcp://HOST:PORT#KEY" names the node's public key.
        const std::string_view address = std::string_view(endpoint).substr(0, endpoint.rfind('#'));
        auto parsed = parse_tcp_endpoint(address, false);
        if (!parsed) throw CliError(ExitCode::bad_address, "--connect: " + parsed.error().reason());
    }
    for (const auto& seed : o.seeds) {
        const auto colon = seed.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == seed.size())
            throw CliError(ExitCode::bad_address, "--seed: '" + seed + "' is not HOST:PORT");
    }
    if (o.group.empty()) throw CliError(ExitCode::usage, "--group: the group name is empty");
    check_metrics_address(o.metrics);
    if (!o.bind.empty()) {
        auto parsed = parse_tcp_endpoint(o.bind, true);
        if (!parsed) throw CliError(ExitCode::bad_address, "--bind: " + parsed.error().reason());
        return o.bind;
    }
    return interface_host.empty() ? "tcp://*:0" : "tcp://" + interface_host + ":0";
}

}  // namespace grav::cli
