// grav peers [--watch]: the nodes in view, as a table; with --watch, every
// join and leave as it happens, each followed by the table.

#include "commands.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <memory>

namespace grav::cli {
namespace {

struct PeersOptions {
    bool watch = false;
    std::chrono::milliseconds wait{1500};
};

std::string join(const std::vector<std::string>& items) {
    if (items.empty()) return "-";
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
    return out;
}

std::string ago(std::chrono::steady_clock::time_point when) {
    if (when == std::chrono::steady_clock::time_point{}) return "-";
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - when);
    char text[32];
    std::snprintf(text, sizeof text, "%.1fs ago", static_cast<double>(ms.count()) / 1000.0);
    return text;
}

void print_table(Node& node) {
    // Ready peers as the bus sees them now (fresh last_seen), then those that left.
    std::vector<std::vector<std::string>> rows{
        {"ID", "NAME", "ADDRESS", "GROUP", "INTERESTS", "STATE", "LAST SEEN"}};
    for (const PeerInfo& p : node.bus().peers())
        rows.push_back({p.id.short_str(), p.name, p.address, p.belongs_to, join(p.interests), "ready",
                        ago(p.last_seen)});
    for (const PeerRecord& r : node.peers().snapshot()) {
        if (r.ready) continue;
        rows.push_back(
            {r.info.id.short_str(), r.info.name, r.info.address, r.info.belongs_to, join(r.info.interests),
             std::string("left (") + (r.reason ? to_string(*r.reason) : "?") + ")", ago(r.changed)});
    }
    if (rows.size() == 1) {
        print_line("no peers in view (" + node.discovery_text() + ")");
        return;
    }
    std::vector<std::size_t> widths(rows.front().size(), 0);
    for (const auto& row : rows)
        for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t c = 0; c < row.size(); ++c) {
            line += row[c];
            if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
        }
        print_line(line);
    }
}

ExitCode run_peers(Context& context, const PeersOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    std::atomic<bool> changed{false};  // before the node: its callbacks use it until the bus stops
    Node node(context.network, {});
    if (o.watch) {
        node.peers().set_listener([&](const PeerEvent& e) {
            const std::string who = (e.peer.name.empty() ? e.peer.id.short_str() : e.peer.name) + " (" +
                                    e.peer.id.short_str() + ")";
            if (e.kind == PeerEvent::Kind::joined)
                print_line(clock_text(Clock::now()) + " + " + who + " joined from " + e.peer.address);
            else if (e.kind == PeerEvent::Kind::lost_messages || e.kind == PeerEvent::Kind::unsent)
                print_line(clock_text(Clock::now()) + " ! " + e.detail);
            else
                print_line(clock_text(Clock::now()) + " - " + who +
                           " left: " + (e.reason ? to_string(*e.reason) : "?") +
                           (e.detail.empty() ? "" : " (" + e.detail + ")"));
            changed.store(true);
        });
    }
    node.connect();
    // Discovery needs a moment: beacons go out every ~0.5 s.
    if (interrupt.sleep_for(o.wait)) return ExitCode::ok;
    print_table(node);
    if (!o.watch) return ExitCode::ok;
    changed.store(false);
    while (!interrupt.sleep_for(std::chrono::milliseconds(100))) {
        if (changed.exchange(false)) print_table(node);
    }
    return ExitCode::ok;
}

}  // namespace

void add_peers_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<PeersOptions>();
    CLI::App* cmd =
        app.add_subcommand("peers", "List the nodes in view: id, name, address, group, interests, state");
    cmd->add_flag("-w,--watch", options->watch, "Keep running: print joins and leaves as they happen");
    add_duration_option(*cmd, "--wait", options->wait, "How long to listen for peers before printing",
                        Zero::allowed);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_peers(context, *options); }; });
}

}  // namespace grav::cli
