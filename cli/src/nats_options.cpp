#include "nats_options.hpp"

#include "exit_code.hpp"

#include <grav/type_pattern.hpp>

#include <CLI/CLI.hpp>

namespace grav::cli {

void add_nats_options(CLI::App& app, NatsCliOptions& o) {
    const std::string section = "NATS (any command; docs/GUIDE.md, Beyond the LAN)";
    app.add_option("--nats", o.servers,
                   "Join other sites through this NATS server, nats://HOST:PORT (repeatable: a cluster). "
                   "With `bridge`: this LAN and NATS; otherwise NATS alone")
        ->group(section);
    app.add_option("--nats-types", o.types,
                   "Types that cross to other sites: NATS patterns like 'chat.*', "
                   "'orders.>' (repeatable)")
        ->group(section)
        ->capture_default_str();
    app.add_option("--nats-user", o.user, "NATS user (with --nats-password)")->group(section);
    app.add_option("--nats-password", o.password, "NATS password")->group(section);
    app.add_option("--nats-token", o.token, "NATS token")->group(section);
    app.add_option("--nats-ca", o.ca_file, "TLS: the CA file (PEM) the servers' certificates chain to")
        ->group(section)
        ->check(CLI::ExistingFile);
    app.add_option("--nats-cert", o.cert_file, "TLS: client certificate (PEM), with --nats-key")
        ->group(section)
        ->check(CLI::ExistingFile);
    app.add_option("--nats-key", o.key_file, "TLS: client key (PEM)")
        ->group(section)
        ->check(CLI::ExistingFile);
}

nats::Options bridge_options(const NatsCliOptions& o, const std::string& name) {
    for (const auto& t : o.types) {
        if (auto p = TypePattern::parse(t); !p)
            throw CliError(ExitCode::usage, "--nats-types: " + p.error().reason());
    }
    if (o.user.empty() != o.password.empty()) {
        throw CliError(ExitCode::usage, "--nats-user and --nats-password go together");
    }
    nats::Options n;
    n.servers = o.servers;
    n.types = o.types;
    n.user = o.user;
    n.password = o.password;
    n.token = o.token;
    n.tls.ca_file = o.ca_file;
    n.tls.cert_file = o.cert_file;
    n.tls.key_file = o.key_file;
    n.name = name;
    return n;
}

}  // namespace grav::cli
