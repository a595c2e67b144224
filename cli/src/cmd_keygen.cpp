// grav keygen --out FILE: a new node identity (Ed25519 key pair) in FILE,
// mode 0600; prints the public key, which other members put on their
// --allow lists. With --cluster-secret: a new random cluster secret instead.

#include "commands.hpp"
#include "output.hpp"

#include <grav/security.hpp>

#include <CLI/CLI.hpp>

#include <sodium.h>

#include <array>
#include <memory>

namespace grav::cli {
namespace {

struct KeygenOptions {
    std::string out;
    bool cluster_secret = false;
};

// 32 random bytes as base64url: 43 characters, well above the 16-byte minimum.
ExitCode write_cluster_secret(const std::string& path) {
    if (sodium_init() < 0) throw CliError(ExitCode::failure, "keygen: no random source");
    std::array<unsigned char, 32> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string text(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(text.data(), text.size(), bytes.data(), bytes.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text.resize(text.size() - 1);
    sodium_memzero(bytes.data(), bytes.size());
    const Status saved = security::write_secret_file(path, text + "\n");
    sodium_memzero(text.data(), text.size());
    if (!saved) throw CliError(ExitCode::bad_key, "keygen: " + saved.error().reason());
    print_note("cluster secret written to " + path +
               " (mode 0600); copy it to every member over a safe channel");
    return ExitCode::ok;
}

ExitCode run_keygen(const KeygenOptions& o) {
    if (o.cluster_secret) return write_cluster_secret(o.out);
    auto identity = security::Identity::generate();
    if (!identity) throw CliError(ExitCode::failure, "keygen: " + identity.error().reason());
    if (const Status saved = identity->save(o.out); !saved) {
        throw CliError(ExitCode::bad_key, "keygen: " + saved.error().reason());
    }
    print_line(identity->public_key().text());
    return ExitCode::ok;
}

}  // namespace

void add_keygen_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<KeygenOptions>();
    CLI::App* cmd = app.add_subcommand(
        "keygen", "Create this node's key file (mode 0600) and print its public key; see --secure");
    cmd->add_option("-o,--out", options->out, "The key file to create (never overwritten)")->required();
    cmd->add_flag("--cluster-secret", options->cluster_secret,
                  "Create a random cluster secret file instead (for --cluster-secret-file)");
    cmd->callback([&context, options] {
        context.run = [&context, options] {
            // Never ignored silently: keygen runs no node, so nothing would be served.
            if (!context.network.metrics.empty())
                throw CliError(ExitCode::usage,
                               "--metrics: keygen runs no node, there are no metrics to serve");
            return run_keygen(*options);
        };
    });
}

}  // namespace grav::cli
