// grav-chat: a chat room with no server. Start it in two terminals:
//
//   grav-chat --name alice        grav-chat --name bob
//
// Every line typed goes to everyone; joins and leaves are announced. The
// nodes find each other by UDP beacons and talk over ZeroMQ, both set up by
// grav::join_lan. Ctrl-D or Ctrl-C leaves cleanly.

#include <grav/grav.hpp>
#include <grav/lan.hpp>

#include "security_options.hpp"

#include <CLI/CLI.hpp>
#include <cereal/types/string.hpp>

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <mutex>
#include <string>

// A chat line travels as a typed payload: cereal serialises it, and
// Message::of / Message::as<T> do the rest.
struct ChatLine {
    std::string name;
    std::string text;
    template <class Archive>
    void serialize(Archive& archive) {
        archive(name, text);
    }
};

namespace {

std::mutex print_mutex;  // handlers run on bus threads: one line at a time
void say(const std::string& line) {
    const std::lock_guard lock(print_mutex);
    std::cout << line << std::endl;  // endl: flush, so pipes see it now
}

}  // namespace

int main(int argc, char** argv) {
    std::string name;
    std::string group = "*";
    std::string interface;
    std::uint16_t beacon_port = 5670;
    CLI::App app("grav-chat: every line typed goes to everyone in the group");
    app.add_option("--name", name, "Your name")->required();
    app.add_option("--group", group, "Chat room (nodes of other groups never mesh)")->capture_default_str();
    app.add_option("--interface", interface, "Network interface to use (default: all, plus loopback)");
    app.add_option("--beacon-port", beacon_port, "UDP port of the discovery beacons")->capture_default_str();
    // --secure with --key/--allow or --cluster-secret-file: the same options as
    // the grav tool (cli/src/security_options.hpp), one policy for the node.
    grav::cli::SecurityOptions security;
    grav::cli::add_security_options(app, security);
    CLI11_PARSE(app, argc, argv);
    auto policy = grav::cli::make_policy(security);
    if (!policy) {
        std::cerr << "grav-chat: " << policy.error().reason() << "\n";
        return 2;
    }

    // Ctrl-C: block SIGINT/SIGTERM before the bus starts its threads (they
    // inherit the mask) and read them from a signalfd next to stdin.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);

    // One bus per process: the ZeroMQ transport joins it to the mesh, the
    // beacons find the other nodes. The Bus constructor throws StartError
    // when it cannot start (port in use, unknown interface).
    grav::LanOptions lan;
    lan.security = *policy;  // null without --secure: secures the links and the beacons alike
    lan.transport.log = [](std::string_view) {};  // keep the chat screen clean (the default logs to stderr)
    lan.discovery.port = beacon_port;             // UDP beacons: broadcast on the LAN and on loopback
    lan.discovery.interface = interface;
    grav::BusOptions options;
    if (const grav::Status joined = grav::join_lan(options, std::move(lan)); !joined) {
        std::cerr << "grav-chat: " << joined.error().reason() << "\n";
        return 1;
    }
    options.belongs_to = group;
    options.name = name;
    std::unique_ptr<grav::Bus> bus;
    try {
        bus = std::make_unique<grav::Bus>(std::move(options));
    } catch (const grav::StartError& e) {
        std::cerr << "grav-chat: " << e.what() << "\n";
        return 1;
    }

    // Peers joining and leaving (called on the network thread: keep it short).
    bus->on_peer([](const grav::PeerEvent& event) {
        if (event.kind == grav::PeerEvent::Kind::joined)
            say("* " + event.peer.name + " joined");
        else if (event.kind == grav::PeerEvent::Kind::lost_messages ||
                 event.kind == grav::PeerEvent::Kind::unsent)
            say("* " + event.detail);
        else if (event.reason != grav::LeaveReason::local_stop)  // not when we are the one leaving
            say("* " + event.peer.name + " left (" + grav::to_string(*event.reason) + ")");
    });

    // A pod is our connection to the bus. It never receives what it sent
    // itself, so our own lines are not echoed back.
    grav::Pod pod = bus->connect();
    const grav::Status subscribed =
        pod.on_type("chat.line", [](const grav::Message& message) -> grav::Status {
            auto line = message.as<ChatLine>();
            if (!line) return line.error();  // not a ChatLine: counted as failed, never a crash
            say("[" + line->name + "] " + line->text);
            return grav::success();
        });
    if (!subscribed) {
        std::cerr << "grav-chat: " << subscribed.error().what() << "\n";
        return 1;
    }

    // Read stdin until Ctrl-D, or until Ctrl-C arrives on the signalfd.
    std::string pending;
    for (;;) {
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}};
        if (poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents != 0) break;  // Ctrl-C / SIGTERM
        char chunk[1024];
        const ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
        if (n <= 0) break;  // Ctrl-D
        pending.append(chunk, static_cast<std::size_t>(n));
        for (auto newline = pending.find('\n'); newline != std::string::npos; newline = pending.find('\n')) {
            const std::string text = pending.substr(0, newline);
            pending.erase(0, newline + 1);
            if (!text.empty()) pod.send(grav::Message::of("chat.line", ChatLine{name, text}));
        }
    }

    // Leave cleanly: the others see "* name left" at once, not after a timeout.
    pod.disconnect();
    bus->stop();
    close(signal_fd);
    return 0;
}
