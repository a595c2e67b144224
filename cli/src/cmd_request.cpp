// grav request TYPE [DATA] [--timeout D]: send one request to a node that
// offers TYPE (a `grav reply TYPE` somewhere) and print its answer.
//
// The replier advertises TYPE as an interest, so the request goes through
// Pod::tunnel: exactly one node answers, round-robin across those offering it.
// --broadcast publishes instead and takes the first reply (for repliers that
// handle the type without advertising it).

#include "commands.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <iostream>
#include <iterator>
#include <memory>
#include <optional>

namespace grav::cli {
namespace {

struct RequestOptions {
    std::string type;
    std::optional<std::string> data;
    std::chrono::milliseconds timeout{2000};
    std::chrono::milliseconds wait_peers{2000};
    bool broadcast = false;
    bool json = false;
};

ExitCode run_request(Context& context, const RequestOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    std::string payload;
    if (o.data) {
        payload = *o.data;
    } else if (::isatty(STDIN_FILENO) == 0) {
        payload.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    }

    Node node(context.network, {});
    node.connect();
    Pod pod = node.bus().connect();

    // Wait for a node offering TYPE (or any node with --broadcast); through
    // NATS alone there are no peers to see: wait for the connection, and NATS
    // says at once when no site offers TYPE.
    const std::string interest = o.broadcast ? std::string() : o.type;
    const WaitResult waited =
        node.nats_only() ? (node.wait_for_nats(o.wait_peers, interrupt)
                                ? WaitResult::ok
                                : (interrupt.requested() ? WaitResult::interrupted : WaitResult::timeout))
                         : node.peers().wait_for_peers(1, interest, o.wait_peers, interrupt);
    switch (waited) {
        case WaitResult::interrupted: return ExitCode::interrupted;
        case WaitResult::timeout:
            throw CliError(
                ExitCode::no_peer,
                (o.broadcast
                     ? std::string("no peer in view")
                     : "no peer offers '" + o.type + "' (is a `grav reply " + o.type + "` running?)") +
                    " after waiting " + std::to_string(o.wait_peers.count()) + " ms; " +
                    node.discovery_text() + ", group '" + context.network.group + "'" + node.refusal_hint());
        case WaitResult::ok: break;
    }

    Message request(o.type, payload);
    const Receipt receipt =
        o.broadcast ? pod.send(std::move(request)) : pod.tunnel(o.type, std::move(request));
    if (const Status s = receipt.status(); !s) {
        const ExitCode code = s.error().code() == Errc::no_peer ? ExitCode::no_peer : ExitCode::failure;
        throw CliError(code, "request '" + o.type + "' could not be sent: " + s.error().what());
    }

    // Wait in slices so that Ctrl-C is noticed.
    const auto deadline = std::chrono::steady_clock::now() + o.timeout;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        Result<Message> reply = receipt.wait_until(std::min(left, std::chrono::milliseconds(50)));
        if (reply) {
            const std::string from = node.peers().name_of(reply->origin());
            if (reply->type() == error_type_of(o.type)) {
                // The replier could not answer: its reason, not an answer, and no output.
                if (o.json) print_line(reply->to_json());
                throw CliError(ExitCode::remote_error, "request '" + o.type + "' failed at " + from + ": " +
                                                           std::string(reply->payload_view()));
            }
            std::string out = o.json ? reply->to_json() : std::string(reply->payload_view());
            if (out.empty() || out.back() != '\n') out.push_back('\n');
            // The reply is the result: losing it (a full disk) is a failure.
            if (const Status written = write_stdout(out); !written)
                throw CliError(ExitCode::failure,
                               "the reply to '" + o.type + "' was not written: " + written.error().reason());
            if (context.network.verbose)
                print_note("reply from " + from + " (" + std::to_string(reply->payload_size()) + " bytes)");
            return ExitCode::ok;
        }
        if (reply.error().code() == Errc::no_peer)  // through NATS: no site offers it
            throw CliError(ExitCode::no_peer, "request '" + o.type + "' failed: " + reply.error().what());
        if (reply.error().code() != Errc::timeout)
            throw CliError(ExitCode::failure, "request '" + o.type + "' failed: " + reply.error().what());
        if (interrupt.requested()) return ExitCode::interrupted;
    }
    throw CliError(ExitCode::timeout,
                   "no reply to '" + o.type + "' within " + std::to_string(o.timeout.count()) + " ms");
}

}  // namespace

void add_request_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<RequestOptions>();
    CLI::App* cmd =
        app.add_subcommand("request", "Send a request to a node offering TYPE and print the reply");
    cmd->add_option("type", options->type, "Request type (the replier's capability), e.g. text.upper")
        ->required()
        ->check(check_message_type);
    cmd->add_option("data", options->data, "Payload; absent: all of stdin (when it is not a terminal)");
    add_duration_option(*cmd, "-t,--timeout", options->timeout, "How long to wait for the reply",
                        Zero::refused);
    add_duration_option(*cmd, "--wait-peers", options->wait_peers,
                        "How long to wait for a node offering TYPE", Zero::allowed);
    cmd->add_flag("--broadcast", options->broadcast,
                  "Publish to every subscriber and take the first reply (no capability needed)");
    cmd->add_flag("--json", options->json, "Print the reply as one JSON object");
    cmd->callback([&context, options] {
        context.run = [&context, options] { return run_request(context, *options); };
    });
}

}  // namespace grav::cli
