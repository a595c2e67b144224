// grav pub TYPE [DATA] [--count N] [--interval D]: publish DATA, or each
// line of stdin when DATA is absent.

#include "commands.hpp"
#include "line_reader.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

namespace grav::cli {
namespace {

struct PubOptions {
    std::string type;
    std::optional<std::string> data;
    std::uint64_t count = 1;
    std::chrono::milliseconds interval{0};
    std::chrono::milliseconds wait_peers{2000};
    std::uint64_t peers = 1;
    std::chrono::milliseconds settle{2000};
    std::chrono::milliseconds linger{300};
};

// The first peer ready is not all of them: every node whose beacon we heard
// gets up to `settle` to be ready too, or it would miss the first messages.
// With --verbose, says whom we publish to. Returns false on Ctrl-C.
bool settle_discovery(Node& node, std::chrono::milliseconds settle, bool verbose, Interrupt& interrupt) {
    std::vector<NodeId> missing;
    const auto settled = node.peers().wait_until_settled([&node] { return node.bus().discovered(); }, settle,
                                                         interrupt, missing);
    if (settled == WaitResult::interrupted) return false;
    if (settled == WaitResult::timeout) {
        std::string names;
        for (const auto& id : missing) names += (names.empty() ? "" : ", ") + id.short_str();
        print_warning(std::to_string(missing.size()) + " node(s) heard by discovery were not ready within " +
                      std::to_string(settle.count()) + " ms (" + names +
                      "); publishing anyway, they may miss messages");
    }
    if (verbose) {
        std::string names;
        std::size_t ready = 0;
        for (const auto& record : node.peers().snapshot()) {
            if (!record.ready) continue;
            ++ready;
            names += (names.empty() ? "" : ", ") +
                     (record.info.name.empty() ? record.info.id.short_str()
                                               : record.info.name + " (" + record.info.id.short_str() + ")");
        }
        print_note("publishing to " + std::to_string(ready) + " peer(s)" +
                   (names.empty() ? "" : ": " + names));
    }
    return true;
}

ExitCode run_pub(Context& context, const PubOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    if (!o.data && context.streams.stdin_closed) {
        print_note("nothing to publish: no DATA and standard input is closed");
        return ExitCode::ok;
    }
    Node node(context.network, {});
    node.connect();
    Pod pod = node.bus().connect();

    if (node.nats_only()) {
        // No peers through NATS alone: what is sent before the connection is up is not sent at all.
        if (!node.wait_for_nats(o.wait_peers, interrupt)) {
            if (interrupt.requested()) return ExitCode::ok;
            print_warning("not connected to " + node.discovery_text() + " within " +
                          std::to_string(o.wait_peers.count()) +
                          " ms; publishing anyway, nobody may receive it");
        }
    } else {
        // A subscriber that is not ready yet would miss what we publish now.
        const auto waited = node.peers().wait_for_peers(o.peers, {}, o.wait_peers, interrupt);
        if (waited == WaitResult::interrupted) return ExitCode::ok;
        if (waited == WaitResult::timeout)
            print_warning("no peer appeared within " + std::to_string(o.wait_peers.count()) + " ms (" +
                          node.discovery_text() + ", group '" + context.network.group +
                          "'); publishing anyway, nobody may receive it" + node.refusal_hint());
        if (waited == WaitResult::ok && o.peers > 0 &&
            !settle_discovery(node, o.settle, context.network.verbose, interrupt))
            return ExitCode::ok;
    }

    std::uint64_t sent = 0;
    bool failed = false;
    const auto publish = [&](std::string payload) -> bool {
        if (payload.size() > node.max_payload()) {
            print_error("a message of " + std::to_string(payload.size()) + " bytes is larger than " +
                        std::to_string(node.max_payload()) + " bytes, the transport's maximum; not sent");
            failed = true;
            return false;
        }
        const Receipt receipt = pod.send(Message(o.type, payload));
        if (const Status s = receipt.status(); !s) {
            print_error("publish failed: " + s.error().what());
            failed = true;
            return false;
        }
        ++sent;
        return true;
    };

    if (o.data) {
        for (std::uint64_t i = 0; i < o.count; ++i) {
            if (i > 0 && interrupt.sleep_for(o.interval)) break;
            if (interrupt.requested() || !publish(*o.data)) break;
        }
    } else {
        LineReader lines(STDIN_FILENO, interrupt, node.max_payload());
        while (auto line = lines.next()) {
            if (!publish(std::move(*line))) break;
            if (o.interval.count() > 0 && interrupt.sleep_for(o.interval)) break;
        }
        if (lines.error()) {
            print_error(lines.error()->reason());
            failed = true;
        } else if (lines.lines() == 0 && !interrupt.requested()) {
            print_note("nothing to publish: standard input was empty");
        }
    }
    // Work-around (see /work/notes/cli.md): with discovery, peers drop us as
    // soon as our leaving beacon arrives, which can overtake the last
    // messages still in flight over TCP. A short pause lets them land.
    if (sent > 0 && o.linger.count() > 0) interrupt.sleep_for(o.linger);
    if (context.network.verbose)
        print_note("published " + std::to_string(sent) + " message(s) of type '" + o.type + "'");
    // Leaving waits (bounded) for the peers to take what is still on its
    // way, and says when some did not: never a silent loss.
    // (The bus has logged one warning per peer, with the count.)
    const std::vector<std::string> undelivered = node.stop();
    if (!undelivered.empty())
        print_warning("not every message reached the " + std::to_string(undelivered.size()) +
                      " peer(s) named above before pub stopped (exit code 8)");
    if (failed) return ExitCode::failure;
    return undelivered.empty() ? ExitCode::ok : ExitCode::undelivered;
}

}  // namespace

void add_pub_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<PubOptions>();
    CLI::App* cmd = app.add_subcommand("pub", "Publish a message to every node that subscribes to its type");
    cmd->add_option("type", options->type, "Message type, e.g. chat.line")
        ->required()
        ->check(check_message_type);
    cmd->add_option("data", options->data, "Payload; absent: each line of stdin is one message");
    add_count_option(*cmd, "-n,--count", options->count, "Publish DATA this many times", 1);
    add_duration_option(*cmd, "-i,--interval", options->interval, "Pause between messages", Zero::allowed);
    add_duration_option(*cmd, "--wait-peers", options->wait_peers,
                        "Wait up to this long for peers before publishing", Zero::allowed);
    add_count_option(*cmd, "--peers", options->peers, "How many peers to wait for (0: do not wait)", 0);
    add_duration_option(*cmd, "--settle", options->settle,
                        "Then wait up to this long until every node heard by discovery is ready (0: do not)",
                        Zero::allowed);
    add_duration_option(*cmd, "--linger", options->linger,
                        "After the last message, wait this long before leaving", Zero::allowed);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_pub(context, *options); }; });
}

}  // namespace grav::cli
