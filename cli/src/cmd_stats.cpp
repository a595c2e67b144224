// grav stats [--node ID|NAME] [--all] [--watch [--interval D]]: the counters
// of the nodes in view, asked over the mesh (grav.sys.stats, Bus::node_stats):
// a table with one row per node, or every counter of one node (--node) or of
// each (--all) as name/value lines; --watch asks again every interval until
// Ctrl-C. A node in view that does not answer, or heard but never ready, is
// a row of its own, never left out.

#include "commands.hpp"
#include "mesh_view.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"
#include "table.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <memory>
#include <optional>

namespace grav::cli {
namespace {

struct StatsOptions {
    std::string node;  // empty: every node in view
    bool all = false;
    bool watch = false;
    std::chrono::milliseconds interval{1000};
    std::chrono::milliseconds wait{1500};
    std::chrono::milliseconds timeout{2000};
};

// Nodes heard by discovery get this much more to be ready.
constexpr std::chrono::milliseconds settle{3000};

std::uint64_t counter(const NodeReport& r, const std::string& name) {
    const auto it = r.stats.network.find(name);
    return it == r.stats.network.end() ? 0 : it->second;
}

struct Answer {
    NodeId node;
    std::optional<NodeReport> report;
    std::string problem;  // why there is no report
};

Row summary_header() {
    return {"NODE",          "STATUS",       "PODS",  "SENT",  "DELIVERED", "FAILED",
            "DROPPED",       "FROM PEERS",   "PEERS", "QUEUE", "NET OUT",   "NET IN",
            "NET BYTES OUT", "NET BYTES IN", "GAPS",  "LOST",  "RESENT"};
}

Row summary_row(const std::string& label, const Answer& a) {
    if (!a.report) {
        Row row(summary_header().size(), "-");
        row[0] = label;
        row[1] = a.problem;
        return row;
    }
    const NodeReport& r = *a.report;
    const BusStats& s = r.stats;
    return {label,
            "ok",
            std::to_string(s.pods),
            std::to_string(s.sent),
            std::to_string(s.delivered),
            std::to_string(s.failed),
            std::to_string(s.dropped),
            std::to_string(s.received_from_peers),
            std::to_string(s.peers),
            std::to_string(s.queue_depth),
            std::to_string(counter(r, "zmq.messages_sent")),
            std::to_string(counter(r, "zmq.messages_received")),
            bytes_text(counter(r, "zmq.bytes_sent")),
            bytes_text(counter(r, "zmq.bytes_received")),
            std::to_string(counter(r, "zmq.gaps")),
            std::to_string(counter(r, "zmq.lost")),
            std::to_string(counter(r, "zmq.resent"))};
}

void print_every_counter(const std::string& label, const Answer& a) {
    print_line("node " + label + (a.report ? "" : ": " + a.problem));
    if (!a.report) return;
    const BusStats& s = a.report->stats;
    std::vector<Row> rows{{"name", "value"}};
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::uint64_t>>{
             {"pods", s.pods},
             {"sent", s.sent},
             {"delivered", s.delivered},
             {"failed", s.failed},
             {"redelivered", s.redelivered},
             {"dropped", s.dropped},
             {"queue_depth", s.queue_depth},
             {"disconnected_by_bus", s.disconnected_by_bus},
             {"received_from_peers", s.received_from_peers},
             {"peers", s.peers}}) {
        rows.push_back({name, std::to_string(value)});
    }
    for (const auto& [name, value] : s.network) rows.push_back({name, std::to_string(value)});
    print_table(rows);
}

ExitCode run_stats(Context& context, const StatsOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    Node node(context.network, {});
    node.connect();
    std::vector<NodeId> not_ready;
    if (!wait_for_mesh(node, o.wait, settle, interrupt, not_ready)) return ExitCode::ok;
    std::vector<NodeId> asked;
    if (!o.node.empty()) {
        asked.push_back(find_node(node, o.node, settle, interrupt));
        not_ready.clear();
    }
    const bool tty = isatty(STDOUT_FILENO) == 1;
    for (std::uint64_t round = 0;; ++round) {
        if (o.node.empty()) {
            asked.clear();
            for (const PeerInfo& p : node.bus().peers()) asked.push_back(p.id);
            if (asked.empty() && not_ready.empty()) {
                if (!o.watch)
                    throw CliError(ExitCode::no_peer,
                                   "no nodes in view (" + node.discovery_text() + ")" + node.refusal_hint());
            }
        }
        std::vector<Answer> answers;
        auto results = node.bus().node_stats(asked, o.timeout);
        bool silent = false;
        for (std::size_t i = 0; i < asked.size(); ++i) {
            Answer a{asked[i], std::nullopt, {}};
            if (results[i]) {
                a.report = std::move(*results[i]);
            } else {
                silent = true;
                a.problem = results[i].error().code() == Errc::timeout
                                ? "no answer within " + duration_text(o.timeout)
                                : results[i].error().reason();
            }
            answers.push_back(std::move(a));
        }
        for (const auto& id : not_ready) {
            if (std::find(asked.begin(), asked.end(), id) != asked.end()) continue;
            silent = true;
            answers.push_back({id, std::nullopt, "heard, not ready"});
        }
        if (o.watch) {
            if (tty) (void)write_stdout("\x1b[H\x1b[2J");
            print_line("--- " + clock_text(Clock::now()) + " (every " + duration_text(o.interval) +
                       ", Ctrl-C ends)");
        }
        if (!o.node.empty() || o.all) {
            for (const auto& a : answers) print_every_counter(node_label(node, a.node), a);
        } else if (answers.empty()) {
            print_line("no nodes in view (" + node.discovery_text() + ")");
        } else {
            std::vector<Row> rows{summary_header()};
            for (const auto& a : answers) {
                const std::string name =
                    a.report && !a.report->name.empty() ? a.report->name : node.peers().name_of(a.node);
                rows.push_back(summary_row(name + " (" + a.node.short_str() + ")", a));
            }
            print_table(rows);
        }
        if (!o.watch) return silent ? ExitCode::timeout : ExitCode::ok;
        not_ready.clear();
        if (interrupt.sleep_for(o.interval)) return ExitCode::ok;
    }
}

}  // namespace

void add_stats_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<StatsOptions>();
    CLI::App* cmd = app.add_subcommand(
        "stats", "Ask the nodes in view for their counters: a table, one row per node (grav.sys.stats)");
    cmd->add_option("--node", options->node, "Only this node (its id, id prefix or name): every counter")
        ->check([](const std::string& v) { return v.empty() ? std::string("is empty") : std::string(); });
    cmd->add_flag("--all", options->all, "Every counter of every node, as name/value lines");
    cmd->add_flag("-w,--watch", options->watch, "Keep asking every --interval until Ctrl-C");
    add_duration_option(*cmd, "--interval", options->interval, "With --watch: time between two asks",
                        Zero::refused);
    add_duration_option(*cmd, "--wait", options->wait, "How long to listen for nodes before asking",
                        Zero::allowed);
    add_duration_option(*cmd, "--timeout", options->timeout, "How long to wait for the nodes' answers",
                        Zero::refused);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_stats(context, *options); }; });
}

}  // namespace grav::cli
