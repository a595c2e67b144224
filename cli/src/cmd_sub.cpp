// grav sub [TYPE...] [--json] [--count N]: print what arrives.

#include "commands.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <atomic>
#include <memory>

namespace grav::cli {
namespace {

struct SubOptions {
    std::vector<std::string> types;
    bool json = false;
    std::uint64_t count = 0;  // 0: until Ctrl-C
};

ExitCode run_sub(Context& context, const SubOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    Node node(context.network, {});

    std::atomic<std::uint64_t> printed{0};
    std::atomic<bool> done{false};
    std::atomic<bool> write_failed{false};  // not a closed pipe: the output is lost, exit 1
    const auto print = [&](const Message& m) {
        // Several pods (one per TYPE) print from different workers: count atomically.
        if (done.load()) return;
        const std::uint64_t n = printed.fetch_add(1) + 1;
        if (o.count > 0 && n > o.count) return;
        const std::string line = o.json ? m.to_json()
                                        : clock_text(m.timestamp()) + " " + m.type() + " from " +
                                              node.peers().origin_name(m.origin(), std::chrono::seconds(2)) +
                                              ": " + payload_text(m);
        if (const Status written = write_stdout(line + "\n"); !written) {
            // A reader gone (`| head -1`) ends us quietly; anything else loses output.
            if (written.error().code() != Errc::closed && !write_failed.exchange(true))
                print_error(written.error().reason());
            done.store(true);
        }
        if (o.count > 0 && n >= o.count) done.store(true);
    };

    // One pod per type pattern ("chat.*", "chat.>", "a.*.c"), or one for everything.
    std::vector<Pod> pods;
    if (o.types.empty()) {
        pods.push_back(node.bus().connect());
        pods.back().on(print);
    } else {
        for (const auto& type : o.types) {
            pods.push_back(node.bus().connect());
            // The option's check has refused a pattern that matches nothing.
            if (const Status s = pods.back().on_type(type, print); !s)
                throw CliError(ExitCode::usage, "types: " + s.error().reason());
        }
    }
    node.connect();
    if (context.network.verbose)
        print_note(
            "subscribed to " +
            (o.types.empty() ? std::string("every type") : std::to_string(o.types.size()) + " type(s)") +
            " as " + node.describe() + "; Ctrl-C to stop");

    while (!done.load() && !interrupt.sleep_for(std::chrono::milliseconds(20))) {}
    done.store(true);
    for (auto& pod : pods) pod.disconnect();
    return write_failed.load() ? ExitCode::failure : ExitCode::ok;
}

}  // namespace

void add_sub_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<SubOptions>();
    CLI::App* cmd = app.add_subcommand("sub", "Print the messages that arrive (type, origin, time, payload)");
    cmd->add_option("types", options->types,
                    "Types to receive: exact, or a NATS-style pattern: 'chat.*' one more token, "
                    "'chat.>' one or more, 'a.*.c', '>' all (default: all)")
        ->check(check_type_pattern);
    cmd->add_flag("--json", options->json, "One JSON object per line");
    add_count_option(*cmd, "-n,--count", options->count,
                     "Exit after this many messages (0: run until Ctrl-C)", 0);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_sub(context, *options); }; });
}

}  // namespace grav::cli
