// One grav node (Bus + ZeroMQ transport) in its own process, driven by the
// multi-process tests. It prints what happens, one event per line:
//   endpoint <ep> / id <node id>   at start
//   ready <peers>                  once it sees --peers peers
//   sent <n>                       after sending --count messages
//   got <type> <origin> <payload>  for each message (unless --quiet)
//   stalling / resumed             around the --stall-ms pause of the first stall.* message
//   bulk <received> <in_order>     every 100000 bulk messages and at the end
//   left <id> <reason>             peer events
//   lost <id> <count>              messages of that peer reported lost
//   unsent <id> <count>|unconfirmed  at stop: messages that peer did not take
//   received <n>                   messages its pod handled, after stopping
//   stat <name> <value>            the transport's counters, before stopping
//   stopstat <name> <value>        the same, after stopping
// Its pod answers "req.*" with "rep.<name>" and "work.*" with "done.<name>".
// SIGTERM: clean stop (goodbye to peers), exit 0.
#include <grav/grav.hpp>
#include <grav/zmq.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_term(int) { stop_requested = true; }

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

struct Args {
    std::string name = "node";
    std::string bind = "tcp://127.0.0.1:0";
    std::string group = "*";
    std::vector<std::string> connect;
    std::vector<std::string> interests;
    std::size_t peers = 0;
    std::size_t count = 0;
    std::size_t bulk = 0;  // expect this many "bulk" messages, handled slowly
    std::string type;      // type of the --count messages (default seq.<name>)
    bool quiet = false;
    int heartbeat_ms = 0;  // 0: the transport's defaults
    int stall_ms = 0;      // the first "stall.*" message blocks the handler this long
    int recv_hwm = 0;      // 0: the transport's default
    std::size_t mailbox = 0;  // 0: the bus's default
    int stop_flush_ms = -1;   // -1: the transport's default
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        const std::string value = argv[i + 1];
        if (key == "--name")
            a.name = value;
        else if (key == "--bind")
            a.bind = value;
        else if (key == "--group")
            a.group = value;
        else if (key == "--connect")
            a.connect.push_back(value);
        else if (key == "--interest")
            a.interests.push_back(value);
        else if (key == "--peers")
            a.peers = std::stoul(value);
        else if (key == "--count")
            a.count = std::stoul(value);
        else if (key == "--bulk")
            a.bulk = std::stoul(value);
        else if (key == "--type")
            a.type = value;
        else if (key == "--quiet")
            a.quiet = value == "1";
        else if (key == "--heartbeat-ms")
            a.heartbeat_ms = std::stoi(value);
        else if (key == "--stall-ms")
            a.stall_ms = std::stoi(value);
        else if (key == "--recv-hwm")
            a.recv_hwm = std::stoi(value);
        else if (key == "--mailbox")
            a.mailbox = std::stoul(value);
        else if (key == "--stop-flush-ms")
            a.stop_flush_ms = std::stoi(value);
        else {
            std::fprintf(stderr, "unknown option %s\n", key.c_str());
            std::exit(2);
        }
    }
    if (a.type.empty()) a.type = "seq." + a.name;
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    std::signal(SIGTERM, on_term);

    grav::zmq::Options options;
    options.bind = args.bind;
    if (args.heartbeat_ms > 0) {
        options.heartbeat_interval = std::chrono::milliseconds(std::max(args.heartbeat_ms / 5, 1));
        options.heartbeat_timeout = std::chrono::milliseconds(args.heartbeat_ms);
    }
    if (args.recv_hwm > 0) options.recv_hwm = args.recv_hwm;
    if (args.stop_flush_ms >= 0) options.stop_flush_timeout = std::chrono::milliseconds(args.stop_flush_ms);
    grav::BusOptions bus_options;
    if (args.mailbox > 0) bus_options.mailbox_capacity = args.mailbox;
    bus_options.transport = grav::zmq::transport(options);
    bus_options.belongs_to = args.group;
    bus_options.interests = args.interests;
    bus_options.name = args.name;
    grav::Bus bus(std::move(bus_options));
    bus.on_peer([](const grav::PeerEvent& e) {
        if (e.kind == grav::PeerEvent::Kind::left) {
            say("left " + e.peer.id.str() + " " + (e.reason ? grav::to_string(*e.reason) : "?"));
        } else if (e.kind == grav::PeerEvent::Kind::lost_messages) {
            say("lost " + e.peer.id.str() + " " + std::to_string(e.lost));
        } else if (e.kind == grav::PeerEvent::Kind::unsent) {
            say("unsent " + e.peer.id.str() + " " + (e.unconfirmed ? "unconfirmed" : std::to_string(e.lost)));
        } else {
            say("joined " + e.peer.id.str() + " " + e.peer.name);
        }
    });

    grav::Pod pod = bus.connect();
    grav::Pod* self = &pod;
    std::size_t bulk_seen = 0;
    bool bulk_in_order = true;
    std::size_t stall_seen = 0;
    std::atomic<std::size_t> handled{0};
    pod.on([&, self](const grav::Message& m) {
        ++handled;
        const std::string type = m.type();
        if (type.rfind("stall.", 0) == 0) {
            // A consumer that stops for a while (a full output pipe): its
            // mailbox fills, the transport stops reading, the sender is held back.
            if (stall_seen++ == 0) {
                say("stalling");
                std::this_thread::sleep_for(std::chrono::milliseconds(args.stall_ms));
                say("resumed");
            }
            return;
        }
        if (type == "bulk") {
            if (m.payload_view() != std::to_string(bulk_seen)) bulk_in_order = false;
            ++bulk_seen;
            // A deliberately slow consumer: the sender must be held back, not
            // lose anything.
            if (bulk_seen % 1000 == 0) std::this_thread::sleep_for(std::chrono::microseconds(500));
            if (bulk_seen % 100000 == 0 || bulk_seen == args.bulk) {
                say("bulk " + std::to_string(bulk_seen) + " " + (bulk_in_order ? "1" : "0"));
            }
            return;
        }
        if (!args.quiet) {
            say("got " + type + " " + m.origin().str() + " " + std::string(m.payload_view()));
        }
        if (type.rfind("req.", 0) == 0) {
            self->reply_to(
                m, grav::Message("rep." + args.name, args.name + ":" + std::string(m.payload_view())));
        } else if (type.rfind("work.", 0) == 0) {
            self->reply_to(m, grav::Message("done." + args.name, args.name));
        }
    });

    say("endpoint " + bus.endpoint());
    say("id " + bus.node_id().str());
    for (const auto& ep : args.connect) {
        if (auto ok = bus.connect_endpoint(ep); !ok) say("connect-failed " + ok.error().what());
    }
    if (args.peers > 0) {
        while (bus.peers().size() < args.peers && !stop_requested) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        say("ready " + std::to_string(bus.peers().size()));
    }
    if (args.count > 0) {
        for (std::size_t i = 0; i < args.count; ++i) pod.send(grav::Message(args.type, std::to_string(i)));
        say("sent " + std::to_string(args.count));
    }
    while (!stop_requested) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto stats = bus.stats().network;
    bus.stop();
    for (const auto& [name, value] : stats) say("stat " + name + " " + std::to_string(value));
    for (const auto& [name, value] : bus.stats().network)
        say("stopstat " + name + " " + std::to_string(value));
    say("received " + std::to_string(handled.load()));
    say("stopped");
    return 0;
}
