#include "udp_socket.hpp"

#include "interfaces.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace grav::beacon {
namespace {

Error sys_error(const std::string& what) {
    return {Errc::transport_failed, what + ": " + std::strerror(errno)};
}

Status set_int(int fd, int level, int name, int value, const char* what) {
    if (::setsockopt(fd, level, name, &value, sizeof value) != 0) return sys_error(what);
    return success();
}

}  // namespace

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

sockaddr_in make_endpoint(in_addr address, std::uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = address;
    sa.sin_port = htons(port);
    return sa;
}

Result<UdpSocket> UdpSocket::open(std::uint16_t port, bool shared) {
    UdpSocket s;
    s.fd_ = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!s.fd_.valid()) return sys_error("socket");
    const int fd = s.fd_.get();
    if (shared) {
        if (auto st = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !st) return st.error();
        // Only the groups this socket joined, not every group any socket on
        // the host joined on this port.
        if (auto st = set_int(fd, IPPROTO_IP, IP_MULTICAST_ALL, 0, "IP_MULTICAST_ALL"); !st)
            return st.error();
    }
    if (auto st = set_int(fd, SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST"); !st) return st.error();
    if (auto st = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO"); !st) return st.error();
    if (auto st = set_int(fd, IPPROTO_IP, IP_MULTICAST_LOOP, 1, "IP_MULTICAST_LOOP"); !st) return st.error();
    const sockaddr_in any = make_endpoint(in_addr{htonl(INADDR_ANY)}, port);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&any), sizeof any) != 0) {  // NOLINT: the BSD socket API
        return sys_error("bind UDP port " + std::to_string(port));
    }
    return s;
}

Status UdpSocket::join_group(in_addr group, unsigned interface) {
    ip_mreqn req{};
    req.imr_multiaddr = group;
    req.imr_ifindex = static_cast<int>(interface);
    if (::setsockopt(fd_.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &req, sizeof req) != 0 &&
        errno != EADDRINUSE) {
        return sys_error("IP_ADD_MEMBERSHIP");
    }
    return success();
}

Status UdpSocket::set_multicast_ttl(int ttl) {
    return set_int(fd_.get(), IPPROTO_IP, IP_MULTICAST_TTL, ttl, "IP_MULTICAST_TTL");
}

Status UdpSocket::send(std::span<const std::uint8_t> bytes, const sockaddr_in& to, unsigned interface,
                       in_addr source) {
    iovec iov{const_cast<std::uint8_t*>(bytes.data()), bytes.size()};
    msghdr msg{};
    msg.msg_name = const_cast<sockaddr_in*>(&to);
    msg.msg_namelen = sizeof to;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
    if (interface != 0) {
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
        in_pktinfo info{};
        info.ipi_ifindex = static_cast<int>(interface);
        info.ipi_spec_dst = source;
        std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    if (::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL) < 0)
        return sys_error("sendmsg to " + to_string(to.sin_addr));
    return success();
}

std::optional<Datagram> UdpSocket::receive(std::span<std::uint8_t> buffer) {
    Datagram d;
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = &d.source;
    msg.msg_namelen = sizeof d.source;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo)) + 64] = {};
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_.get(), &msg, 0);
    if (n < 0) return std::nullopt;
    d.size = static_cast<std::size_t>(n);
    d.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            d.destination = info.ipi_addr;
            d.interface = static_cast<unsigned>(info.ipi_ifindex);
        }
    }
    return d;
}

}  // namespace grav::beacon
