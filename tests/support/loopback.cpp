#include "support/loopback.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace grav::test {
namespace {

using Clock = std::chrono::steady_clock;

sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

int millis_left(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

std::optional<LoopbackSocket> connect_to(std::uint16_t port, Clock::time_point deadline) {
    LoopbackSocket fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return std::nullopt;
    const sockaddr_in addr = loopback(port);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
    if (errno != EINPROGRESS) return std::nullopt;
    pollfd p{fd.get(), POLLOUT, 0};
    if (::poll(&p, 1, millis_left(deadline)) != 1) return std::nullopt;
    int error = 0;
    socklen_t len = sizeof error;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &error, &len) != 0 || error != 0) return std::nullopt;
    return fd;
}

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

LoopbackSocket::~LoopbackSocket() {
    if (fd_ >= 0) ::close(fd_);
}

std::optional<LoopbackSocket> connect_loopback(std::uint16_t port, Clock::time_point deadline) {
    return connect_to(port, deadline);
}

bool read_until(int fd, std::string& into, Clock::time_point deadline,
                const std::function<bool(const std::string&)>& done) {
    char chunk[4096];
    while (!done(into)) {
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, millis_left(deadline));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (n < 0) return false;
        if (n == 0) return true;
        into.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
}

std::vector<std::uint16_t> free_loopback_ports(std::size_t count) {
    std::vector<LoopbackSocket> held;
    std::vector<std::uint16_t> ports;
    // Bounded: the kernel hands out ephemeral ports, far from 4222/6222/8222;
    // the guard only matters if the ephemeral range was configured to include them.
    for (int attempt = 0; ports.size() < count && attempt < 100; ++attempt) {
        LoopbackSocket fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        sockaddr_in addr = loopback(0);
        auto* sa = reinterpret_cast<sockaddr*>(&addr);
        socklen_t len = sizeof addr;
        if (::bind(fd.get(), sa, sizeof addr) != 0 || ::getsockname(fd.get(), sa, &len) != 0) {
            throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
        }
        const std::uint16_t port = ntohs(addr.sin_port);
        held.push_back(std::move(fd));
        if (port == 4222 || port == 6222 || port == 8222) continue;
        ports.push_back(port);
    }
    if (ports.size() < count) throw std::runtime_error("no free loopback ports");
    return ports;
}

std::uint16_t free_loopback_port() {
    LoopbackSocket fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr = loopback(0);
    auto* sa = reinterpret_cast<sockaddr*>(&addr);
    socklen_t len = sizeof addr;
    if (::bind(fd.get(), sa, sizeof addr) != 0 || ::getsockname(fd.get(), sa, &len) != 0)
        throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
    return ntohs(addr.sin_port);
}

std::uint16_t free_loopback_port_pair() {
    auto bindable = [](std::uint16_t port) {
        LoopbackSocket fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const int on = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        sockaddr_in addr = loopback(port);
        return fd.get() >= 0 && ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    };
    std::random_device seed;
    std::mt19937 pick(seed());
    std::uniform_int_distribution<int> below_ephemeral(20000, 32000);  // ip_local_port_range starts at 32768
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto port = static_cast<std::uint16_t>(below_ephemeral(pick));
        if (bindable(port) && bindable(static_cast<std::uint16_t>(port + 1))) return port;
    }
    throw std::runtime_error("no two free consecutive loopback ports in 20000-32001");
}

bool accepts_connections(std::uint16_t port, std::chrono::milliseconds timeout) {
    return connect_to(port, Clock::now() + timeout).has_value();
}

std::optional<HttpResponse> http_get(std::uint16_t port, const std::string& target,
                                     std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    auto fd = connect_to(port, deadline);
    if (!fd) return std::nullopt;
    const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
                                "\r\nConnection: close\r\n\r\n";
    std::size_t sent = 0;
    while (sent < request.size()) {
        const ssize_t n = ::send(fd->get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) return std::nullopt;
        pollfd p{fd->get(), POLLOUT, 0};
        if (::poll(&p, 1, millis_left(deadline)) != 1) return std::nullopt;
    }
    std::string raw;  // to EOF: the server closes after the response
    if (!read_until(fd->get(), raw, deadline, [](const std::string&) { return false; })) return std::nullopt;
    const auto head_end = raw.find("\r\n\r\n");
    if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos || raw.size() < 12) return std::nullopt;
    HttpResponse response;
    try {
        response.status = std::stoi(raw.substr(9, 3));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    std::size_t line = raw.find("\r\n") + 2;
    while (line < head_end) {
        const auto end = raw.find("\r\n", line);
        const auto colon = raw.find(':', line);
        if (colon != std::string::npos && colon < end) {
            std::string value = raw.substr(colon + 1, end - colon - 1);
            value.erase(0, value.find_first_not_of(' '));
            response.headers[lower(raw.substr(line, colon - line))] = value;
        }
        line = end + 2;
    }
    response.body = raw.substr(head_end + 4);
    return response;
}

}  // namespace grav::test
