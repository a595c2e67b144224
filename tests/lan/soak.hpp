#pragma once
// grav_lan_soak's parts: the settings, a node's incarnations and what is
// measured of them, and the Soak that runs (soak.cpp) and reports (soak_report.cpp).

#include "lan_process.hpp"
#include "namespace_lan.hpp"
#include "traffic_lines.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace grav::soak {

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

    int run();

private:
    // The run (soak.cpp).
    bool start(int node);
    Slot& slot(int node) { return slots_.at(static_cast<std::size_t>(node)); }
    void pump(std::chrono::milliseconds d);
    void kill_and_restart(int node);
    void partition(int node);
    void measure_last_event();
    void sample(double t0);
    static std::vector<std::string> wrap_words();

    // The end of the run and its report (soak_report.cpp).
    int finish(double t0);
    void report(double t0, const Loss& final_streams, const Loss& dead_streams,
                const std::map<std::string, unsigned long long>& stats);
    void print_memory(const char* what, long Memory::*field) const;
    void print_growth(const char* what, std::vector<Sample>::const_iterator from, long Memory::*field) const;

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

}  // namespace grav::soak
