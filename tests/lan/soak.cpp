// grav_lan_soak: the soak of issue 6 point 8 (not a CI test: scripts/soak.sh
// runs it). N grav_lan_traffic nodes on a namespace LAN publish numbered
// streams for a set time while, every --every seconds, one node is either
// killed (SIGKILL) and restarted as a new node, or cut off the LAN and put
// back, in turn. At the end every node stops sending, and the report gives:
//   - memory of every node over time: RSS, and malloc's bytes in use and held
//     (mallinfo2), so that a leak (in use grows) and the allocator (RSS grows,
//     in use flat) can be told apart; flat = the never-killed nodes' growth
//     over the second half of the run (--flat-from);
//   - messages lost: gaps in the streams the final nodes received (what no
//     retransmission recovered), the tails that never arrived, and the
//     transport's own counters summed over the nodes;
//   - recovery after each event: from the heal (link back up) or the
//     restart until the node receives again from every other node and every
//     other node from it; the slowest one.
// Nodes 0 .. N/2-1 are never killed (node 0 is never disturbed at all).
// Needs root (network namespaces).
//
// GRAV_SOAK_WRAP="<command> <args>...": node 0's program is started as
// `<command> <args>... grav_lan_traffic ...` (e.g. a heap profiler that execs
// the program, so that signals reach the node itself):
//   GRAV_SOAK_WRAP="env LD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so
//                   DUMP_HEAPTRACK_OUTPUT=/tmp/node0.raw"
// then `/usr/lib/heaptrack/libexec/heaptrack_interpret < /tmp/node0.raw |
// gzip > /tmp/node0.gz; heaptrack_print /tmp/node0.gz`.

#include "soak.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sstream>
#include <thread>

namespace grav::soak {

using namespace std::chrono_literals;

int Soak::run() {
    if (!lan_.unavailable().empty()) {
        std::fprintf(stderr, "soak: namespace LAN unavailable: %s\n", lan_.unavailable().c_str());
        return 2;
    }
    if (!grav::testkit::build_star(lan_, s_.nodes)) {
        std::fprintf(stderr, "soak: %s\n", lan_.error().c_str());
        return 2;
    }
    slots_.resize(static_cast<std::size_t>(s_.nodes));
    for (int i = 0; i < s_.nodes; ++i) {
        slots_[static_cast<std::size_t>(i)].killable = i >= s_.nodes / 2;
        if (!start(i)) return 1;
    }
    const double t0 = monotonic_ms();
    t0_ = t0;
    std::printf(
        "soak: %d nodes, %.1f min, %.0f msg/s each, an event every %.0f s, outage %d ms, heartbeat "
        "timeout %d ms\n",
        s_.nodes, s_.minutes, s_.rate, s_.every_s, s_.outage_ms, s_.heartbeat_ms);
    const double end = t0 + s_.minutes * 60'000;
    double next_event = t0 + s_.every_s * 1000;
    double next_sample = t0 + s_.sample_s * 1000;
    int kill_turn = 0;
    int cut_turn = 0;
    bool kill_next = true;
    while (monotonic_ms() < end) {
        if (monotonic_ms() >= next_sample) {
            sample(t0);
            next_sample += s_.sample_s * 1000;
        }
        if (monotonic_ms() >= next_event && monotonic_ms() + s_.outage_ms + 2000 < end) {
            measure_last_event();
            if (kill_next) {
                kill_and_restart(s_.nodes / 2 + kill_turn++ % (s_.nodes - s_.nodes / 2));
            } else {
                partition(1 + cut_turn++ % (s_.nodes - 1));
            }
            kill_next = !kill_next;
            next_event += s_.every_s * 1000;
        }
        pump(200ms);
    }
    measure_last_event();
    sample(t0);
    return finish(t0);
}

bool Soak::start(int node) {
    std::string error;
    std::vector<std::string> command = {s_.traffic,
                                        "--interval",
                                        "200",
                                        "--expiry",
                                        std::to_string(s_.heartbeat_ms),
                                        "--heartbeat-timeout",
                                        std::to_string(s_.heartbeat_ms),
                                        "--rate",
                                        std::to_string(s_.rate),
                                        "--tick",
                                        std::to_string(s_.tick_ms)};
    if (node == 0) command.insert(command.begin(), wrap_.begin(), wrap_.end());
    const std::string program = command.front();
    command.erase(command.begin());
    auto p = grav::testkit::launch_in(lan_, node, program, std::move(command), 5s, error);
    if (!p) {
        std::fprintf(stderr, "soak: %s\n", error.c_str());
        return false;
    }
    slot(node).now = Incarnation{std::move(*p), 0, {}};
    return true;
}

// Reads every node's output for `d` (their pipes must never fill up).
void Soak::pump(std::chrono::milliseconds d) {
    const double until = monotonic_ms() + static_cast<double>(d.count());
    do {
        for (auto& sl : slots_) {
            if (!sl.now.p.process) continue;
            while (sl.now.p.process->read_line(0ms)) {}
            sl.now.update();
        }
        std::this_thread::sleep_for(20ms);
    } while (monotonic_ms() < until);
}

void Soak::kill_and_restart(int node) {
    Event e{"kill", node, monotonic_ms(), 0, std::nullopt, {}};
    auto& sl = slot(node);
    sl.now.p.process->signal(SIGKILL);
    sl.now.p.process->wait_exit(5s);
    sl.now.update();
    sl.now.ticks.clear();
    sl.dead.push_back(std::move(sl.now));
    ++sl.kills;
    pump(std::chrono::milliseconds(s_.outage_ms));
    e.heal_ms = monotonic_ms();
    if (!start(node)) {
        std::fprintf(stderr, "soak: node %d did not restart\n", node);
        std::exit(1);
    }
    events_.push_back(e);
}

void Soak::partition(int node) {
    Event e{"partition", node, monotonic_ms(), 0, std::nullopt, {}};
    if (!lan_.set_link(node, 0, false)) std::fprintf(stderr, "soak: %s\n", lan_.error().c_str());
    pump(std::chrono::milliseconds(s_.outage_ms));
    e.heal_ms = monotonic_ms();
    if (!lan_.set_link(node, 0, true)) std::fprintf(stderr, "soak: %s\n", lan_.error().c_str());
    events_.push_back(e);
}

// Recovery of the last event: every other node receives from the node
// again, and it from every other node, after the heal.
void Soak::measure_last_event() {
    if (events_.empty() || events_.back().recovery_ms || !events_.back().missing.empty()) return;
    auto& e = events_.back();
    auto& v = slot(e.node).now;
    v.update();
    double latest = e.heal_ms;
    for (int o = 0; o < s_.nodes; ++o) {
        if (o == e.node) continue;
        auto& other = slot(o).now;
        other.update();
        const Tick* ob = other.at(e.heal_ms);
        const auto o_got = other.first_receipt(v.p.id, ob ? ob->received_from(v.p.id) : 0, e.heal_ms);
        const Tick* vb = v.at(e.heal_ms);
        const auto v_got = v.first_receipt(other.p.id, vb ? vb->received_from(other.p.id) : 0, e.heal_ms);
        if (!o_got) e.missing += " " + std::to_string(o) + "<-" + std::to_string(e.node);
        if (!v_got) e.missing += " " + std::to_string(e.node) + "<-" + std::to_string(o);
        latest = std::max({latest, o_got.value_or(0), v_got.value_or(0)});
    }
    if (e.missing.empty()) e.recovery_ms = latest - e.heal_ms;
    // Measured: older ticks are no longer needed (ten nodes' ticks for ten
    // minutes would take hundreds of MB).
    for (auto& sl : slots_) {
        if (sl.now.ticks.size() > 1) sl.now.ticks.erase(sl.now.ticks.begin(), std::prev(sl.now.ticks.end()));
    }
    std::printf("  %8.1f s  %-9s node %d: %s\n", (e.start_ms - t0_) / 1000, e.kind.c_str(), e.node,
                e.recovery_ms
                    ? ("recovered in " + std::to_string(static_cast<long>(*e.recovery_ms)) + " ms").c_str()
                    : ("NOT recovered:" + e.missing).c_str());
    std::fflush(stdout);
}

void Soak::sample(double t0) {
    Sample row{(monotonic_ms() - t0) / 1000, {}};
    for (auto& sl : slots_) {
        sl.now.update();
        Memory m;
        if (!sl.now.ticks.empty()) {
            const auto& t = sl.now.ticks.back();
            m = {t.rss_kb, t.heap_kb, t.heap_held_kb};
        }
        row.nodes.push_back(m);
    }
    samples_.push_back(std::move(row));
}

std::vector<std::string> Soak::wrap_words() {
    std::vector<std::string> words;
    const char* text = std::getenv("GRAV_SOAK_WRAP");
    std::istringstream in(text ? text : "");
    for (std::string w; in >> w;) words.push_back(w);
    return words;
}

}  // namespace grav::soak

int main(int argc, char** argv) {
    CLI::App app{"grav soak on a namespace LAN (issue 6, point 8)"};
    grav::soak::Settings s;
    app.add_option("--nodes", s.nodes, "nodes (at least 3)")->check(CLI::Range(3, 60));
    app.add_option("--minutes", s.minutes, "duration");
    app.add_option("--rate", s.rate, "messages per second per node");
    app.add_option("--every", s.every_s,
                   "seconds between events (alternately kill+restart and partition+heal)");
    app.add_option("--outage", s.outage_ms, "ms a node stays dead or cut off");
    app.add_option("--heartbeat-timeout", s.heartbeat_ms,
                   "the nodes' heartbeat timeout and beacon expiry, ms");
    app.add_option("--tick", s.tick_ms, "the nodes' TICK period, ms");
    app.add_option("--sample", s.sample_s, "seconds between memory samples");
    app.add_option("--flat-from", s.flat_from_s,
                   "memory growth is reported from this second to the end (default: half the run)");
    app.add_option("--traffic", s.traffic, "path of grav_lan_traffic")->required();
    CLI11_PARSE(app, argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    return grav::soak::Soak(std::move(s)).run();
}
