// grav bridge --nats URL [--nats-types PATTERN...]: a bridge node for this
// LAN until Ctrl-C: the mesh's messages of those types go to the other
// sites on the NATS cluster, theirs come to this site.

#include "commands.hpp"
#include "node.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <map>
#include <memory>

namespace grav::cli {
namespace {

std::uint64_t value(const std::map<std::string, std::uint64_t>& stats, const std::string& key) {
    const auto it = stats.find(key);
    return it == stats.end() ? 0 : it->second;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "'" : ", '") + i + "'";
    return out;
}

ExitCode run_bridge(Context& context) {
    Interrupt& interrupt = *context.interrupt;
    context.network.bridge_lan = true;
    Node node(context.network, {});
    node.connect();
    const auto& nats = context.network.nats;
    print_note("bridge " + node.describe() + ": this LAN (" + node.discovery_text() + ", group '" +
               context.network.group + "') <-> NATS " + join(nats.servers) + " for types " +
               join(nats.types) + "; Ctrl-C to stop");

    // Say what changes: connected or not, active or standing by.
    std::uint64_t connected = 2, active = 2;
    while (!interrupt.sleep_for(std::chrono::milliseconds(100))) {
        const auto stats = node.bus().stats().network;
        const auto now_connected = value(stats, "nats.connected");
        const auto now_active = value(stats, "bridge.active");
        if (now_connected != connected) {
            print_note(now_connected ? "connected to NATS" : "not connected to NATS (retrying)");
            connected = now_connected;
        }
        if (now_active != active) {
            print_note(now_active ? "this node is the site's active bridge"
                                  : "standing by: another bridge node of this site is active");
            active = now_active;
        }
    }
    const auto stats = node.bus().stats().network;
    print_note("bridge stopping: forwarded " + std::to_string(value(stats, "bridge.forwarded")) +
               ", delivered from other sites " + std::to_string(value(stats, "bridge.injected")) +
               ", refused " + std::to_string(value(stats, "bridge.refused")) + ", lost " +
               std::to_string(value(stats, "bridge.lost")));
    return ExitCode::ok;
}

}  // namespace

void add_bridge_command(CLI::App& app, Context& context) {
    CLI::App* cmd = app.add_subcommand(
        "bridge", "Join this LAN's mesh to other sites through NATS (--nats URL, --nats-types PATTERN)");
    cmd->callback([&context] { context.run = [&context] { return run_bridge(context); }; });
}

}  // namespace grav::cli
