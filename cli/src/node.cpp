#include "node.hpp"

#include "exit_code.hpp"
#include "output.hpp"

#include <grav/lan.hpp>
#include <grav/nats.hpp>
#include <grav/zmq.hpp>

namespace grav::cli {

std::string refusal_summary(const std::map<std::string, std::uint64_t>& stats) {
    static const std::pair<const char*, const char*> kinds[] = {
        {"beacon.not_admitted", "beacons signed by a key this node does not admit"},
        {"beacon.unsigned", "plain beacons, ignored by this secure node"},
        {"beacon.signed_ignored", "signed beacons, ignored by this plain node"},
        {"beacon.bad_signature", "beacons whose signature does not match"},
        {"beacon.stale", "beacons outside the clock tolerance"},
        {"zmq.auth_refused", "connections or messages this node's policy refused"},
        {"zmq.handshake_failed", "failed secure handshakes on this node's sockets"},
        {"zmq.handshake_rejected", "secure handshakes of this node that its peers refused"},
    };
    std::string out;
    for (const auto& [key, what] : kinds) {
        const auto it = stats.find(key);
        if (it == stats.end() || it->second == 0) continue;
        out += (out.empty() ? "" : ", ") + std::string(key) + "=" + std::to_string(it->second) + " (" + what +
               ")";
    }
    return out;
}

Node::Node(const NetworkOptions& options, std::vector<std::string> interests) : options_(options) {
    const std::string bind = validated_bind_endpoint(options_);

    auto policy = make_policy(options_.security);
    if (!policy) {
        throw CliError(policy.error().code() == Errc::invalid_argument ? ExitCode::usage : ExitCode::bad_key,
                       policy.error().reason());
    }

    LanOptions lan;
    lan.security = *policy;  // null without --secure: the links and the beacons alike
    lan.transport.bind = bind;
    if (!options_.verbose) {
        // Transport warnings (refused peers, malformed frames) only with --verbose:
        // without it stderr carries only what the user must act on.
        lan.transport.log = [](std::string_view) {};
    }
    max_payload_ = zmq::max_payload_size(lan.transport);
    BusOptions bus_options;
    nats_only_ = !options_.nats.servers.empty() && !options_.bridge_lan;
    if (options_.bridge_lan && options_.nats.servers.empty()) {
        throw CliError(ExitCode::usage, "bridge: --nats URL is required (the NATS server to join)");
    }
    if (nats_only_ && !options_.connect.empty()) {
        throw CliError(ExitCode::usage,
                       "--connect needs the LAN: with --nats, only `grav bridge` joins both");
    }
    if (!options_.nats.servers.empty())
        bus_options.bridge = nats::bridge(bridge_options(options_.nats, options_.name));
    if (!nats_only_) {  // NATS only: no transport, no beacons, the bridge is the node's one link
        lan.beacons = options_.connect.empty();  // --connect: those peers only
        lan.discovery.port = options_.beacon_port;
        lan.discovery.interface = options_.interface;
        lan.discovery.seeds = options_.seeds;
        // Why a node's beacons were ignored (another cluster secret, ...): with --verbose.
        if (!options_.verbose) lan.discovery.log = [](std::string_view) {};
        // Fails only on a policy set twice or a transport set already, which this code never does.
        if (const Status joined = join_lan(bus_options, std::move(lan)); !joined)
            throw CliError(ExitCode::cannot_start, "cannot start the node: " + joined.error().reason());
    }
    bus_options.belongs_to = options_.group;
    bus_options.interests = std::move(interests);
    bus_options.name = options_.name;

    try {
        bus_ = std::make_unique<Bus>(std::move(bus_options));
    } catch (const StartError& e) {
        // invalid_argument: something we were told (interface, seed); else the
        // system said no (port in use, no sockets).
        const ExitCode code =
            e.error().code() == Errc::invalid_argument ? ExitCode::bad_address : ExitCode::cannot_start;
        throw CliError(code, "cannot start the node: " + e.error().reason());
    }

    const bool verbose = options_.verbose;
    metrics_ = std::make_unique<MetricsServer>(*bus_, options_.metrics, verbose);
    bus_->on_peer([this, verbose](const PeerEvent& event) {
        if (event.kind == PeerEvent::Kind::unsent) {
            const std::lock_guard lock(undelivered_mutex_);
            undelivered_.push_back(event.detail);
            return;
        }
        if (verbose) {
            const auto& p = event.peer;
            if (event.kind == PeerEvent::Kind::joined)
                print_note("peer joined: " + (p.name.empty() ? p.id.short_str() : p.name) + " (" +
                           p.id.short_str() + ") at " + p.address);
            else if (event.kind == PeerEvent::Kind::lost_messages)
                print_note(event.detail);
            else
                print_note("peer left: " + peers_.name_of(p.id) + " (" + p.id.short_str() +
                           "): " + (event.reason ? to_string(*event.reason) : "?") +
                           (event.detail.empty() ? "" : " - " + event.detail));
        }
        peers_.on_event(event);
    });
    peers_.add_ready(bus_->peers());
    if (verbose)
        print_note("node " + describe() + " listening on " + bus_->endpoint() + ", group '" + options_.group +
                   "', " + discovery_text());
}

Node::~Node() {
    if (bus_) {
        report_refusals();
        bus_->stop();
    }
}

void Node::report_refusals() {
    if (!options_.verbose || refusals_reported_) return;
    refusals_reported_ = true;
    const std::string summary = refusal_summary(bus_->stats().network);
    if (!summary.empty()) print_note("refused: " + summary);
}

std::string Node::refusal_hint() const {
    if (options_.verbose) return {};  // the reasons are in the log, the counts follow at exit
    const std::string summary = refusal_summary(bus_->stats().network);
    if (summary.empty()) return {};
    return "; secure mode refused: " + summary + "; run with -v for why";
}

std::vector<std::string> Node::stop() {
    report_refusals();
    bus_->stop();
    const std::lock_guard lock(undelivered_mutex_);
    return undelivered_;
}

void Node::connect() {
    for (const auto& endpoint : options_.connect) {
        const Status status = bus_->connect_endpoint(endpoint);
        if (!status)
            throw CliError(ExitCode::bad_address, "--connect " + endpoint + ": " + status.error().reason());
    }
}

std::string Node::describe() const { return bus_->name() + " (" + bus_->node_id().short_str() + ")"; }

bool Node::wait_for_nats(std::chrono::milliseconds timeout, Interrupt& interrupt) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto stats = bus_->stats();
        const auto it = stats.network.find("nats.connected");
        if (it != stats.network.end() && it->second == 1) return true;
        if (std::chrono::steady_clock::now() >= deadline ||
            interrupt.sleep_for(std::chrono::milliseconds(10))) {
            return false;
        }
    }
}

std::string Node::discovery_text() const {
    if (nats_only_) return "NATS at " + options_.nats.servers.front();
    if (!options_.connect.empty()) return "peers from --connect";
    return "beacons on UDP port " + std::to_string(options_.beacon_port) +
           (options_.interface.empty() ? "" : " on " + options_.interface);
}

}  // namespace grav::cli
