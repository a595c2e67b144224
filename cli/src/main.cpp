// grav — the command-line tool: publish, subscribe, request, reply, list
// peers and benchmark, from a terminal, with discovery on by default so that
// two terminals on one machine (or a LAN) just work.

#include "commands.hpp"
#include "exit_code.hpp"
#include "interrupt.hpp"
#include "network_options.hpp"
#include "output.hpp"

#include <CLI/CLI.hpp>

#include <exception>

namespace grav::cli {

std::string check_message_type(const std::string& type) {
    if (type.empty()) return "the message type is empty";
    if (type.front() == '\0') return "the message type starts with a 0x00 byte";
    return {};
}

namespace {

int run(int argc, char** argv) {
    // Before any thread exists: every thread the bus starts inherits the
    // blocked SIGINT/SIGTERM, so only our signalfd sees Ctrl-C.
    Interrupt interrupt;
    Context context;
    context.interrupt = &interrupt;

    CLI::App app(
        "grav: publish, subscribe, request and reply on a grav mesh.\n"
        "Nodes find each other by UDP beacons (no configuration); --connect dials one by hand.",
        "grav");
    app.require_subcommand(1);
    app.fallthrough();  // network options may come before or after the command
    app.footer("\n" + exit_code_help() +
               "\nExamples:\n"
               "  grav sub 'chat.*'                 # terminal 1\n"
               "  grav pub chat.line 'hello'        # terminal 2\n"
               "  grav reply text.upper --command 'tr a-z A-Z'\n"
               "  grav request text.upper 'shout'\n"
               "  grav keygen --out node.key        # then: grav --secure --key node.key --allow KEY ...\n"
               "  grav bridge --nats nats://hub:4222 --nats-types 'chat.*'   # join this LAN to other sites\n"
               "  grav sub 'chat.*' --nats nats://hub:4222                   # a node on NATS alone\n");
    app.set_version_flag("--version", "grav 0.1.0");
    add_network_options(app, context.network);
    add_pub_command(app, context);
    add_sub_command(app, context);
    add_request_command(app, context);
    add_reply_command(app, context);
    add_peers_command(app, context);
    add_bench_command(app, context);
    add_keygen_command(app, context);
    add_bridge_command(app, context);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        print_error(std::string(e.what()) + " (see grav --help)");
        return static_cast<int>(ExitCode::usage);
    }
    try {
        return static_cast<int>(context.run());
    } catch (const CliError& e) {
        print_error(e.what());
        return static_cast<int>(e.code());
    }
}

}  // namespace
}  // namespace grav::cli

int main(int argc, char** argv) {
    try {
        return grav::cli::run(argc, argv);
    } catch (const std::exception& e) {
        // Never a stack trace: one line, exit code 1.
        grav::cli::print_error(e.what());
        return static_cast<int>(grav::cli::ExitCode::failure);
    }
}
