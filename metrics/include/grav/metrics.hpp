#pragma once
// grav::metrics — serves a bus's metrics (Bus::metrics(), the Prometheus text
// format of Bus::metrics_text()) over HTTP at /metrics, for Prometheus or
// any scraper. Built on prometheus-cpp's pull exposer (civetweb).
//
//   grav::Bus bus(...);
//   auto exporter = grav::metrics::Exporter::serve(bus, "127.0.0.1:9464");
//   if (!exporter) { /* exporter.error(): bad address, port in use */ }
//   // ... scrape http://127.0.0.1:9464/metrics ...

#include <grav/bus.hpp>
#include <grav/error.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace grav::metrics {

class Exporter {
public:
    // Listens on `address`, "HOST:PORT": a numeric IPv4 address, "0.0.0.0"
    // for every interface (IPv6 is refused: Debian's civetweb has none); port 0
    // picks a free port (see port()). Errc::invalid_argument for an
    // unparsable address, Errc::transport_failed when it cannot listen
    // there (port in use, address not on this host). The bus must outlive
    // the exporter and stay where it is (not moved from) meanwhile.
    static Result<Exporter> serve(const Bus& bus, std::string_view address);
    // Whether serve() would accept `address` as written (it may still find
    // the port in use): for checking a command line before anything starts.
    static Status check_address(std::string_view address);

    Exporter(Exporter&&) noexcept;
    Exporter& operator=(Exporter&&) noexcept;
    ~Exporter();  // stops listening; a scrape under way finishes first

    // The port it listens on (the one picked for port 0).
    [[nodiscard]] std::uint16_t port() const noexcept;
    // "HOST:PORT" with that port, as given otherwise.
    [[nodiscard]] std::string address() const;

private:
    struct Impl;
    explicit Exporter(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace grav::metrics
