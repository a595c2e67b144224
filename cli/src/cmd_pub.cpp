// grav pub TYPE [DATA] [--count N] [--interval MS]: publish DATA, or each
// line of stdin when DATA is absent.

#include "commands.hpp"
#include "node.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <poll.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <utility>

namespace grav::cli {
namespace {

struct PubOptions {
    std::string type;
    std::optional<std::string> data;
    std::uint64_t count = 1;
    std::uint64_t interval_ms = 0;
    std::uint64_t wait_peers_ms = 2000;
    std::size_t peers = 1;
    std::uint64_t linger_ms = 300;
};

// Reads stdin line by line while watching for Ctrl-C. nullopt at end of input
// or on interrupt.
class LineReader {
public:
    explicit LineReader(Interrupt& interrupt) : interrupt_(interrupt) {}

    std::optional<std::string> next() {
        for (;;) {
            if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
                std::string line = buffer_.substr(0, newline);
                buffer_.erase(0, newline + 1);
                return line;
            }
            if (eof_) {
                if (buffer_.empty()) return std::nullopt;
                return std::exchange(buffer_, {});
            }
            pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {interrupt_.fd(), POLLIN, 0}};
            if (::poll(fds, 2, -1) < 0) continue;
            if (interrupt_.requested()) return std::nullopt;
            char chunk[4096];
            const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
            if (n <= 0)
                eof_ = true;
            else
                buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

private:
    Interrupt& interrupt_;
    std::string buffer_;
    bool eof_ = false;
};

ExitCode run_pub(Context& context, const PubOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    Node node(context.network, {});
    node.connect();
    Pod pod = node.bus().connect();

    if (node.nats_only()) {
        // No peers through NATS alone: what is sent before the connection is up is not sent at all.
        if (!node.wait_for_nats(std::chrono::milliseconds(o.wait_peers_ms), interrupt)) {
            if (interrupt.requested()) return ExitCode::ok;
            print_warning("not connected to " + node.discovery_text() + " within " +
                          std::to_string(o.wait_peers_ms) + " ms; publishing anyway, nobody may receive it");
        }
    } else {
        // A subscriber that is not ready yet would miss what we publish now.
        const auto waited =
            node.peers().wait_for_peers(o.peers, {}, std::chrono::milliseconds(o.wait_peers_ms), interrupt);
        if (waited == WaitResult::interrupted) return ExitCode::ok;
        if (waited == WaitResult::timeout)
            print_warning("no peer appeared within " + std::to_string(o.wait_peers_ms) + " ms (" +
                          node.discovery_text() + ", group '" + context.network.group +
                          "'); publishing anyway, nobody may receive it");
    }

    std::uint64_t sent = 0;
    const auto publish = [&](std::string payload) -> bool {
        const Receipt receipt = pod.send(Message(o.type, payload));
        if (const Status s = receipt.status(); !s) {
            print_error("publish failed: " + s.error().what());
            return false;
        }
        ++sent;
        return true;
    };

    if (o.data) {
        for (std::uint64_t i = 0; i < o.count; ++i) {
            if (i > 0 && interrupt.sleep_for(std::chrono::milliseconds(o.interval_ms))) break;
            if (interrupt.requested() || !publish(*o.data)) break;
        }
    } else {
        LineReader lines(interrupt);
        while (auto line = lines.next()) {
            if (!publish(std::move(*line))) break;
            if (o.interval_ms > 0 && interrupt.sleep_for(std::chrono::milliseconds(o.interval_ms))) break;
        }
    }
    // Work-around (see /work/notes/cli.md): with discovery, peers drop us as
    // soon as our leaving beacon arrives, which can overtake the last
    // messages still in flight over TCP. A short pause lets them land.
    if (sent > 0 && o.linger_ms > 0) interrupt.sleep_for(std::chrono::milliseconds(o.linger_ms));
    if (context.network.verbose)
        print_note("published " + std::to_string(sent) + " message(s) of type '" + o.type + "'");
    return ExitCode::ok;  // ~Node: bus.stop() flushes what is queued, then leaves the mesh
}

}  // namespace

void add_pub_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<PubOptions>();
    CLI::App* cmd = app.add_subcommand("pub", "Publish a message to every node that subscribes to its type");
    cmd->add_option("type", options->type, "Message type, e.g. chat.line")
        ->required()
        ->check(check_message_type);
    cmd->add_option("data", options->data, "Payload; absent: each line of stdin is one message");
    cmd->add_option("-n,--count", options->count, "Publish DATA this many times")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("-i,--interval", options->interval_ms, "Milliseconds between messages")
        ->capture_default_str();
    cmd->add_option("--wait-peers", options->wait_peers_ms,
                    "Wait up to this many ms for peers before publishing")
        ->capture_default_str();
    cmd->add_option("--peers", options->peers, "How many peers to wait for")->capture_default_str();
    cmd->add_option("--linger", options->linger_ms,
                    "After the last message, wait this many ms before leaving")
        ->capture_default_str();
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_pub(context, *options); }; });
}

}  // namespace grav::cli
