#pragma once
// The NATS options every grav command shares: --nats URL joins the node to
// other sites through a NATS cluster. With `grav bridge` the node is on its
// LAN and on NATS; with any other command it talks through NATS alone.

#include <grav/nats.hpp>

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace grav::cli {

struct NatsCliOptions {
    std::vector<std::string> servers;     // --nats, repeatable
    std::vector<std::string> types{">"};  // --nats-types, repeatable
    std::string user, password, token;
    std::string ca_file, cert_file, key_file;
};

// Adds --nats, --nats-types, --nats-user, --nats-password, --nats-token,
// --nats-ca, --nats-cert and --nats-key to `app`.
void add_nats_options(CLI::App& app, NatsCliOptions& options);

// The bridge's options; throws CliError (usage) for an unusable pattern.
nats::Options bridge_options(const NatsCliOptions& options, const std::string& name);

}  // namespace grav::cli
