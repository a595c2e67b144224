#include "bus_collectable.hpp"

#include <grav/metrics.hpp>

#include <prometheus/exposer.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <thread>

namespace grav::metrics {
namespace {

struct ListenAddress {
    std::string host;  // numeric IPv4, as given
    std::uint16_t port = 0;
};

// "HOST:PORT" with a numeric IPv4 host: civetweb would resolve a name itself,
// but only numbers say unambiguously where it listens. IPv6 is refused up
// front: Debian's civetweb is built without it (mg_check_feature(8) is 0),
// and its own error would only say "problem binding to port".
Result<ListenAddress> parse_address(std::string_view text) {
    const auto bad = [&](const std::string& why) {
        return Error(Errc::invalid_argument,
                     "unusable metrics address '" + std::string(text) + "': " + why +
                         " (expected HOST:PORT, e.g. 127.0.0.1:9464 or 0.0.0.0:9464)");
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return bad("no HOST:PORT");
    const std::string host(text.substr(0, colon));
    const std::string_view port_text = text.substr(colon + 1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
        return bad("the port is not a number from 0 to 65535");
    in_addr v4{};
    in6_addr v6{};
    if (host.size() > 2 && host.front() == '[' && host.back() == ']' &&
        ::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1)
        return bad("the HTTP server (civetweb) was built without IPv6; use an IPv4 address");
    if (::inet_pton(AF_INET, host.c_str(), &v4) != 1) return bad("the host is not a numeric IPv4 address");
    return ListenAddress{host, static_cast<std::uint16_t>(port)};
}

// civetweb's listening thread polls its sockets 2 s at a time and reads its
// stop flag only between polls, so destroying the exposer would take up to
// 2 s (a whole second or two added to every `grav pub --metrics`). A
// connection wakes that poll: while the exposer is being destroyed, a
// helper thread dials it every few milliseconds until it is gone.
void destroy_promptly(std::unique_ptr<prometheus::Exposer>& exposer, const std::string& host,
                      std::uint16_t port) {
    std::atomic<bool> gone{false};
    std::thread waker([&gone, host, port] {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(port);
        if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1 || a.sin_addr.s_addr == htonl(INADDR_ANY))
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        while (!gone.load()) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd >= 0) {
                (void)::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a);
                ::close(fd);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    exposer.reset();
    gone.store(true);
    waker.join();
}

}  // namespace

struct Exporter::Impl {
    std::string host;
    std::uint16_t port = 0;
    // The collectable outlives the exposer (declared first, destroyed last):
    // the exposer holds it by weak_ptr, and its threads are joined before.
    std::shared_ptr<detail::BusCollectable> collectable;
    std::unique_ptr<prometheus::Exposer> exposer;
};

Result<Exporter> Exporter::serve(const Bus& bus, std::string_view address) {
    auto parsed = parse_address(address);
    if (!parsed) return parsed.error();
    auto impl = std::make_unique<Impl>();
    impl->host = parsed->host;
    impl->collectable = std::make_shared<detail::BusCollectable>(bus);
    try {
        impl->exposer = std::make_unique<prometheus::Exposer>(std::string(address), 2);
    } catch (const std::exception& e) {
        return Error(Errc::transport_failed, "cannot serve metrics on " + std::string(address) +
                                                 ": cannot listen there (port in use, or not an address of "
                                                 "this host): " +
                                                 e.what());
    }
    const auto ports = impl->exposer->GetListeningPorts();
    if (ports.empty() || ports.front() <= 0 || ports.front() > 65535)
        return Error(Errc::transport_failed, "cannot serve metrics on " + std::string(address) +
                                                 ": the HTTP server reports no listening port");
    impl->port = static_cast<std::uint16_t>(ports.front());
    impl->exposer->RegisterCollectable(impl->collectable);
    return Exporter(std::move(impl));
}

Status Exporter::check_address(std::string_view address) {
    auto parsed = parse_address(address);
    if (!parsed) return parsed.error();
    return success();
}

Exporter::Exporter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Exporter::Exporter(Exporter&&) noexcept = default;
Exporter& Exporter::operator=(Exporter&&) noexcept = default;
Exporter::~Exporter() {
    // Joins its threads while the collectable still exists.
    if (impl_ && impl_->exposer) destroy_promptly(impl_->exposer, impl_->host, impl_->port);
}

std::uint16_t Exporter::port() const noexcept { return impl_ ? impl_->port : 0; }

std::string Exporter::address() const { return impl_ ? impl_->host + ":" + std::to_string(impl_->port) : ""; }

}  // namespace grav::metrics
