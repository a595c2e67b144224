#pragma once
// --secure and its key options, shared by the grav tool and the samples: one
// switch for the whole node, whose Policy goes to the transport AND to
// discovery. Errors are one line each, for the caller to print.

#include <grav/error.hpp>
#include <grav/security.hpp>

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace grav::cli {

struct SecurityOptions {
    bool secure = false;
    std::string key_file;             // allow-list mode: this node's identity
    std::vector<std::string> allow;   // allow-list mode: the other members' public keys
    std::string cluster_secret_file;  // cluster-secret mode
};

// Adds --secure, --key, --allow and --cluster-secret-file to `app`.
void add_security_options(CLI::App& app, SecurityOptions& options);

// Null without --secure; else the policy, or an error that names the bad
// option or file (Errc::invalid_argument: usage; anything else: a key file).
Result<std::shared_ptr<const security::Policy>> make_policy(const SecurityOptions& options);

}  // namespace grav::cli
