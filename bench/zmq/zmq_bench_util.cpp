// zmq_bench's tools (declared and described in zmq_bench.hpp): output, clocks,
// CPU and memory of this process from /proc, medians and run-by-run ratios.
#include "zmq_bench.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace zmq_bench {

std::string self_exe;

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

long status_kb(const std::string& wanted, const char* file) {
    std::ifstream in(file);
    std::string key;
    while (in >> key) {
        if (key == wanted) {
            long kb = 0;
            in >> kb;
            return kb;
        }
        std::getline(in, key);
    }
    return -1;
}

double process_cpu_ms() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

std::map<std::string, ThreadCpu> thread_cpu() {
    std::map<std::string, ThreadCpu> threads;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream comm(task.path() / "comm"), sched(task.path() / "schedstat");
        ThreadCpu t;
        if (!std::getline(comm, t.name) || !(sched >> t.ns)) continue;
        threads[task.path().filename().string()] = t;
    }
    return threads;
}

std::string thread_cpu_per_message(const std::map<std::string, ThreadCpu>& before,
                                   const std::map<std::string, ThreadCpu>& after, long count) {
    std::string out;
    for (const auto& [tid, t] : after) {
        auto it = before.find(tid);
        if (it == before.end() || t.name.starts_with("ZMQbg/Reaper")) continue;
        char part[96];
        std::snprintf(part, sizeof part, "%s%s %.0f", out.empty() ? "" : ", ", t.name.c_str(),
                      (t.ns - it->second.ns) / static_cast<double>(count));
        out += part;
    }
    return out;
}

double idle_cpu_ms_per_s(std::chrono::milliseconds period) {
    const double before = process_cpu_ms();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(period);
    return (process_cpu_ms() - before) / seconds_since(t0);
}

std::string memory_line() {
    const long priv = status_kb("Private_Clean:", "/proc/self/smaps_rollup") +
                      status_kb("Private_Dirty:", "/proc/self/smaps_rollup");
    const long rss = status_kb("VmRSS:");
    const long anon = status_kb("RssAnon:");
    const double cpu = idle_cpu_ms_per_s(3s);
    return std::to_string(rss) + " " + std::to_string(anon) + " " + std::to_string(priv) + " " +
           std::to_string(cpu);
}

grav::LocalNode local(const std::string& name) {
    grav::LocalNode n;
    n.id = grav::NodeId::random();
    n.name = name;
    return n;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

void print_run_ratios(const std::vector<double>& grav, const std::vector<double>& raw) {
    if (grav.size() < 2) return;
    std::string line = "  (grav / raw run by run:";
    for (std::size_t i = 0; i < grav.size() && i < raw.size(); ++i) {
        char part[16];
        std::snprintf(part, sizeof part, " %.2f", grav[i] / raw[i]);
        line += part;
    }
    std::printf("%s)\n", line.c_str());
}

}  // namespace zmq_bench
