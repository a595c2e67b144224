// grav-rpc-client: calls math.add and text.upper on whichever servers offer
// them, through pod.tunnel (one server per call, round-robin), with a timeout
// per call and one retry, so that a killed server costs a retry, not a failure.

#include "protocol.hpp"

#include <grav/grav.hpp>
#include <grav/lan.hpp>

#include "security_options.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <thread>

namespace {

using namespace std::chrono_literals;

// A typed remote call: send Request to one node offering `capability`, wait
// up to `timeout` for its reply, decode it as Reply. Every failure is a value
// (no_peer, timeout, decode_failed), never an exception.
template <class Reply, class Request>
grav::Result<Reply> call(grav::Pod& pod, const std::string& capability, const Request& request,
                         std::chrono::milliseconds timeout) {
    const grav::Receipt receipt = pod.tunnel(capability, grav::Message::of(capability, request));
    if (const grav::Status sent = receipt.status(); !sent) return sent.error();  // nobody offers it
    grav::Result<grav::Message> reply = receipt.wait_until(timeout);
    if (!reply) return reply.error();
    return reply->as<Reply>();
}

// Calls again once when the first attempt fails: the tunnel's round-robin
// sends the retry to the next server, which is how a dead one is skipped.
template <class Reply, class Request>
grav::Result<Reply> call_with_retry(grav::Pod& pod, const std::string& capability, const Request& request,
                                    std::chrono::milliseconds timeout) {
    auto reply = call<Reply>(pod, capability, request, timeout);
    if (reply) return reply;
    std::cout << "  " << capability << ": " << reply.error().what() << " -> retrying on the next server"
              << std::endl;
    return call<Reply>(pod, capability, request, timeout);
}

std::size_t servers_offering(const grav::Bus& bus, const std::string& capability) {
    std::size_t n = 0;
    for (const auto& peer : bus.peers())
        n += std::count(peer.interests.begin(), peer.interests.end(), capability) > 0 ? 1 : 0;
    return n;
}

}  // namespace

int main(int argc, char** argv) {
    std::string group = "*";
    std::string interface;
    std::uint16_t beacon_port = 5670;
    int calls = 6;
    int interval_ms = 300;
    int timeout_ms = 1000;
    std::size_t servers = 1;
    CLI::App app("grav-rpc-client: calls math.add and text.upper through tunnels");
    app.add_option("--group", group, "Mesh group")->capture_default_str();
    app.add_option("--interface", interface, "Network interface to use (default: all, plus loopback)");
    app.add_option("--beacon-port", beacon_port, "UDP port of the discovery beacons")->capture_default_str();
    app.add_option("--calls", calls, "How many math.add calls (each followed by a text.upper)")
        ->capture_default_str();
    app.add_option("--interval", interval_ms, "Milliseconds between calls")->capture_default_str();
    app.add_option("--timeout", timeout_ms, "Milliseconds to wait for each reply")->capture_default_str();
    app.add_option("--servers", servers, "Wait (up to 5 s) for this many servers first")
        ->capture_default_str();
    // --secure with --key/--allow or --cluster-secret-file: the same options as
    // the grav tool (cli/src/security_options.hpp), one policy for the node.
    grav::cli::SecurityOptions security;
    grav::cli::add_security_options(app, security);
    CLI11_PARSE(app, argc, argv);
    auto policy = grav::cli::make_policy(security);
    if (!policy) {
        std::cerr << "grav-rpc-client: " << policy.error().reason() << "\n";
        return 2;
    }

    grav::LanOptions lan;
    lan.security = *policy;            // null without --secure: secures the links and the beacons alike
    lan.discovery.port = beacon_port;  // UDP beacons: broadcast on the LAN and on loopback
    lan.discovery.interface = interface;
    grav::BusOptions options;
    if (const grav::Status joined = grav::join_lan(options, std::move(lan)); !joined) {
        std::cerr << "grav-rpc-client: " << joined.error().reason() << "\n";
        return 1;
    }
    options.belongs_to = group;
    options.name = "rpc-client";
    std::unique_ptr<grav::Bus> bus;
    try {
        bus = std::make_unique<grav::Bus>(std::move(options));
    } catch (const grav::StartError& e) {
        std::cerr << "grav-rpc-client: " << e.what() << "\n";
        return 1;
    }
    grav::Pod pod = bus->connect();

    // Discovery takes a moment: wait until enough servers advertise math.add.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (servers_offering(*bus, rpc::kAdd) < servers && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(50ms);
    std::cout << "rpc-client: " << servers_offering(*bus, rpc::kAdd) << " server(s) offer math.add"
              << std::endl;

    const auto timeout = std::chrono::milliseconds(timeout_ms);
    int failures = 0;
    for (int i = 1; i <= calls; ++i) {
        if (i > 1) std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms));
        auto sum = call_with_retry<rpc::AddReply>(pod, rpc::kAdd, rpc::AddRequest{i, 10 * i}, timeout);
        if (sum)
            std::cout << "math.add(" << i << ", " << 10 * i << ") = " << sum->sum << "   [answered by "
                      << sum->server << "]" << std::endl;
        else
            std::cout << "math.add(" << i << ", " << 10 * i << ") failed: " << sum.error().what()
                      << std::endl,
                ++failures;

        auto shout = call_with_retry<rpc::UpperReply>(
            pod, rpc::kUpper, rpc::UpperRequest{"call " + std::to_string(i)}, timeout);
        if (shout)
            std::cout << "text.upper(\"call " << i << "\") = \"" << shout->text << "\"   [answered by "
                      << shout->server << "]" << std::endl;
        else
            std::cout << "text.upper failed: " << shout.error().what() << std::endl, ++failures;
    }
    bus->stop();
    return failures == 0 ? 0 : 1;
}
