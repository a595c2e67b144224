#include "loopback.hpp"

#include <string>

namespace grav::natstest {

bool nats_greets(std::uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto fd = test::connect_loopback(port, deadline);
    if (!fd) return false;
    std::string got;
    test::read_until(fd->get(), got, deadline,
                     [](const std::string& s) { return s.find("\r\n") != std::string::npos; });
    return got.rfind("INFO ", 0) == 0 && got.find("\r\n") != std::string::npos;
}

}  // namespace grav::natstest
