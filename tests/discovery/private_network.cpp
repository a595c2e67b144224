#include "private_network.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace grav::testkit {
namespace {

bool private_network = false;

bool bring_loopback_up() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    ifreq req{};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ::ioctl(fd, SIOCGIFFLAGS, &req) == 0;
    if (ok) {
        req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
        ok = ::ioctl(fd, SIOCSIFFLAGS, &req) == 0;
    }
    ::close(fd);
    return ok;
}

}  // namespace

void enter_private_network() { private_network = ::unshare(CLONE_NEWNET) == 0 && bring_loopback_up(); }

bool in_private_network() noexcept { return private_network; }

std::uint16_t test_port(std::uint16_t offset) noexcept {
    if (private_network) return static_cast<std::uint16_t>(5670 + offset);
    return static_cast<std::uint16_t>(20000 + ::getpid() % 40000 + offset);
}

}  // namespace grav::testkit
