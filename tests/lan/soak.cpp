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

#include "lan_process.hpp"
#include "namespace_lan.hpp"
#include "traffic_lines.hpp"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using grav::testkit::LanProcess;
using grav::testkit::monotonic_ms;
using grav::testkit::Tick;

struct Settings {
    int nodes = 10;
    double minutes = 10;
    double rate = 50;         // messages per second per node
    double every_s = 20;      // one event (kill or partition) this often
    int outage_ms = 3000;     // how long a node stays dead or cut off
    int heartbeat_ms = 1000;  // the nodes' ZMTP heartbeat timeout
    int tick_ms = 200;        // the nodes' TICK period: the resolution of the recovery times
    double sample_s = 60;     // memory samples this often
    double flat_from_s = -1;  // flatness is judged from here to the end; < 0: half the run
    std::string traffic;      // path of grav_lan_traffic
};

// One incarnation of a node program, with its TICK lines parsed as they come.
struct Incarnation {
    LanProcess p;
    std::size_t parsed = 0;
    std::vector<Tick> ticks;

    void update() {
        if (!p.process) return;  // killed, not restarted yet
        const auto& lines = p.process->lines();
        for (; parsed < lines.size(); ++parsed) {
            if (auto t = grav::testkit::parse_tick(lines[parsed])) ticks.push_back(std::move(*t));
        }
    }
    // The last tick at or before `ms`; nullptr if none.
    [[nodiscard]] const Tick* at(double ms) const {
        const auto it = std::upper_bound(ticks.begin(), ticks.end(), ms,
                                         [](double v, const Tick& t) { return v < t.ms; });
        return it == ticks.begin() ? nullptr : &*std::prev(it);
    }
    // The first tick at or after `ms` in which `origin`'s count exceeds `base`.
    [[nodiscard]] std::optional<double> first_receipt(const std::string& origin, std::uint64_t base,
                                                      double ms) const {
        auto it = std::lower_bound(ticks.begin(), ticks.end(), ms,
                                   [](const Tick& t, double v) { return t.ms < v; });
        for (; it != ticks.end(); ++it) {
            if (it->received_from(origin) > base) return it->ms;
        }
        return std::nullopt;
    }
};

struct Slot {
    Incarnation now;
    std::vector<Incarnation> dead;
    bool killable = false;
    int kills = 0;
};

// Counts summed over many streams (TALLY lines).
struct Loss {
    unsigned long long received = 0;
    unsigned long long gaps = 0;
    unsigned long long tails = 0;  // sent after the last one that arrived
    unsigned long long duplicates = 0;
    unsigned long long reordered = 0;
};

// One node's memory at a sample (0: no tick yet).
struct Memory {
    long rss_kb = 0;
    long heap_kb = 0;       // malloc's bytes in use
    long heap_held_kb = 0;  // malloc's bytes from the system
};

struct Sample {
    double at_s = 0;
    std::vector<Memory> nodes;
};

struct Event {
    std::string kind;  // "kill" or "partition"
    int node = 0;
    double start_ms = 0;
    double heal_ms = 0;  // link back up / restarted
    std::optional<double> recovery_ms;
    std::string missing;  // who had not recovered, when not
};

class Soak {
public:
    explicit Soak(Settings s) : s_(std::move(s)) {}

    int run() {
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

private:
    bool start(int node) {
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

    Slot& slot(int node) { return slots_.at(static_cast<std::size_t>(node)); }

    // Reads every node's output for `d` (their pipes must never fill up).
    void pump(std::chrono::milliseconds d) {
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

    void kill_and_restart(int node) {
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

    void partition(int node) {
        Event e{"partition", node, monotonic_ms(), 0, std::nullopt, {}};
        if (!lan_.set_link(node, 0, false)) std::fprintf(stderr, "soak: %s\n", lan_.error().c_str());
        pump(std::chrono::milliseconds(s_.outage_ms));
        e.heal_ms = monotonic_ms();
        if (!lan_.set_link(node, 0, true)) std::fprintf(stderr, "soak: %s\n", lan_.error().c_str());
        events_.push_back(e);
    }

    // Recovery of the last event: every other node receives from the node
    // again, and it from every other node, after the heal.
    void measure_last_event() {
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
            if (sl.now.ticks.size() > 1)
                sl.now.ticks.erase(sl.now.ticks.begin(), std::prev(sl.now.ticks.end()));
        }
        std::printf(
            "  %8.1f s  %-9s node %d: %s\n", (e.start_ms - t0_) / 1000, e.kind.c_str(), e.node,
            e.recovery_ms
                ? ("recovered in " + std::to_string(static_cast<long>(*e.recovery_ms)) + " ms").c_str()
                : ("NOT recovered:" + e.missing).c_str());
        std::fflush(stdout);
    }

    void sample(double t0) {
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

    int finish(double t0) {
        // Quiesce: nobody sends; wait until every node has every other's last message.
        std::map<int, std::uint64_t> quiet;
        for (int i = 0; i < s_.nodes; ++i) {
            auto& p = *slot(i).now.p.process;
            const auto mark = p.line_count();
            p.signal(SIGUSR1);
            if (const auto q = p.wait_for_prefix("QUIET ", 5s, mark))
                quiet[i] = std::stoull(grav::testkit::split(*q).at(1));
        }
        const double drain_until = monotonic_ms() + 20'000;
        bool drained = false;
        while (!drained && monotonic_ms() < drain_until) {
            pump(200ms);
            drained = true;
            for (int to = 0; to < s_.nodes && drained; ++to) {
                const auto& ticks = slot(to).now.ticks;
                for (int from = 0; from < s_.nodes && drained; ++from) {
                    if (to == from || ticks.empty()) continue;
                    const auto& f = ticks.back().from;
                    const auto it = f.find(slot(from).now.p.id);
                    drained = it != f.end() && it->second.last >= quiet[from];
                }
            }
        }
        std::printf("drain after the last message: %s\n", drained ? "complete" : "INCOMPLETE after 20 s");
        for (auto& sl : slots_) sl.now.p.process->signal(SIGTERM);
        std::map<std::string, unsigned long long> stats;
        Loss final_streams;
        Loss dead_streams;
        std::map<std::string, std::uint64_t> sent_by_id;
        for (int i = 0; i < s_.nodes; ++i) {
            auto& p = *slot(i).now.p.process;
            p.wait_exit(15s);
            p.wait_for([](const std::string&) { return false; },
                       2s);  // everything up to the end of its output
            if (const auto t = p.wait_for_prefix("SENT_TOTAL ", 0ms))
                sent_by_id[slot(i).now.p.id] = std::stoull(grav::testkit::split(*t).at(1));
        }
        for (int i = 0; i < s_.nodes; ++i) {
            for (const auto& l : slot(i).now.p.process->lines()) {
                if (auto t = grav::testkit::parse_tally(l)) {
                    const auto sent = sent_by_id.find(t->first);
                    auto& loss = sent == sent_by_id.end() ? dead_streams : final_streams;
                    loss.received += t->second.received;
                    loss.gaps += t->second.gaps;
                    loss.duplicates += t->second.duplicates;
                    loss.reordered += t->second.reordered;
                    if (sent != sent_by_id.end() && sent->second > t->second.last)
                        loss.tails += sent->second - t->second.last;
                } else if (l.rfind("TRIM ", 0) == 0) {
                    const auto w = grav::testkit::split(l);
                    if (w.size() == 4) {
                        trims_ += std::stoull(w[1]);
                        trim_total_ms_ += std::stod(w[2]);
                        trim_max_ms_ = std::max(trim_max_ms_, std::stod(w[3]));
                    }
                } else if (l.rfind("STAT ", 0) == 0) {
                    const auto w = grav::testkit::split(l);
                    if (w.size() == 3) stats[w[1]] += std::stoull(w[2]);
                }
            }
        }
        report(t0, final_streams, dead_streams, stats);
        return 0;
    }

    void report(double t0, const Loss& final_streams, const Loss& dead_streams,
                const std::map<std::string, unsigned long long>& stats) {
        std::printf("\n== soak report (%.1f s) ==\n", (monotonic_ms() - t0) / 1000);
        print_memory("RSS", &Memory::rss_kb);
        print_memory("malloc in use (mallinfo2 uordblks+hblkhd)", &Memory::heap_kb);
        print_memory("malloc held from the system (mallinfo2 arena+hblkhd)", &Memory::heap_held_kb);
        // Flatness over the never-killed nodes: from the first sample at or
        // after --flat-from (default: half the run) to the last one.
        const double from_s = s_.flat_from_s >= 0 ? s_.flat_from_s : s_.minutes * 30;
        const auto base = std::find_if(samples_.begin(), samples_.end(),
                                       [from_s](const Sample& x) { return x.at_s >= from_s - 1; });
        if (base != samples_.end()) {
            std::printf(
                "growth of the never-killed nodes 0-%d from t=%.0f s to t=%.0f s (at most, per node):\n",
                s_.nodes / 2 - 1, base->at_s, samples_.back().at_s);
            print_growth("RSS", base, &Memory::rss_kb);
            print_growth("malloc in use", base, &Memory::heap_kb);
            print_growth("malloc held", base, &Memory::heap_held_kb);
        }
        if (trims_ > 0) {
            std::printf("malloc_trim(0) in the final nodes: %llu calls, mean %.3f ms, max %.3f ms\n", trims_,
                        trim_total_ms_ / static_cast<double>(trims_), trim_max_ms_);
        }
        std::printf(
            "streams between the final nodes: %llu received, %llu lost in gaps, %llu never arrived at the "
            "end, %llu duplicates, %llu reordered\n",
            final_streams.received, final_streams.gaps, final_streams.tails, final_streams.duplicates,
            final_streams.reordered);
        std::printf(
            "streams of killed incarnations, as received: %llu received, %llu lost in gaps, %llu duplicates, "
            "%llu reordered\n",
            dead_streams.received, dead_streams.gaps, dead_streams.duplicates, dead_streams.reordered);
        int kills = 0;
        int cuts = 0;
        std::optional<double> slowest;
        const Event* slowest_event = nullptr;
        int unrecovered = 0;
        for (const auto& e : events_) {
            (e.kind == "kill" ? kills : cuts)++;
            if (!e.recovery_ms) {
                ++unrecovered;
            } else if (!slowest || *e.recovery_ms > *slowest) {
                slowest = e.recovery_ms;
                slowest_event = &e;
            }
        }
        std::printf("events: %d kill+restart, %d partition+heal; %d not recovered by the next event\n", kills,
                    cuts, unrecovered);
        if (slowest_event) {
            std::printf("slowest recovery: %.0f ms (%s of node %d; resolution %d ms)\n", *slowest,
                        slowest_event->kind.c_str(), slowest_event->node, s_.tick_ms);
        }
        std::printf("transport and discovery counters, summed over the final nodes:\n");
        for (const auto& [name, value] : stats) std::printf("  %s %llu\n", name.c_str(), value);
    }

    void print_memory(const char* what, long Memory::*field) const {
        std::printf(
            "%s (kB) of every node, sampled (nodes %d-%d are killed and restarted in turn):\n  time s", what,
            s_.nodes / 2, s_.nodes - 1);
        for (int i = 0; i < s_.nodes; ++i) std::printf(" %8d", i);
        std::printf("\n");
        for (const auto& x : samples_) {
            std::printf("  %6.0f", x.at_s);
            for (const auto& m : x.nodes) std::printf(" %8ld", m.*field);
            std::printf("\n");
        }
    }

    // From the sample `from` (the first of the judged half) to the last one.
    void print_growth(const char* what, std::vector<Sample>::const_iterator from, long Memory::*field) const {
        const Sample& base = *from;
        double worst = 0;
        long worst_kb = 0;
        for (int i = 0; i < s_.nodes / 2; ++i) {
            const auto a = base.nodes[static_cast<std::size_t>(i)].*field;
            const auto b = samples_.back().nodes[static_cast<std::size_t>(i)].*field;
            if (a > 0 && static_cast<double>(b - a) / static_cast<double>(a) * 100 >= worst) {
                worst = static_cast<double>(b - a) / static_cast<double>(a) * 100;
                worst_kb = b - a;
            }
        }
        // Two samples tell growth from noise poorly (a node's RSS moves by a
        // few hundred kB between samples): the least-squares slope of every
        // sample from `base` on says whether it climbs.
        std::string trends;
        const auto n = static_cast<double>(samples_.end() - from);
        for (int i = 0; i < s_.nodes / 2 && n >= 3; ++i) {
            double mx = 0, my = 0;
            for (auto it = from; it != samples_.end(); ++it) {
                mx += it->at_s / 60;
                my += static_cast<double>(it->nodes[static_cast<std::size_t>(i)].*field);
            }
            mx /= n;
            my /= n;
            double sxy = 0, sxx = 0;
            for (auto it = from; it != samples_.end(); ++it) {
                const double dx = it->at_s / 60 - mx;
                sxy += dx * (static_cast<double>(it->nodes[static_cast<std::size_t>(i)].*field) - my);
                sxx += dx * dx;
            }
            char one[32];
            std::snprintf(one, sizeof one, " %+.1f", sxx > 0 ? sxy / sxx : 0.0);
            trends += one;
        }
        std::printf("  %-14s %+.1f %% (%+ld kB)%s%s\n", what, worst, worst_kb,
                    trends.empty() ? "" : "; trend per node, kB a minute:", trends.c_str());
    }

    static std::vector<std::string> wrap_words() {
        std::vector<std::string> words;
        const char* text = std::getenv("GRAV_SOAK_WRAP");
        std::istringstream in(text ? text : "");
        for (std::string w; in >> w;) words.push_back(w);
        return words;
    }

    Settings s_;
    double t0_ = 0;
    grav::testkit::NamespaceLan lan_;
    std::vector<Slot> slots_;
    std::vector<Event> events_;
    std::vector<Sample> samples_;
    unsigned long long trims_ = 0;  // the final nodes' TRIM lines
    double trim_total_ms_ = 0;
    double trim_max_ms_ = 0;
    std::vector<std::string> wrap_ = wrap_words();
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"grav soak on a namespace LAN (issue 6, point 8)"};
    Settings s;
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
    return Soak(std::move(s)).run();
}
