#pragma once
// A real Prometheus server for the tests: a temporary directory with the
// prometheus.yml the test asks for and the TSDB, the process started on a
// loopback port, and both gone when the object goes (SIGKILL, reap, remove
// the directory), whatever the test did. The child asks for SIGKILL when the
// forking thread dies (PR_SET_PDEATHSIG): construct it on the test's main thread.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace grav::mtest {

class PrometheusServer {
public:
    // Scrapes 127.0.0.1:target_port/metrics every second. Throws
    // std::runtime_error when the directory, the config or fork fails.
    PrometheusServer(const std::string& binary, std::uint16_t target_port);
    ~PrometheusServer();
    PrometheusServer(const PrometheusServer&) = delete;
    PrometheusServer& operator=(const PrometheusServer&) = delete;

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    // True once /-/ready answers 200 within `timeout`; false if the process died.
    bool wait_ready(std::chrono::milliseconds timeout);
    // The value of the first series an instant query returns, nullopt when
    // it returns none (or the query fails).
    [[nodiscard]] std::optional<double> query(const std::string& promql) const;
    // The server's output so far, for a failing test's message.
    [[nodiscard]] std::string log() const;

private:
    std::string dir_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace grav::mtest
