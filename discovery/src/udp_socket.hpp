#pragma once
// A non-blocking IPv4 UDP socket that tells, for every datagram, which
// interface received it and what its destination address was (IP_PKTINFO),
// and that can send out of a chosen interface.

#include <grav/error.hpp>

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace grav::beacon {

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd();
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    [[nodiscard]] int get() const noexcept { return fd_; }
    [[nodiscard]] bool valid() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        const int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
};

struct Datagram {
    std::size_t size = 0;    // bytes stored in the caller's buffer
    bool truncated = false;  // the datagram was longer than the buffer
    sockaddr_in source{};    // address and port it came from
    in_addr destination{};   // its IP destination (unicast, broadcast or group)
    unsigned interface = 0;  // index of the interface that received it
};

class UdpSocket {
public:
    // port 0: an ephemeral port. shared: SO_REUSEADDR, so that every node on
    // a host can listen on the same beacon port and each gets every broadcast.
    static Result<UdpSocket> open(std::uint16_t port, bool shared);

    [[nodiscard]] int fd() const noexcept { return fd_.get(); }

    Status join_group(in_addr group, unsigned interface);
    Status set_multicast_ttl(int ttl);

    // interface 0: let routing choose; otherwise leave through that interface
    // with `source` as the source address.
    Status send(std::span<const std::uint8_t> bytes, const sockaddr_in& to, unsigned interface = 0,
                in_addr source = {});
    // nullopt when nothing is waiting (or on a transient error).
    std::optional<Datagram> receive(std::span<std::uint8_t> buffer);

private:
    Fd fd_;
};

sockaddr_in make_endpoint(in_addr address, std::uint16_t port);

}  // namespace grav::beacon
