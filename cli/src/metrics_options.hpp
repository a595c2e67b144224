#pragma once
// --metrics HOST:PORT (any command that runs a node): serves the node's
// metrics for Prometheus at http://HOST:PORT/metrics while the command runs
// (grav::metrics). Checked with the other options, before any socket opens.

#include <grav/bus.hpp>

#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace grav::cli {

// Adds --metrics to `app` (the top-level app; subcommands see it).
void add_metrics_option(CLI::App& app, std::string& address);

// Throws CliError (usage) for an address the exporter cannot take, or when
// this grav was built without grav::metrics. "" is fine (no exporter).
void check_metrics_address(const std::string& address);

// The exporter for `bus` (which must outlive it), or none for "". Throws
// CliError: usage for a bad address, cannot_start when it cannot listen.
// With `verbose`, says where it listens.
class MetricsServer {
public:
    MetricsServer(const Bus& bus, const std::string& address, bool verbose);
    ~MetricsServer();
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace grav::cli
