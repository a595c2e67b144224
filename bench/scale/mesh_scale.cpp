// Mesh scale (issue 20): N full nodes (grav_lan_node: Bus + ZeroMQ transport
// + beacon discovery), one per network namespace, all on one bridge
// (tests/lan/mesh_lan.hpp), started together. For each N:
//  - mesh: from the last node's START until every node printed every other
//    READY (handshake done, subscriptions in place);
//  - per idle node, after the mesh settled: resident memory (VmRSS), open
//    file descriptors, threads, and CPU over --idle seconds (the run time
//    of all its threads, /proc/PID/task/*/schedstat);
//  - fan-out: one lan.ping from node 0, from its SENT stamp until the last
//    other node printed RECV (--messages of them, one at a time);
//  - drop: node N-1 SIGKILLed, until every other node printed LEFT of it.
// Times are CLOCK_MONOTONIC stamps printed by the nodes themselves. Prints
// progress on stderr and a markdown table on stdout. Exit 77 when network
// namespaces cannot be made here (not root).
//
//   mesh_scale [--sizes 10,25,50,100] [--idle 10] [--messages 5] [--node-arg=--workers=1 ...]

#include "child_process.hpp"
#include "mesh_lan.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#ifndef GRAV_LAN_NODE
#error "GRAV_LAN_NODE must name the node program"
#endif
#ifndef GRAV_RAW_ZMQ_PEERS
#error "GRAV_RAW_ZMQ_PEERS must name the raw libzmq reference program"
#endif

namespace {

using namespace std::chrono_literals;
using grav::testkit::MeshLan;
using grav::testkit::monotonic_ms;
using grav::testkit::ProcessUsage;
using grav::testkit::usage_of;

struct Row {
    int n = 0;
    std::string load;  // /proc/loadavg's 1-minute figure when this N began
    double setup_s = 0;
    double start_spread_ms = 0;  // first to last START
    std::optional<double> mesh_ms;
    int ready_pairs = 0;
    double form_cpu_ms = 0;            // per node, from its start until the mesh formed (or the wait ended)
    double cpu_mean = 0, cpu_max = 0;  // % of one core
    double rss_mean_kib = 0, rss_max_kib = 0;
    double fds_mean = 0;
    int fds_max = 0;
    int threads = 0;
    std::vector<double> fanout_ms;
    int fanout_failed = 0;
    std::optional<double> drop_ms;
};

std::string load_average() {
    std::ifstream in("/proc/loadavg");
    std::string one;
    in >> one;
    return one;
}

void progress(const char* format, auto... args) {
    std::fprintf(stderr, format, args...);
    std::fflush(stderr);
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

Row measure(int n, const std::vector<std::string>& node_args, int idle_s, int messages,
            const std::string& logs) {
    Row row;
    row.n = n;
    row.load = load_average();
    progress("N=%d (load %s): building the LAN...\n", n, row.load.c_str());
    const double t0 = monotonic_ms();
    const std::string log_dir = logs + "/n" + std::to_string(n);
    std::filesystem::create_directories(log_dir);
    MeshLan mesh(GRAV_LAN_NODE, log_dir);
    if (!mesh.build(n)) {
        progress("  %s\n", mesh.error().c_str());
        return row;
    }
    row.setup_s = (monotonic_ms() - t0) / 1e3;
    progress("  LAN built in %.1f s; starting %d nodes at once\n", row.setup_s, n);
    if (!mesh.start(node_args, std::chrono::milliseconds(10000 + 200 * n))) {
        progress("  %s\n", mesh.error().c_str());
        return row;
    }
    row.start_spread_ms = mesh.last_start_ms() - mesh.first_start_ms();
    progress("  all started within %.0f ms\n", row.start_spread_ms);

    // Mesh: bounded at 60 s, progress once a second.
    const int pairs = n * (n - 1);
    const double mesh_deadline = monotonic_ms() + 60000;
    while (!mesh.full_mesh() && monotonic_ms() < mesh_deadline) {
        mesh.wait_until([&] { return mesh.full_mesh(); }, 1s);
        progress("  %.1f s after the last start: %d/%d pairs ready\n",
                 (monotonic_ms() - mesh.last_start_ms()) / 1e3, mesh.ready_pairs(), pairs);
    }
    row.ready_pairs = mesh.ready_pairs();
    // What forming it cost: each node's CPU from its start to now.
    for (int i = 0; i < n; ++i) {
        if (const auto u = usage_of(mesh.pid(i))) row.form_cpu_ms += static_cast<double>(u->cpu_ns) / 1e6;
    }
    row.form_cpu_ms /= n;
    progress("  CPU per node from its start to here: %.0f ms\n", row.form_cpu_ms);
    if (mesh.full_mesh()) {
        row.mesh_ms = mesh.last_ready_ms() - mesh.last_start_ms();
        progress("  full mesh %.0f ms after the last start\n", *row.mesh_ms);
    } else {
        progress("  no full mesh within 60 s: %s\n", mesh.missing().c_str());
    }

    // Idle: let the handshakes' aftermath settle, then sample every node.
    mesh.wait_until([] { return false; }, 2s);
    progress("  idle for %d s...\n", idle_s);
    std::vector<std::optional<ProcessUsage>> before(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) before[static_cast<std::size_t>(i)] = usage_of(mesh.pid(i));
    const double idle_t0 = monotonic_ms();
    mesh.wait_until([] { return false; }, std::chrono::seconds(idle_s));
    const double idle_ms = monotonic_ms() - idle_t0;
    int sampled = 0;
    for (int i = 0; i < n; ++i) {
        const auto after = usage_of(mesh.pid(i));
        const auto& b = before[static_cast<std::size_t>(i)];
        if (!after || !b) continue;
        ++sampled;
        const double cpu = static_cast<double>(after->cpu_ns - b->cpu_ns) / 1e6 / idle_ms * 100.0;
        row.cpu_mean += cpu;
        row.cpu_max = std::max(row.cpu_max, cpu);
        row.rss_mean_kib += static_cast<double>(after->rss_kib);
        row.rss_max_kib = std::max(row.rss_max_kib, static_cast<double>(after->rss_kib));
        row.fds_mean += after->fds;
        row.fds_max = std::max(row.fds_max, after->fds);
        row.threads = std::max(row.threads, after->threads);
    }
    if (sampled > 0) {
        row.cpu_mean /= sampled;
        row.rss_mean_kib /= sampled;
        row.fds_mean /= sampled;
    }
    progress("  idle CPU per node %.2f %% (max %.2f), RSS %.1f MiB, %.0f fds, %d threads\n", row.cpu_mean,
             row.cpu_max, row.rss_mean_kib / 1024, row.fds_mean, row.threads);

    // Fan-out: one message at a time from node 0 to all.
    for (int m = 0; m < messages; ++m) {
        const auto sent = mesh.send(0, 5s);
        if (!sent) {
            ++row.fanout_failed;
            continue;
        }
        const auto [seq, at] = *sent;
        if (mesh.wait_until([&, seq = seq] { return mesh.all_received(0, seq); }, 10s)) {
            row.fanout_ms.push_back(mesh.last_received_ms(0, seq) - at);
        } else {
            ++row.fanout_failed;
            progress("  message %d reached %d of %d\n", seq, mesh.received_count(0, seq), n - 1);
        }
        mesh.wait_until([] { return false; }, 200ms);
    }
    progress("  fan-out to all: median %.2f ms\n", median(row.fanout_ms));

    // Drop: SIGKILL the last node.
    const int victim = n - 1;
    const double killed_at = monotonic_ms();
    mesh.kill(victim);
    if (mesh.wait_until([&] { return mesh.all_saw_left(victim); }, 20s)) {
        row.drop_ms = mesh.last_left_ms(victim) - killed_at;
        progress("  SIGKILLed node dropped by all in %.0f ms\n", *row.drop_ms);
    } else {
        progress("  the SIGKILLed node was not dropped by all within 20 s\n");
    }

    progress("  stopping...\n");
    if (!mesh.stop_all(30s)) progress("  some nodes did not stop within 30 s (killed)\n");
    // What went wrong on the way, summed over the nodes that stopped cleanly.
    progress("  counters, all nodes:");
    for (const char* name :
         {"hub.dials_deferred", "hub.dials_abandoned", "zmq.handshake_timeouts", "zmq.peers_joined",
          "zmq.peers_left", "beacon.redial", "beacon.kept_alive", "beacon.received"})
        progress(" %s=%llu", name, static_cast<unsigned long long>(mesh.stat_total(name)));
    progress("\n");
    return row;
}

// The raw-libzmq floor, measured like the mesh right after it: N
// grav_raw_zmq_peers on an N-node LAN, each dialling every other with the
// per-peer sockets and heartbeats of a grav node and nothing else
// (raw_zmq_peers.cpp). Idle CPU, RSS and fds per process, as for the nodes.
struct Raw {
    int n = 0;
    double cpu = 0;  // % of a core per process
    double rss_kib = 0;
    double fds = 0;
    bool ok = false;
};

Raw measure_raw(int n, int idle_s, const std::vector<std::string>& heartbeat, const std::string& logs) {
    Raw raw;
    raw.n = n;
    progress("  raw libzmq mesh of %d (load %s)...\n", n, load_average().c_str());
    std::filesystem::create_directories(logs);
    MeshLan mesh(GRAV_RAW_ZMQ_PEERS, logs);
    if (!mesh.build(n)) return raw;
    const auto args_of = [&](int node) {
        std::vector<std::string> args{"--bind", grav::testkit::NamespaceLan::address(node)};
        for (int other = 0; other < n; ++other) {
            if (other == node) continue;
            args.push_back("--peer");
            args.push_back(grav::testkit::NamespaceLan::address(other));
        }
        args.insert(args.end(), heartbeat.begin(), heartbeat.end());
        return args;
    };
    if (!mesh.start(args_of, std::chrono::milliseconds(10000 + 200 * n))) {
        progress("  raw libzmq mesh: %s\n", mesh.error().c_str());
        return raw;
    }
    mesh.wait_until([] { return false; }, 5s);  // every connection up, the heartbeats under way
    std::vector<std::optional<ProcessUsage>> before;
    for (int i = 0; i < n; ++i) before.push_back(usage_of(mesh.pid(i)));
    const double t0 = monotonic_ms();
    mesh.wait_until([] { return false; }, std::chrono::seconds(idle_s));
    const double ms = monotonic_ms() - t0;
    int sampled = 0;
    for (int i = 0; i < n; ++i) {
        const auto after = usage_of(mesh.pid(i));
        const auto& b = before[static_cast<std::size_t>(i)];
        if (!after || !b) continue;
        ++sampled;
        raw.cpu += static_cast<double>(after->cpu_ns - b->cpu_ns) / 1e6 / ms * 100.0;
        raw.rss_kib += static_cast<double>(after->rss_kib);
        raw.fds += after->fds;
    }
    if (sampled == 0) return raw;
    raw.cpu /= sampled;
    raw.rss_kib /= sampled;
    raw.fds /= sampled;
    raw.ok = true;
    progress("  raw: idle CPU per process %.2f %%, RSS %.1f MiB, %.0f fds\n", raw.cpu, raw.rss_kib / 1024,
             raw.fds);
    mesh.stop_all(10s);
    return raw;
}

void print_raw(const std::vector<Row>& rows, const std::vector<Raw>& raws) {
    std::printf(
        "\n| N | idle CPU per node, %% of a core: grav / raw libzmq / ratio | RSS per node, MiB: grav / raw "
        "/ ratio | "
        "fds per node: grav / raw |\n");
    std::printf("|---:|---:|---:|---:|\n");
    for (std::size_t i = 0; i < rows.size() && i < raws.size(); ++i) {
        const auto& r = rows[i];
        const auto& w = raws[i];
        if (!w.ok) continue;
        std::printf("| %d | %.2f / %.2f / %.2f | %.1f / %.1f / %.2f | %.0f / %.0f |\n", r.n, r.cpu_mean,
                    w.cpu, w.cpu > 0 ? r.cpu_mean / w.cpu : 0.0, r.rss_mean_kib / 1024, w.rss_kib / 1024,
                    w.rss_kib > 0 ? r.rss_mean_kib / w.rss_kib : 0.0, r.fds_mean, w.fds);
    }
    std::printf(
        "\n| from N to N | per added peer: RSS KiB grav / raw | fds grav / raw | idle CPU %% grav / raw |\n");
    std::printf("|---|---:|---:|---:|\n");
    for (std::size_t i = 1; i < rows.size() && i < raws.size(); ++i) {
        const auto& a = rows[i - 1];
        const auto& b = rows[i];
        const auto& x = raws[i - 1];
        const auto& y = raws[i];
        if (!x.ok || !y.ok) continue;
        const double peers = b.n - a.n;
        std::printf("| %d -> %d | %.1f / %.1f | %.2f / %.2f | %.4f / %.4f |\n", a.n, b.n,
                    (b.rss_mean_kib - a.rss_mean_kib) / peers, (y.rss_kib - x.rss_kib) / peers,
                    (b.fds_mean - a.fds_mean) / peers, (y.fds - x.fds) / peers,
                    (b.cpu_mean - a.cpu_mean) / peers, (y.cpu - x.cpu) / peers);
    }
    std::fflush(stdout);
}

void print(const std::vector<Row>& rows) {
    std::printf(
        "\n| N | load | starts spread over, ms | mesh after last start, ms | CPU per node to form it, ms | "
        "idle CPU per node, %% of a core (mean / max) | "
        "RSS per node, MiB (mean / max) | open fds per node (mean / max) | threads | "
        "fan-out to all, ms (median / max) | SIGKILLed node dropped by all, ms |\n");
    std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const auto& r : rows) {
        const std::string mesh = r.mesh_ms ? std::to_string(static_cast<long>(*r.mesh_ms + 0.5))
                                           : "not formed (" + std::to_string(r.ready_pairs) + "/" +
                                                 std::to_string(r.n * (r.n - 1)) + " pairs)";
        const std::string drop =
            r.drop_ms ? std::to_string(static_cast<long>(*r.drop_ms + 0.5)) : "not within 20 s";
        std::string fanout = "-";
        if (!r.fanout_ms.empty()) {
            char text[64];
            std::snprintf(text, sizeof text, "%.2f / %.2f", median(r.fanout_ms),
                          *std::max_element(r.fanout_ms.begin(), r.fanout_ms.end()));
            fanout = text;
            if (r.fanout_failed) fanout += " (" + std::to_string(r.fanout_failed) + " incomplete)";
        }
        std::printf("| %d | %s | %.0f | %s | %.0f | %.2f / %.2f | %.1f / %.1f | %.0f / %d | %d | %s | %s |\n",
                    r.n, r.load.c_str(), r.start_spread_ms, mesh.c_str(), r.form_cpu_ms, r.cpu_mean,
                    r.cpu_max, r.rss_mean_kib / 1024, r.rss_max_kib / 1024, r.fds_mean, r.fds_max, r.threads,
                    fanout.c_str(), drop.c_str());
    }
    // Growth between consecutive sizes: what one more peer costs a node.
    std::printf(
        "\n| from N to N | RSS per added peer, KiB | fds per added peer | idle CPU per added peer, %% |\n");
    std::printf("|---|---:|---:|---:|\n");
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& a = rows[i - 1];
        const auto& b = rows[i];
        const double peers = b.n - a.n;
        std::printf("| %d -> %d | %.1f | %.2f | %.4f |\n", a.n, b.n,
                    (b.rss_mean_kib - a.rss_mean_kib) / peers, (b.fds_mean - a.fds_mean) / peers,
                    (b.cpu_mean - a.cpu_mean) / peers);
    }
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"mesh scale benchmark on a namespace LAN"};
    std::vector<int> sizes{10, 25, 50, 100};
    int idle_s = 10;
    int messages = 5;
    std::vector<std::string> node_args{"--workers", "1"};
    std::vector<std::string> extra;
    app.add_option("--sizes", sizes, "mesh sizes")->delimiter(',');
    app.add_option("--idle", idle_s, "seconds of idle CPU sampling per size");
    app.add_option("--messages", messages, "fan-out messages per size");
    app.add_option("--node-arg", extra, "an extra argument for every grav_lan_node (repeat)");
    bool raw_reference = true;
    app.add_flag("!--no-raw", raw_reference, "skip the raw libzmq reference");
    CLI11_PARSE(app, argc, argv);
    node_args.insert(node_args.end(), extra.begin(), extra.end());
    // The raw reference pings like the nodes: same interval and timeout.
    std::vector<std::string> heartbeat;
    for (std::size_t i = 0; i + 1 < extra.size(); ++i) {
        if (extra[i] == "--heartbeat-timeout") {
            const int timeout = std::stoi(extra[i + 1]);
            heartbeat = {"--heartbeat-timeout", extra[i + 1], "--heartbeat-interval",
                         std::to_string(std::max(100, timeout / 3))};
        }
    }
    for (int n : sizes) {
        if (n < 2 || n > 250) {
            std::fprintf(stderr, "mesh_scale: sizes must be within 2..250 (one /24 per LAN)\n");
            return 2;
        }
    }
    {
        MeshLan probe(GRAV_LAN_NODE);
        if (!probe.unavailable().empty()) {
            std::fprintf(stderr, "skipped: %s\n", probe.unavailable().c_str());
            return 77;
        }
    }
    const std::string logs =
        (std::filesystem::temp_directory_path() / ("grav-mesh-scale-" + std::to_string(::getpid()))).string();
    progress("the nodes' stderr goes to %s\n", logs.c_str());
    std::vector<Row> rows;
    std::vector<Raw> raws;
    for (int n : sizes) {
        rows.push_back(measure(n, node_args, idle_s, messages, logs));
        if (raw_reference) {
            std::this_thread::sleep_for(2s);
            raws.push_back(measure_raw(n, idle_s, heartbeat, logs + "/raw" + std::to_string(n)));
        }
        std::this_thread::sleep_for(2s);  // the previous mesh's namespaces are gone
    }
    print(rows);
    if (raw_reference) print_raw(rows, raws);
    return 0;
}
