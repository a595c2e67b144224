#pragma once
// zmq_bench's shared parts: the tools every figure uses (output, clocks, this
// process's CPU and memory, a child process of this binary, TransportEvents
// that wait for their peer), the child processes' roles, one function per figure.

#include <grav/grav.hpp>
#include <grav/zmq.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace zmq_bench {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// This binary (argv[0]): the parent re-executes it for the second process.
extern std::string self_exe;

void say(const std::string& line);
double seconds_since(Clock::time_point t0);

// VmRSS (all resident pages, shared libraries included) or RssAnon (the
// process's own heap and stacks) from /proc/self/status, in kB; or a field
// of /proc/self/smaps_rollup (Private_*: pages no other process shares).
long status_kb(const std::string& wanted, const char* file = "/proc/self/status");

// CPU time (user + system) of this process, all its threads, in ms.
double process_cpu_ms();

// CPU time of each thread of this process so far, in ns, by thread id, with
// the thread's name (/proc/self/task/<tid>/schedstat: time on a CPU).
struct ThreadCpu {
    std::string name;
    double ns = 0;
};
std::map<std::string, ThreadCpu> thread_cpu();

// Per message, what each thread that lived through [before, after] spent.
std::string thread_cpu_per_message(const std::map<std::string, ThreadCpu>& before,
                                   const std::map<std::string, ThreadCpu>& after, long count);

// CPU time this process used per second of wall time, over `period` of
// doing nothing: the cost of an idle node's timers and heartbeats.
double idle_cpu_ms_per_s(std::chrono::milliseconds period);

// "VmRSS RssAnon Private" in kB, then CPU in ms/s: what the idle roles report.
std::string memory_line();

// A child process of this same binary whose stdout we read line by line.
class Child {
public:
    explicit Child(const std::string& args) {
        pipe_ = ::popen((self_exe + " " + args).c_str(), "r");
        if (!pipe_) std::abort();
    }
    ~Child() {
        if (pipe_) ::pclose(pipe_);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    // The next line starting with `prefix`, without it.
    std::string expect(const std::string& prefix) {
        char buffer[4096];
        while (std::fgets(buffer, sizeof buffer, pipe_)) {
            std::string line(buffer);
            if (!line.empty() && line.back() == '\n') line.pop_back();
            if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
        }
        std::fprintf(stderr, "child ended before '%s'\n", prefix.c_str());
        std::exit(1);
    }

private:
    FILE* pipe_ = nullptr;
};

// The transport's events for the benchmark: the peer that joined (wait_joined()
// waits for it), every message handed to on_msg.
class Events : public grav::TransportEvents {
public:
    std::function<void(const grav::NodeId&, grav::MessagePtr)> on_msg;
    grav::Status admit(const grav::PeerInfo&) override { return grav::success(); }
    void on_peer_joined(const grav::PeerInfo& p) override {
        std::lock_guard lock(mutex);
        peer = p.id;
        joined = true;
        cv.notify_all();
    }
    void on_peer_left(const grav::NodeId&, grav::LeaveReason, std::string_view) override {}
    void on_peer_refused(std::string_view, std::string_view reason) override {
        std::fprintf(stderr, "refused: %.*s\n", static_cast<int>(reason.size()), reason.data());
    }
    void on_message(const grav::NodeId& from, grav::MessagePtr m) override { on_msg(from, std::move(m)); }
    void wait_joined() {
        std::unique_lock lock(mutex);
        if (!cv.wait_for(lock, 10s, [&] { return joined; })) {
            std::fprintf(stderr, "no peer joined\n");
            std::exit(1);
        }
    }
    std::mutex mutex;
    std::condition_variable cv;
    bool joined = false;
    grav::NodeId peer;
};

grav::LocalNode local(const std::string& name);

double median(std::vector<double> v);

// "  (grav / raw run by run: 0.91 1.20 0.66)": how much the single runs
// spread, which a median hides (raw libzmq's own rate swings widely from run
// to run on a shared VM; see docs/BENCHMARKS.md, ZeroMQ transport).
void print_run_ratios(const std::vector<double>& grav, const std::vector<double>& raw);

// The second process's roles (main runs them by name): fan-out throughput
// (zmq_bench_throughput.cpp), round trip (zmq_bench_round_trip.cpp), idle
// memory and CPU (zmq_bench_idle.cpp).
int raw_sub(const std::string& endpoint, long count);
int grav_sub(const std::string& endpoint, long count);
int raw_echo();
int grav_echo();
int bus_echo();
int raw_idle(const std::string& router_ep, const std::string& xpub_ep);
int grav_idle(const std::string& endpoint);

// The figures, each measured and printed as rows of the report.
void throughput_figure(std::size_t size, long count, int runs);
void round_trip_figures(long rtt_count, int runs);
void idle_figures();

}  // namespace zmq_bench
