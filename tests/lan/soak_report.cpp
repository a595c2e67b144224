// grav_lan_soak's end: the nodes quiesce and drain, their tallies and counters
// are summed, and the report prints memory over time, losses and recoveries.
#include "soak.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grav::soak {

using namespace std::chrono_literals;

int Soak::finish(double t0) {
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

void Soak::report(double t0, const Loss& final_streams, const Loss& dead_streams,
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
        std::printf("growth of the never-killed nodes 0-%d from t=%.0f s to t=%.0f s (at most, per node):\n",
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

void Soak::print_memory(const char* what, long Memory::*field) const {
    std::printf("%s (kB) of every node, sampled (nodes %d-%d are killed and restarted in turn):\n  time s",
                what, s_.nodes / 2, s_.nodes - 1);
    for (int i = 0; i < s_.nodes; ++i) std::printf(" %8d", i);
    std::printf("\n");
    for (const auto& x : samples_) {
        std::printf("  %6.0f", x.at_s);
        for (const auto& m : x.nodes) std::printf(" %8ld", m.*field);
        std::printf("\n");
    }
}

// From the sample `from` (the first of the judged half) to the last one.
void Soak::print_growth(const char* what, std::vector<Sample>::const_iterator from,
                        long Memory::*field) const {
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

}  // namespace grav::soak
