// grav-rpc-server: serves math.add and text.upper. Start two, then a client:
//
//   grav-rpc-server --name s1 & grav-rpc-server --name s2 & grav-rpc-client
//
// The capabilities are advertised as the node's interests, so a client's
// pod.tunnel("math.add", ...) reaches exactly one server, round-robin.

#include "protocol.hpp"

#include <grav/grav.hpp>
#include <grav/lan.hpp>

#include "security_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <iostream>
#include <mutex>

namespace {

std::mutex print_mutex;
void say(const std::string& line) {
    const std::lock_guard lock(print_mutex);
    std::cout << line << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    std::string name = "rpc-server";
    std::string group = "*";
    std::string interface;
    std::uint16_t beacon_port = 5670;
    CLI::App app("grav-rpc-server: answers math.add and text.upper");
    app.add_option("--name", name, "Server name, sent back in every reply")->capture_default_str();
    app.add_option("--group", group, "Mesh group")->capture_default_str();
    app.add_option("--interface", interface, "Network interface to use (default: all, plus loopback)");
    app.add_option("--beacon-port", beacon_port, "UDP port of the discovery beacons")->capture_default_str();
    // --secure with --key/--allow or --cluster-secret-file: the same options as
    // the grav tool (cli/src/security_options.hpp), one policy for the node.
    grav::cli::SecurityOptions security;
    grav::cli::add_security_options(app, security);
    CLI11_PARSE(app, argc, argv);
    auto policy = grav::cli::make_policy(security);
    if (!policy) {
        std::cerr << "grav-rpc-server: " << policy.error().reason() << "\n";
        return 2;
    }

    // Block Ctrl-C / SIGTERM in every thread (set before the bus starts its
    // threads); main waits for them with sigwait below and stops cleanly.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    grav::LanOptions lan;
    lan.security = *policy;            // null without --secure: secures the links and the beacons alike
    lan.discovery.port = beacon_port;  // UDP beacons: broadcast on the LAN and on loopback
    lan.discovery.interface = interface;
    grav::BusOptions options;
    if (const grav::Status joined = grav::join_lan(options, std::move(lan)); !joined) {
        std::cerr << "grav-rpc-server: " << joined.error().reason() << "\n";
        return 1;
    }
    options.belongs_to = group;
    options.name = name;
    options.interests = {rpc::kAdd, rpc::kUpper};  // what tunnels may send us
    std::unique_ptr<grav::Bus> bus;
    try {
        bus = std::make_unique<grav::Bus>(std::move(options));
    } catch (const grav::StartError& e) {
        std::cerr << "grav-rpc-server: " << e.what() << "\n";
        return 1;
    }

    // One pod per capability. A handler decodes the typed request, replies
    // with pod.reply_to (the reply goes to the caller's node only), and
    // returns an error for bytes that are not a request: the bus counts it
    // as a failure instead of crashing.
    grav::Pod adder = bus->connect();
    const grav::Status adding = adder.on_type(rpc::kAdd, [&](const grav::Message& m) -> grav::Status {
        auto request = m.as<rpc::AddRequest>();
        if (!request) return request.error();
        const rpc::AddReply reply{request->a + request->b, name};
        adder.reply_to(m, grav::Message::of("math.add.reply", reply));
        say(name + ": math.add(" + std::to_string(request->a) + ", " + std::to_string(request->b) +
            ") = " + std::to_string(reply.sum));
        return grav::success();
    });

    grav::Pod upper = bus->connect();
    const grav::Status uppering = upper.on_type(rpc::kUpper, [&](const grav::Message& m) -> grav::Status {
        auto request = m.as<rpc::UpperRequest>();
        if (!request) return request.error();
        rpc::UpperReply reply{request->text, name};
        std::transform(reply.text.begin(), reply.text.end(), reply.text.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        upper.reply_to(m, grav::Message::of("text.upper.reply", reply));
        say(name + ": text.upper(\"" + request->text + "\") = \"" + reply.text + "\"");
        return grav::success();
    });

    for (const grav::Status* s : {&adding, &uppering}) {
        if (!*s) {
            std::cerr << "grav-rpc-server: " << s->error().what() << "\n";
            return 1;
        }
    }
    say(name + ": serving math.add and text.upper (Ctrl-C to stop)");
    int signal = 0;
    sigwait(&signals, &signal);

    // Leave cleanly: clients stop routing to us at once.
    adder.disconnect();
    upper.disconnect();
    bus->stop();
    say(name + ": stopped");
    return 0;
}
