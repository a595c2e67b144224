#include "server_config.hpp"

#include <sstream>
#include <stdexcept>

namespace grav::natstest {
namespace {

// Printable ASCII without '"' and '\': safe inside a quoted config string
// with no escaping (and never read as a variable reference).
void check_plain(const std::string& what, const std::string& value) {
    for (const char c : value) {
        if (c < 0x20 || c > 0x7e || c == '"' || c == '\\') {
            throw std::invalid_argument(what + ": only printable ASCII without '\"' and '\\' is supported");
        }
    }
}

std::string quoted(const std::string& s) { return '"' + s + '"'; }

std::string loopback(std::uint16_t port) { return quoted("127.0.0.1:" + std::to_string(port)); }

}  // namespace

void validate(const NatsServerOptions& options) {
    if (options.user.empty() != options.password.empty()) {
        throw std::invalid_argument("NatsServerOptions: user and password must be set together");
    }
    if (!options.user.empty() && !options.token.empty()) {
        throw std::invalid_argument("NatsServerOptions: user/password and token are exclusive");
    }
    check_plain("NatsServerOptions::user", options.user);
    check_plain("NatsServerOptions::password", options.password);
    check_plain("NatsServerOptions::token", options.token);
    if (options.tls_cert.empty() != options.tls_key.empty()) {
        throw std::invalid_argument("NatsServerOptions: tls_cert and tls_key must be set together");
    }
    if (!options.tls_ca.empty() && options.tls_cert.empty()) {
        throw std::invalid_argument("NatsServerOptions: tls_ca needs tls_cert and tls_key");
    }
    for (const auto* f : {&options.tls_cert, &options.tls_key, &options.tls_ca})
        check_plain("a TLS file path", *f);
}

std::string server_config(std::size_t index, const std::vector<ServerPorts>& all,
                          const NatsServerOptions& options, const std::string& jetstream_dir) {
    const ServerPorts& me = all.at(index);
    std::ostringstream c;
    c << "# Written by grav's NATS test harness (tests/nats/support).\n";
    c << "server_name: " << quoted("grav-test-" + std::to_string(index)) << "\n";
    c << "listen: " << loopback(me.client) << "\n";
    c << "http: " << loopback(me.http) << "\n";
    if (options.max_payload != 0) c << "max_payload: " << options.max_payload << "\n";
    if (!options.user.empty()) {
        c << "authorization {\n  user: " << quoted(options.user)
          << "\n  password: " << quoted(options.password) << "\n}\n";
    } else if (!options.token.empty()) {
        c << "authorization {\n  token: " << quoted(options.token) << "\n}\n";
    }
    if (!options.tls_cert.empty()) {
        c << "tls {\n  cert_file: " << quoted(options.tls_cert) << "\n  key_file: " << quoted(options.tls_key)
          << "\n";
        if (!options.tls_ca.empty()) c << "  ca_file: " << quoted(options.tls_ca) << "\n  verify: true\n";
        c << "  timeout: 2\n}\n";
    }
    if (options.jetstream) {
        check_plain("the JetStream store path (from $TMPDIR)", jetstream_dir);
        c << "jetstream {\n  store_dir: " << quoted(jetstream_dir) << "\n}\n";
    }
    if (all.size() > 1) {
        c << "cluster {\n  name: \"grav-test\"\n  listen: " << loopback(me.cluster) << "\n  routes: [\n";
        for (std::size_t j = 0; j < all.size(); ++j) {
            if (j != index)
                c << "    " << quoted("nats-route://127.0.0.1:" + std::to_string(all[j].cluster)) << "\n";
        }
        c << "  ]\n}\n";
    }
    return c.str();
}

}  // namespace grav::natstest
