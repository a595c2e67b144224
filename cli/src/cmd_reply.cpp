// grav reply TYPE [--echo | --command CMD]: answer requests of TYPE. The node
// advertises TYPE as an interest, so `grav request TYPE` (a tunnel) finds it.

#include "child_process.hpp"
#include "commands.hpp"
#include "node.hpp"
#include "option_values.hpp"
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
    std::chrono::milliseconds command_timeout{10000};
    std::uint64_t count = 0;  // 0: until Ctrl-C
};

ExitCode run_reply(Context& context, const ReplyOptions& o) {
    if (o.echo == !o.command.empty())
        throw CliError(ExitCode::usage, "reply: give exactly one of --echo or --command CMD");
    Interrupt& interrupt = *context.interrupt;
    Node node(context.network, {o.type});
    Pod pod = node.bus().connect();

    std::atomic<std::uint64_t> answered{0};
    const std::string reply_type = reply_type_of(o.type);
    const std::string error_type = error_type_of(o.type);
    const Status handler_set = pod.on_type(o.type, [&](const Message& request) {
        std::string body;
        std::string failure;  // not empty: an error reply, the requester fails at once (no timeout)
        if (o.echo) {
            body = std::string(request.payload_view());
        } else {
            auto output = run_command(o.command, request.payload_view(), o.command_timeout);
            if (!output)
                failure = output.error().reason();
            else if (output->exit_status != 0)
                failure = "command '" + o.command + "' exited with " + std::to_string(output->exit_status) +
                          (output->exit_status == 127 ? " (command not found)" : "");
            else
                body = std::move(output->out);
        }
        if (!failure.empty()) {
            print_warning(failure + "; sending an error reply");
            body = failure;
        }
        const Receipt sent = pod.reply_to(request, Message(failure.empty() ? reply_type : error_type, body));
        const std::string from = node.peers().origin_name(request.origin(), std::chrono::seconds(2));
        if (const Status s = sent.status(); !s) {
            print_warning("reply to " + from + " failed: " + s.error().what());
            return;
        }
        print_line(clock_text(Clock::now()) + " " + o.type + " from " + from +
                   (failure.empty() ? ": replied " + std::to_string(body.size()) + " bytes"
                                    : ": replied with an error"));
        answered.fetch_add(1);
    });
    if (!handler_set) throw CliError(ExitCode::usage, "type: " + handler_set.error().reason());
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
        ->check(check_type_pattern);
    auto* echo = cmd->add_flag("--echo", options->echo, "Reply with the request's payload");
    auto* command =
        cmd->add_option("--command", options->command,
                        "Reply with the stdout of this shell command, run with the request on its stdin");
    echo->excludes(command);
    add_duration_option(*cmd, "--command-timeout", options->command_timeout, "Kill CMD after this long",
                        Zero::refused);
    add_count_option(*cmd, "-n,--count", options->count, "Exit after this many replies (0: run until Ctrl-C)",
                     0);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_reply(context, *options); }; });
}

}  // namespace grav::cli
