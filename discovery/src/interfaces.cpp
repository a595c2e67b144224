#include "interfaces.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <charconv>
#include <cstring>
#include <memory>

namespace grav::beacon {

namespace {

// The IPv4 address in a sockaddr that getifaddrs says is AF_INET (copied,
// not cast: the BSD API hands out sockaddr*).
in_addr ipv4_of(const sockaddr* sa) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof in);
    return in.sin_addr;
}

}  // namespace

std::vector<Interface> list_ipv4_interfaces() {
    std::vector<Interface> out;
    ifaddrs* raw = nullptr;
    if (::getifaddrs(&raw) != 0) return out;
    const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> all(raw, &::freeifaddrs);
    for (const ifaddrs* a = raw; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
        // IFF_RUNNING too: a link without carrier (cable out, veth peer down)
        // cannot carry a beacon, and sending on it only fails.
        if ((a->ifa_flags & IFF_UP) == 0 || (a->ifa_flags & IFF_RUNNING) == 0) continue;
        Interface itf;
        itf.name = a->ifa_name;
        itf.index = ::if_nametoindex(a->ifa_name);
        itf.address = ipv4_of(a->ifa_addr);
        if (a->ifa_netmask != nullptr) itf.netmask = ipv4_of(a->ifa_netmask);
        itf.loopback = (a->ifa_flags & IFF_LOOPBACK) != 0;
        itf.can_broadcast = (a->ifa_flags & IFF_BROADCAST) != 0;
        itf.can_multicast = (a->ifa_flags & IFF_MULTICAST) != 0;
        if (itf.can_broadcast && a->ifa_broadaddr != nullptr) {
            // May be 0.0.0.0: an address added without "brd" has none.
            itf.broadcast = ipv4_of(a->ifa_broadaddr);
        }
        if (itf.loopback) {
            // Loopback has no IFF_BROADCAST, yet Linux installs the local route
            // "broadcast 127.255.255.255 dev lo": a datagram to it reaches every
            // socket bound to the port. That is how nodes on a host with no
            // network meet (docs/PROTOCOL.md explains the choice).
            itf.broadcast.s_addr = itf.address.s_addr | ~itf.netmask.s_addr;
        }
        if (itf.index != 0) out.push_back(std::move(itf));
    }
    return out;
}

std::string to_string(in_addr address) {
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

std::optional<in_addr> parse_ipv4(std::string_view text) {
    const std::string s(text);
    in_addr a{};
    if (::inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return a;
}

Result<InterfaceSelector> InterfaceSelector::parse(std::string_view spec) {
    InterfaceSelector sel;
    sel.spec_ = std::string(spec);
    if (spec.empty()) return sel;
    if (const auto slash = spec.find('/'); slash != std::string_view::npos) {
        const auto addr = parse_ipv4(spec.substr(0, slash));
        const auto bits_text = spec.substr(slash + 1);
        unsigned bits = 0;
        const auto [end, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
        if (!addr || ec != std::errc{} || end != bits_text.data() + bits_text.size() || bits > 32 ||
            bits_text.empty()) {
            return Error(Errc::invalid_argument, "interface '" + sel.spec_ + "' is not a valid IPv4 CIDR");
        }
        sel.kind_ = Kind::cidr;
        sel.mask_ = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
        sel.network_ = ntohl(addr->s_addr) & sel.mask_;
        return sel;
    }
    if (const auto addr = parse_ipv4(spec)) {
        sel.kind_ = Kind::address;
        sel.network_ = ntohl(addr->s_addr);
        sel.mask_ = ~std::uint32_t{0};
        return sel;
    }
    if (spec.size() >= IF_NAMESIZE) {
        return Error(Errc::invalid_argument,
                     "interface '" + sel.spec_ + "' is neither a name, an address nor a CIDR");
    }
    sel.kind_ = Kind::name;
    return sel;
}

bool InterfaceSelector::matches(const Interface& itf) const {
    switch (kind_) {
        case Kind::all: return true;
        case Kind::name: return itf.name == spec_;
        case Kind::address:
        case Kind::cidr: return (ntohl(itf.address.s_addr) & mask_) == network_;
    }
    return false;
}

}  // namespace grav::beacon
