#pragma once
// The host's IPv4 interfaces, and which of them the user chose to beacon on.

#include <grav/error.hpp>

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grav::beacon {

struct Interface {
    std::string name;
    unsigned index = 0;
    in_addr address{};
    in_addr netmask{};
    in_addr broadcast{};  // its directed broadcast address if configured (0.0.0.0 if not);
                          // for loopback the one of its subnet, 127.255.255.255
    bool loopback = false;
    bool can_broadcast = false;
    bool can_multicast = false;
};

// Every up interface with an IPv4 address, one entry per address.
std::vector<Interface> list_ipv4_interfaces();

std::string to_string(in_addr address);
std::optional<in_addr> parse_ipv4(std::string_view text);

// BeaconOptions::interface: empty (all), a name, an address or a CIDR.
class InterfaceSelector {
public:
    static Result<InterfaceSelector> parse(std::string_view spec);
    [[nodiscard]] bool matches(const Interface& itf) const;
    [[nodiscard]] bool is_default() const noexcept { return kind_ == Kind::all; }
    [[nodiscard]] const std::string& spec() const noexcept { return spec_; }

private:
    enum class Kind { all, name, address, cidr };
    Kind kind_ = Kind::all;
    std::string spec_;
    std::uint32_t network_ = 0;  // host byte order
    std::uint32_t mask_ = 0;
};

}  // namespace grav::beacon
