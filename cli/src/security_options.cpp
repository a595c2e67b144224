#include "security_options.hpp"

#include <CLI/CLI.hpp>

namespace grav::cli {

void add_security_options(CLI::App& app, SecurityOptions& o) {
    const std::string section = "Security (any command; see docs/GUIDE.md)";
    app.add_flag("--secure", o.secure,
                 "Encrypt and authenticate every link (CURVE) and sign beacons; needs --key or "
                 "--cluster-secret-file")
        ->group(section);
    app.add_option("--key", o.key_file, "This node's key file (from grav keygen): allow-list mode")
        ->group(section);
    app.add_option("--allow", o.allow, "Admit the node with this public key (allow-list mode; repeat)")
        ->group(section);
    app.add_option("--cluster-secret-file", o.cluster_secret_file,
                   "Admit every node holding this secret (file mode 0600, from grav keygen --cluster-secret)")
        ->group(section);
}

Result<std::shared_ptr<const security::Policy>> make_policy(const SecurityOptions& o) {
    const bool has_key = !o.key_file.empty();
    const bool has_secret = !o.cluster_secret_file.empty();
    if (!o.secure) {
        if (has_key || has_secret || !o.allow.empty()) {
            return Error(Errc::invalid_argument, "--key, --allow and --cluster-secret-file need --secure");
        }
        return std::shared_ptr<const security::Policy>{};
    }
    if (has_key == has_secret) {
        return Error(Errc::invalid_argument,
                     "--secure needs exactly one of --key FILE (allow-list) or --cluster-secret-file FILE");
    }
    if (has_secret) {
        if (!o.allow.empty()) {
            return Error(Errc::invalid_argument,
                         "--allow is for --key (allow-list), not --cluster-secret-file");
        }
        auto secret = security::read_secret_file(o.cluster_secret_file);
        if (!secret) return Error(Errc::rejected, "--cluster-secret-file: " + secret.error().reason());
        auto policy = security::Policy::cluster_secret(*secret);
        if (!policy)
            return Error(Errc::rejected,
                         "--cluster-secret-file " + o.cluster_secret_file + ": " + policy.error().reason());
        return policy;
    }
    std::vector<security::PublicKey> allowed;
    for (const auto& text : o.allow) {
        auto key = security::PublicKey::parse(text);
        if (!key) return Error(Errc::invalid_argument, "--allow: " + key.error().reason());
        allowed.push_back(*key);
    }
    auto identity = security::Identity::load(o.key_file);
    if (!identity) return Error(Errc::rejected, "--key: " + identity.error().reason());
    auto policy = security::Policy::allow_list(std::move(*identity), std::move(allowed));
    if (!policy) return Error(Errc::invalid_argument, "--allow: " + policy.error().reason());
    return policy;
}

}  // namespace grav::cli
