// grav peers [--watch] [--node ID|NAME]: the nodes in view, as a table with
// each one's health (round trip, messages and bytes each way, resent, lost,
// last seen); with --watch, every join and leave as it happens, each
// followed by the table. --node: another node's peers as it sees them.

#include "commands.hpp"
#include "exit_code.hpp"
#include "mesh_view.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"
#include "table.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <memory>

namespace grav::cli {
namespace {

struct PeersOptions {
    bool watch = false;
    std::chrono::milliseconds wait{1500};
    std::string node;  // --node: that node's peers, asked over the mesh
    std::chrono::milliseconds timeout{2000};
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
    std::snprintf(text, sizeof text, "%.1f s ago", static_cast<double>(ms.count()) / 1000.0);
    return text;
}

const PeerTraffic* traffic_of(const std::vector<PeerTraffic>& traffic, const NodeId& id) {
    for (const auto& t : traffic)
        if (t.peer == id) return &t;
    return nullptr;
}

Row header() {
    Row row{"ID", "NAME", "ADDRESS", "GROUP", "INTERESTS", "STATE"};
    for (auto& cell : traffic_header()) row.push_back(std::move(cell));
    return row;
}

void print_table(Node& node) {
    // Ready peers as the bus sees them now, with their traffic and health
    // (last seen: the transport's last frame from it, else the bus's), then
    // those that left.
    const auto traffic = node.bus().peer_traffic();
    std::vector<Row> rows{header()};
    for (const PeerInfo& p : node.bus().peers()) {
        const PeerTraffic* t = traffic_of(traffic, p.id);
        Row row{p.id.short_str(), p.name, p.address, p.belongs_to, join(p.interests), "ready"};
        for (auto& cell : traffic_cells(t)) row.push_back(std::move(cell));
        if (!t || !t->last_seen) row.back() = ago(p.last_seen);
        rows.push_back(std::move(row));
    }
    for (const PeerRecord& r : node.peers().snapshot()) {
        if (r.ready) continue;
        Row row{
            r.info.id.short_str(),  r.info.name,
            r.info.address,         r.info.belongs_to,
            join(r.info.interests), std::string("left (") + (r.reason ? to_string(*r.reason) : "?") + ")"};
        for (auto& cell : traffic_cells(nullptr)) row.push_back(std::move(cell));
        row.back() = ago(r.changed);
        rows.push_back(std::move(row));
    }
    if (rows.size() == 1) {
        print_line("no peers in view (" + node.discovery_text() + ")");
        return;
    }
    grav::cli::print_table(rows);
}

// --node: the peers of another node as it sees them (grav.sys.stats).
ExitCode print_remote(Node& node, const NodeId& id, std::chrono::milliseconds timeout) {
    auto answers = node.bus().node_stats({id}, timeout);
    if (!answers[0]) {
        const bool silent = answers[0].error().code() == Errc::timeout;
        throw CliError(
            silent ? ExitCode::timeout : ExitCode::failure,
            "node " + node_label(node, id) + ": " +
                (silent ? "no answer within " + duration_text(timeout) : answers[0].error().reason()));
    }
    const NodeReport& r = *answers[0];
    print_line("peers of node " +
               (r.name.empty() ? r.node.short_str() : r.name + " (" + r.node.short_str() + ")") +
               ", as it sees them:");
    Row head{"ID", "NAME"};
    for (auto& cell : traffic_header()) head.push_back(std::move(cell));
    std::vector<Row> rows{head};
    for (const PeerTraffic& t : r.peers) {
        Row row{t.peer.short_str(),
                t.peer == node.bus().node_id() ? "(this grav peers)" : node.peers().name_of(t.peer)};
        if (row[1] == t.peer.short_str()) row[1] = "-";
        for (auto& cell : traffic_cells(&t)) row.push_back(std::move(cell));
        rows.push_back(std::move(row));
    }
    if (rows.size() == 1) {
        print_line("no peers");
        return ExitCode::ok;
    }
    grav::cli::print_table(rows);
    return ExitCode::ok;
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
    if (!o.node.empty()) {
        const NodeId id = find_node(node, o.node, std::chrono::milliseconds(3000), interrupt);
        ExitCode code = print_remote(node, id, o.timeout);
        while (o.watch && !interrupt.sleep_for(std::chrono::milliseconds(1000))) {
            print_line("--- " + clock_text(Clock::now()));
            code = print_remote(node, id, o.timeout);
        }
        return code;
    }
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
    CLI::App* cmd = app.add_subcommand(
        "peers", "List the nodes in view: id, name, address, group, interests, state, round trip, traffic");
    cmd->add_flag("-w,--watch", options->watch, "Keep running: print joins and leaves as they happen");
    add_duration_option(*cmd, "--wait", options->wait, "How long to listen for peers before printing",
                        Zero::allowed);
    cmd->add_option(
           "--node", options->node,
           "Show the peers of this node (id, id prefix or name) as it sees them, asked over the mesh")
        ->check([](const std::string& v) { return v.empty() ? std::string("is empty") : std::string(); });
    add_duration_option(*cmd, "--timeout", options->timeout, "With --node: how long to wait for its answer",
                        Zero::refused);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_peers(context, *options); }; });
}

}  // namespace grav::cli
