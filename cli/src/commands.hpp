#pragma once
// Each command registers itself on the top-level CLI11 app; when the command
// line selects it, it stores the function main() runs after parsing.

#include "exit_code.hpp"
#include "interrupt.hpp"
#include "network_options.hpp"
#include "std_streams.hpp"

#include <functional>

namespace CLI {
class App;
}

namespace grav::cli {

struct Context {
    NetworkOptions network;
    Interrupt* interrupt = nullptr;
    StdStreams streams;             // what was closed at start-up
    std::function<ExitCode()> run;  // set by the selected subcommand
};

void add_pub_command(CLI::App& app, Context& context);
void add_sub_command(CLI::App& app, Context& context);
void add_request_command(CLI::App& app, Context& context);
void add_reply_command(CLI::App& app, Context& context);
void add_peers_command(CLI::App& app, Context& context);
void add_stats_command(CLI::App& app, Context& context);
void add_bench_command(CLI::App& app, Context& context);
void add_keygen_command(CLI::App& app, Context& context);
void add_bridge_command(CLI::App& app, Context& context);

// A CLI11 validator: message types must not be empty.
std::string check_message_type(const std::string& type);
// A CLI11 validator: a type pattern (grav/type_pattern.hpp) that can match
// something; else the reason ("chat*" is refused, pointing at "chat.*").
std::string check_type_pattern(const std::string& pattern);

}  // namespace grav::cli
