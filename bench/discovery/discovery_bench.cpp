// Discovery on the namespace LAN (tests/lan/namespace_lan.hpp), N trials:
//  - baseline: raw libzmq, a fresh process dials a ROUTER at a known address
//    and gets one reply (what joining costs with no discovery at all);
//  - beacon discovery alone (grav_beacon_probe): start -> both sides found;
//    clean stop -> seen; SIGKILL -> dropped;
//  - full nodes (grav_lan_node: Bus + zmq + beacons): start -> both sides
//    report the other READY (handshake done, subscriptions in place); clean
//    stop -> LEFT seen; SIGKILL -> LEFT seen.
// Times are CLOCK_MONOTONIC stamps printed by the processes themselves;
// "start" is the newcomer's first line, printed before it builds anything.
// Prints a markdown table. Exit 77 when namespaces cannot be created.

#include "child_process.hpp"
#include "namespace_lan.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using grav::testkit::ChildProcess;
using grav::testkit::NamespaceLan;
using grav::testkit::split;

struct Samples {
    explicit Samples(std::string n) : name(std::move(n)) {}
    std::string name;
    std::vector<double> values;
    int failed = 0;
    void add(std::optional<double> v) {
        if (v) {
            values.push_back(*v);
        } else {
            ++failed;
        }
    }
    [[nodiscard]] double quantile(double q) const {
        if (values.empty()) return 0;
        auto s = values;
        std::sort(s.begin(), s.end());
        return s[static_cast<std::size_t>(q * static_cast<double>(s.size() - 1) + 0.5)];
    }
};

std::optional<double> stamp(const std::optional<std::string>& line, std::size_t field) {
    if (!line) return std::nullopt;
    const auto w = split(*line);
    if (w.size() <= field) return std::nullopt;
    return std::stod(w[field]);
}

// Stop or kill at a random moment of the beacon cycle (50..1050 ms after
// the join), so the drop time after SIGKILL spans what it really does.
void random_pause() {
    static std::minstd_rand random{std::random_device{}()};
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 1050)(random)));
}

std::unique_ptr<ChildProcess> spawn(const NamespaceLan& lan, int node, std::vector<std::string> program) {
    auto argv = lan.exec_in(node);
    argv.insert(argv.end(), program.begin(), program.end());
    return std::make_unique<ChildProcess>(argv);
}

std::string id_of(ChildProcess& p) {
    const auto l = p.wait_for_prefix("START ", 5s);
    return l ? split(*l).at(1) : std::string{};
}

void print(const std::vector<Samples>& all, double baseline_median) {
    std::printf("\n| measure | samples | median ms | p90 ms | max ms | median / raw libzmq dial |\n");
    std::printf("|---|---:|---:|---:|---:|---:|\n");
    for (const auto& s : all) {
        std::printf("| %s | %zu%s | %.2f | %.2f | %.2f | %.1fx |\n", s.name.c_str(), s.values.size(),
                    s.failed ? (" (" + std::to_string(s.failed) + " failed)").c_str() : "", s.quantile(0.5),
                    s.quantile(0.9), s.quantile(1.0),
                    baseline_median > 0 ? s.quantile(0.5) / baseline_median : 0.0);
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"discovery benchmark on a namespace LAN"};
    int trials = 20;
    app.add_option("--trials", trials, "trials per measure");
    CLI11_PARSE(app, argc, argv);

    NamespaceLan lan;
    if (!lan.unavailable().empty()) {
        std::fprintf(stderr, "skipped: %s\n", lan.unavailable().c_str());
        return 77;
    }
    if (!lan.add_nodes(2) || !lan.attach(0) || !lan.attach(1)) {
        std::fprintf(stderr, "cannot build the LAN: %s\n", lan.error().c_str());
        return 1;
    }
    std::vector<Samples> all;

    // 1. Raw libzmq: dial a known address, one round trip.
    Samples raw{"raw libzmq: dial a known ROUTER + 1 round trip (baseline)"};
    {
        const std::string endpoint = "tcp://" + NamespaceLan::address(0) + ":6000";
        auto server = spawn(lan, 0, {GRAV_RAW_ZMQ_PING, "server", endpoint});
        if (!server->wait_for_prefix("UP", 5s)) return 1;
        for (int t = 0; t < trials; ++t) {
            auto client = spawn(lan, 1, {GRAV_RAW_ZMQ_PING, "client", endpoint});
            const auto start = stamp(client->wait_for_prefix("START ", 5s), 1);
            const auto done = stamp(client->wait_for_prefix("DONE ", 5s), 1);
            raw.add(start && done ? std::optional(*done - *start) : std::nullopt);
            client->wait_exit(5s);
        }
    }
    all.push_back(raw);
    const double baseline = raw.quantile(0.5);

    // 2. Beacon discovery alone.
    Samples probe_found{"beacons only: start -> both sides found"};
    Samples probe_stop{"beacons only: clean stop -> seen (withdrew)"};
    Samples probe_kill{"beacons only: SIGKILL -> dropped (expiry 3 s, interval 500 ms)"};
    {
        auto a = spawn(lan, 0, {GRAV_BEACON_PROBE});
        const auto a_id = id_of(*a);
        for (int t = 0; t < trials; ++t) {
            for (const bool kill : {false, true}) {
                const auto mark = a->line_count();
                auto b = spawn(lan, 1, {GRAV_BEACON_PROBE});
                const auto start_line = b->wait_for_prefix("START ", 5s);
                const auto start = stamp(start_line, 2);
                const auto b_id = start_line ? split(*start_line).at(1) : std::string{};
                const auto a_saw = stamp(a->wait_for_prefix("FOUND " + b_id, 3s, mark), 6);
                const auto b_saw = stamp(b->wait_for_prefix("FOUND " + a_id, 3s), 6);
                probe_found.add(start && a_saw && b_saw ? std::optional(std::max(*a_saw, *b_saw) - *start)
                                                        : std::nullopt);
                random_pause();
                const double sent = grav::testkit::monotonic_ms();
                b->signal(kill ? SIGKILL : SIGTERM);
                const auto lost = stamp(a->wait_for_prefix("LOST " + b_id, 6s, mark), 3);
                (kill ? probe_kill : probe_stop).add(lost ? std::optional(*lost - sent) : std::nullopt);
                b->wait_exit(5s);
            }
        }
    }
    all.push_back(probe_found);
    all.push_back(probe_stop);
    all.push_back(probe_kill);

    // 3. Full nodes.
    Samples node_up{"full nodes: start -> bus constructed (transport bound, discovery started)"};
    Samples node_ready{"full nodes: start -> both sides READY (beacon + zmq handshake + subscriptions)"};
    Samples node_stop{"full nodes: clean stop -> LEFT seen"};
    Samples node_kill{"full nodes: SIGKILL -> LEFT seen"};
    {
        auto a = spawn(lan, 0, {GRAV_LAN_NODE});
        const auto a_id = id_of(*a);
        if (!a->wait_for_prefix("UP ", 5s)) return 1;
        for (int t = 0; t < trials; ++t) {
            for (const bool kill : {false, true}) {
                const auto mark = a->line_count();
                auto b = spawn(lan, 1, {GRAV_LAN_NODE});
                const auto start_line = b->wait_for_prefix("START ", 5s);
                const auto start = stamp(start_line, 2);
                const auto b_id = start_line ? split(*start_line).at(1) : std::string{};
                const auto up = stamp(b->wait_for_prefix("UP ", 5s), 1);
                node_up.add(start && up ? std::optional(*up - *start) : std::nullopt);
                const auto a_saw = stamp(a->wait_for_prefix("READY " + b_id, 3s, mark), 3);
                const auto b_saw = stamp(b->wait_for_prefix("READY " + a_id, 3s), 3);
                node_ready.add(start && a_saw && b_saw ? std::optional(std::max(*a_saw, *b_saw) - *start)
                                                       : std::nullopt);
                random_pause();
                const double sent = grav::testkit::monotonic_ms();
                b->signal(kill ? SIGKILL : SIGTERM);
                const auto left = stamp(a->wait_for_prefix("LEFT " + b_id, 6s, mark), 3);
                (kill ? node_kill : node_stop).add(left ? std::optional(*left - sent) : std::nullopt);
                b->wait_exit(5s);
                std::this_thread::sleep_for(50ms);
            }
        }
        a->signal(SIGTERM);
        a->wait_exit(5s);
    }
    all.push_back(node_up);
    all.push_back(node_ready);
    all.push_back(node_stop);
    all.push_back(node_kill);

    print(all, baseline);
    return 0;
}
