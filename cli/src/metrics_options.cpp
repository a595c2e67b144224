#include "metrics_options.hpp"

#include "exit_code.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#if GRAV_CLI_METRICS
#include <grav/metrics.hpp>

#include <optional>
#endif

namespace grav::cli {

void add_metrics_option(CLI::App& app, std::string& address) {
    app.add_option("--metrics", address,
                   "Serve this node's metrics for Prometheus at http://HOST:PORT/metrics while the command "
                   "runs (e.g. 127.0.0.1:9464; port 0 picks one, -v says which)")
        ->group("Metrics (any command; docs/GUIDE.md, Metrics)");
}

void check_metrics_address(const std::string& address) {
    if (address.empty()) return;
#if GRAV_CLI_METRICS
    if (auto s = metrics::Exporter::check_address(address); !s)
        throw CliError(ExitCode::usage, "--metrics: " + s.error().reason());
#else
    throw CliError(ExitCode::usage, "--metrics: this grav was built without grav::metrics (prometheus-cpp)");
#endif
}

struct MetricsServer::Impl {
#if GRAV_CLI_METRICS
    std::optional<metrics::Exporter> exporter;
#endif
};

MetricsServer::MetricsServer(const Bus& bus, const std::string& address, bool verbose)
    : impl_(std::make_unique<Impl>()) {
    check_metrics_address(address);
    if (address.empty()) return;
#if GRAV_CLI_METRICS
    auto exporter = metrics::Exporter::serve(bus, address);
    if (!exporter) {
        const ExitCode code =
            exporter.error().code() == Errc::invalid_argument ? ExitCode::usage : ExitCode::cannot_start;
        throw CliError(code, "--metrics: " + exporter.error().reason());
    }
    if (verbose) print_note("metrics at http://" + exporter->address() + "/metrics");
    impl_->exporter.emplace(std::move(*exporter));
#else
    (void)bus;
    (void)verbose;
#endif
}

MetricsServer::~MetricsServer() = default;

}  // namespace grav::cli
