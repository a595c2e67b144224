#include "seeds.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <memory>

namespace grav::beacon {
namespace {

Result<sockaddr_in> resolve_one(const std::string& seed) {
    const auto colon = seed.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == seed.size()) {
        return Error(Errc::invalid_argument, "seed '" + seed + "' is not host:port");
    }
    const std::string host = seed.substr(0, colon);
    unsigned port = 0;
    const char* first = seed.data() + colon + 1;
    const char* last = seed.data() + seed.size();
    const auto [end, ec] = std::from_chars(first, last, port);
    if (ec != std::errc{} || end != last || port == 0 || port > 65535) {
        return Error(Errc::invalid_argument, "seed '" + seed + "' has no valid port");
    }
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* raw = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &raw); rc != 0) {
        return Error(Errc::invalid_argument, "seed '" + seed + "' does not resolve: " + ::gai_strerror(rc));
    }
    const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(raw, &::freeaddrinfo);
    sockaddr_in sa{};
    std::memcpy(&sa, raw->ai_addr, sizeof sa);
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    return sa;
}

}  // namespace

Result<std::vector<sockaddr_in>> resolve_seeds(const std::vector<std::string>& seeds) {
    std::vector<sockaddr_in> out;
    for (const auto& seed : seeds) {
        auto r = resolve_one(seed);
        if (!r) return r.error();
        out.push_back(*r);
    }
    return out;
}

}  // namespace grav::beacon
