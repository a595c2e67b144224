// grav reply TYPE [--echo | --command CMD]: answer requests of TYPE. The node
// advertises TYPE as an interest, so `grav request TYPE` (a tunnel) finds it.

#include "child_process.hpp"
#include "commands.hpp"
#include "node.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>

namespace grav::cli {
namespace {

struct ReplyOptions {
    std::string type;
    bool echo = false;
    std::string command;
    std::uint64_t command_timeout_ms = 10000;
    std::uint64_t count = 0;  // 0: until Ctrl-C
};

ExitCode run_reply(Context& context, const ReplyOptions& o) {
    if (o.echo == !o.command.empty())
        throw CliError(ExitCode::usage, "reply: give exactly one of --echo or --command CMD");
    Interrupt& interrupt = *context.interrupt;
    Node node(context.network, {o.type});
    Pod pod = node.bus().connect();

    std::atomic<std::uint64_t> answered{0};
    const std::string reply_type = o.type + ".reply";
    pod.on_type(o.type, [&](const Message& request) {
        std::string body;
        if (o.echo) {
            body = std::string(request.payload_view());
        } else {
            auto output = run_command(o.command, request.payload_view(),
                                      std::chrono::milliseconds(o.command_timeout_ms));
            if (!output) {
                // The requester gets an empty answer at once rather than a timeout.
                print_warning(output.error().what());
            } else {
                if (output->exit_status != 0)
                    print_warning("command '" + o.command + "' exited with " +
                                  std::to_string(output->exit_status) + "; replying with its output anyway");
                body = std::move(output->out);
            }
        }
        const Receipt sent = pod.reply_to(request, Message(reply_type, body));
        const std::string from = node.peers().name_of(request.origin());
        if (const Status s = sent.status(); !s) {
            print_warning("reply to " + from + " failed: " + s.error().what());
            return;
        }
        print_line(clock_text(Clock::now()) + " " + o.type + " from " + from + ": replied " +
                   std::to_string(body.size()) + " bytes");
        answered.fetch_add(1);
    });
    node.connect();
    print_note("replying to '" + o.type + "' as " + node.describe() + " (" + node.discovery_text() +
               "); Ctrl-C to stop");

    while (!(o.count > 0 && answered.load() >= o.count) &&
           !interrupt.sleep_for(std::chrono::milliseconds(20))) {}
    pod.disconnect();
    return ExitCode::ok;
}

}  // namespace

void add_reply_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<ReplyOptions>();
    CLI::App* cmd =
        app.add_subcommand("reply", "Answer requests of TYPE (advertised as this node's capability)");
    cmd->add_option("type", options->type, "Request type to answer, e.g. text.upper")
        ->required()
        ->check(check_message_type);
    auto* echo = cmd->add_flag("--echo", options->echo, "Reply with the request's payload");
    auto* command =
        cmd->add_option("--command", options->command,
                        "Reply with the stdout of this shell command, run with the request on its stdin");
    echo->excludes(command);
    cmd->add_option("--command-timeout", options->command_timeout_ms, "Kill CMD after this many ms")
        ->capture_default_str();
    cmd->add_option("-n,--count", options->count, "Exit after this many replies (0: run until Ctrl-C)")
        ->capture_default_str();
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_reply(context, *options); }; });
}

}  // namespace grav::cli
