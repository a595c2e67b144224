// grav's ZeroMQ transport against raw libzmq, two processes over TCP on
// 127.0.0.1, both measured in the same run (results: docs/BENCHMARKS.md,
// ZeroMQ transport).
//
//   zmq_bench [--count N] [--rtt-count N] [--runs R] [--only FIGURE]
//   FIGURE: throughput64, throughput1024, rtt or idle (for profiling one part)
//
// Figures:
//   fan-out throughput, 64 B and 1 KiB payloads
//     raw:  PUB -> SUB, high-water marks unlimited so nothing drops
//     grav: Transport::publish -> peer's TransportEvents::on_message
//   request/reply round trip, 64 B, p50 and p99
//     raw:  DEALER -> ROUTER (echo) -> DEALER
//     grav: Transport::send_to -> peer echoes with send_to -> on_message;
//           the caller waits on a condition variable of its own, which
//           on_message (on the transport's thread) signals
//     grav, serving: the same, the caller runs the transport's loop while
//           it waits (Transport::serve_until, as Receipt::wait_until does),
//           so the reply is read on the waiting thread
//     grav, reactive: the same, each next request sent from on_message
//           (no thread waits: no hand-over of the reply between threads)
//     bus:  Pod::send + Receipt::wait_until, the remote pod replies (whole stack)
//   resident memory (VmRSS) of an idle node with one peer, and its CPU use
//     raw:  a process with a ROUTER, an XPUB, a DEALER and a SUB connected
//     grav: a process with a Bus + transport joined to one peer
// The parent re-executes itself for the second process (roles below).
// Raw and grav alternate: throughput run by run, round trips in blocks of
// 100 (all three echo peers stay up for the whole run), so that both see
// the same machine load.
#include "bench_message.hpp"

#include <grav/grav.hpp>
#include <grav/zmq.hpp>

#include <zmq.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string self_exe;

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// VmRSS (all resident pages, shared libraries included) or RssAnon (the
// process's own heap and stacks) from /proc/self/status, in kB; or a field
// of /proc/self/smaps_rollup (Private_*: pages no other process shares).
long status_kb(const std::string& wanted, const char* file = "/proc/self/status") {
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

// CPU time (user + system) of this process, all its threads, in ms.
double process_cpu_ms() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

// CPU time of each thread of this process so far, in ns, by thread id, with
// the thread's name (/proc/self/task/<tid>/schedstat: time on a CPU).
struct ThreadCpu {
    std::string name;
    double ns = 0;
};
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

// Per message, what each thread that lived through [before, after] spent.
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

// CPU time this process used per second of wall time, over `period` of
// doing nothing: the cost of an idle node's timers and heartbeats.
double idle_cpu_ms_per_s(std::chrono::milliseconds period) {
    const double before = process_cpu_ms();
    const auto t0 = Clock::now();
    std::this_thread::sleep_for(period);
    return (process_cpu_ms() - before) / seconds_since(t0);
}

// "VmRSS RssAnon Private" in kB, then CPU in ms/s: what the idle roles report.
std::string memory_line() {
    const long priv = status_kb("Private_Clean:", "/proc/self/smaps_rollup") +
                      status_kb("Private_Dirty:", "/proc/self/smaps_rollup");
    const long rss = status_kb("VmRSS:");
    const long anon = status_kb("RssAnon:");
    const double cpu = idle_cpu_ms_per_s(3s);
    return std::to_string(rss) + " " + std::to_string(anon) + " " + std::to_string(priv) + " " +
           std::to_string(cpu);
}

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

// ------------------------------------------------------------ grav events

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

grav::LocalNode local(const std::string& name) {
    grav::LocalNode n;
    n.id = grav::NodeId::random();
    n.name = name;
    return n;
}

// ------------------------------------------------------------ throughput

// Child: receives `count` messages, prints the rate first -> last.
int raw_sub(const std::string& endpoint, long count) {
    ::zmq::context_t ctx;
    ::zmq::socket_t sub(ctx, ::zmq::socket_type::sub);
    sub.set(::zmq::sockopt::rcvhwm, 0);
    sub.set(::zmq::sockopt::rcvtimeo, 30000);  // never hang the benchmark
    sub.set(::zmq::sockopt::subscribe, "");
    sub.connect(endpoint);
    // Slow joiner: the publisher sends probes until we have one.
    ::zmq::message_t m;
    while (true) {
        (void)sub.recv(m);
        if (m.size() == 1) break;
    }
    say("ready");
    (void)sub.recv(m);  // first real message
    while (m.size() == 1) (void)sub.recv(m);
    const auto t0 = Clock::now();
    const double cpu0 = process_cpu_ms();
    for (long i = 1; i < count; ++i) {
        if (!sub.recv(m)) {
            say("rate 0 0");
            return 1;
        }
    }
    say("rate " + std::to_string((count - 1) / seconds_since(t0)) + " " +
        std::to_string((process_cpu_ms() - cpu0) * 1e6 / static_cast<double>(count - 1)));
    return 0;
}

// What a throughput run measured: the receiver's rate, and the CPU time per
// message of each process (all its threads: libzmq's I/O thread, grav's
// transport thread), which on 2 vCPUs bounds the rate once both are busy.
struct Throughput {
    double rate = 0;
    double pub_ns = 0;  // publisher, from its first publish to the receiver's report
    double sub_ns = 0;  // receiver, from its first message to its last
};

Throughput read_rate(Child& child, double pub_cpu0, long count) {
    std::istringstream in(child.expect("rate "));
    Throughput t;
    in >> t.rate >> t.sub_ns;
    t.pub_ns = (process_cpu_ms() - pub_cpu0) * 1e6 / static_cast<double>(count);
    return t;
}

Throughput raw_throughput(std::size_t size, long count) {
    ::zmq::context_t ctx;
    ::zmq::socket_t pub(ctx, ::zmq::socket_type::pub);
    pub.set(::zmq::sockopt::sndhwm, 0);
    pub.bind("tcp://127.0.0.1:0");
    Child child("raw-sub " + pub.get(::zmq::sockopt::last_endpoint) + " " + std::to_string(count));
    std::atomic<bool> ready{false};
    std::thread probe([&] {
        while (!ready) {
            pub.send(::zmq::message_t("p", 1), ::zmq::send_flags::none);
            std::this_thread::sleep_for(1ms);
        }
    });
    child.expect("ready");
    ready = true;
    probe.join();
    const std::string payload(size, 'x');
    const double cpu0 = process_cpu_ms();
    for (long i = 0; i < count; ++i)
        pub.send(::zmq::message_t(payload.data(), payload.size()), ::zmq::send_flags::none);
    return read_rate(child, cpu0, count);
}

int grav_sub(const std::string& endpoint, long count) {
    Events events;
    std::atomic<long> received{0};
    Clock::time_point t0;
    std::mutex m;
    std::condition_variable cv;
    double cpu0 = 0;
    events.on_msg = [&](const grav::NodeId&, grav::MessagePtr) {
        const long n = ++received;
        if (n == 1) {
            t0 = Clock::now();
            cpu0 = process_cpu_ms();
        }
        if (n == count) {
            std::lock_guard lock(m);
            cv.notify_all();
        }
    };
    auto t = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    if (!t->start(local("sub"), events).ok()) return 1;
    if (!t->connect(endpoint).ok()) return 1;
    events.wait_joined();
    say("ready");
    std::unique_lock lock(m);
    // Bounded: a run that loses its link (e.g. cut by heartbeats on a
    // starved machine) reports what it got instead of hanging.
    if (!cv.wait_for(lock, 120s, [&] { return received.load() == count; })) {
        std::fprintf(stderr, "grav subscriber: only %ld of %ld messages within 120 s\n", received.load(),
                     count);
        say("rate 0 0");
        return 1;
    }
    say("rate " + std::to_string((count - 1) / seconds_since(t0)) + " " +
        std::to_string((process_cpu_ms() - cpu0) * 1e6 / static_cast<double>(count - 1)));
    t->stop();
    return 0;
}

// Messages per ZeroMQ message (data frame) in the last grav throughput run.
double last_mean_batch = 0;
// CPU per message of each thread of the publishing process in that run.
std::string last_publisher_threads;
// Where the last grav throughput run waited: publish() calls that found the
// transport's queue full, and times the XPUB's high-water mark held a batch.
std::uint64_t last_publish_blocked = 0, last_backpressure = 0;

Throughput grav_throughput(std::size_t size, long count) {
    Events events;
    auto t = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    const auto self = local("pub");
    if (!t->start(self, events).ok()) std::exit(1);
    Child child("grav-sub " + t->endpoint() + " " + std::to_string(count));
    child.expect("ready");
    events.wait_joined();
    const std::string payload(size, 'x');
    const auto threads0 = thread_cpu();
    const double cpu0 = process_cpu_ms();
    for (long i = 0; i < count; ++i) t->publish(grav::bench::message(self.id, payload));
    const Throughput result = read_rate(child, cpu0, count);
    last_publisher_threads = thread_cpu_per_message(threads0, thread_cpu(), count);
    const auto stats = t->stats();
    last_publish_blocked = stats.at("zmq.publish_blocked");
    last_backpressure = stats.at("zmq.backpressure");
    last_mean_batch = static_cast<double>(stats.at("zmq.published")) /
                      static_cast<double>(std::max<std::uint64_t>(stats.at("zmq.batches_sent"), 1));
    t->stop();
    return result;
}

// ------------------------------------------------------------ round trip

struct Percentiles {
    double p50_us;
    double p99_us;
};

Percentiles percentiles(std::vector<double> us) {
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us[us.size() * 99 / 100]};
}

int raw_echo() {
    ::zmq::context_t ctx;
    ::zmq::socket_t router(ctx, ::zmq::socket_type::router);
    router.bind("tcp://127.0.0.1:0");
    say("endpoint " + router.get(::zmq::sockopt::last_endpoint));
    while (true) {
        ::zmq::message_t id, body;
        (void)router.recv(id);
        (void)router.recv(body);
        if (body.size() == 0) return 0;
        router.send(id, ::zmq::send_flags::sndmore);
        router.send(body, ::zmq::send_flags::none);
    }
}

// Each pinger is set up once and then asked for blocks of round trips, so
// that raw, transport and Bus samples interleave in time: on a shared
// machine whose load drifts from second to second, the three see the same
// conditions and their ratio means something.
class RawPinger {
public:
    RawPinger() : child_("raw-echo"), dealer_(ctx_, ::zmq::socket_type::dealer) {
        dealer_.set(::zmq::sockopt::linger, 0);
        dealer_.connect(child_.expect("endpoint "));
    }
    ~RawPinger() { dealer_.send(::zmq::message_t(), ::zmq::send_flags::none); }
    RawPinger(const RawPinger&) = delete;
    RawPinger& operator=(const RawPinger&) = delete;
    void ping(long count, std::vector<double>* us) {
        ::zmq::message_t reply;
        for (long i = 0; i < count; ++i) {
            const auto t0 = Clock::now();
            dealer_.send(::zmq::message_t(payload_.data(), payload_.size()), ::zmq::send_flags::none);
            (void)dealer_.recv(reply);
            if (us) us->push_back(seconds_since(t0) * 1e6);
        }
    }

private:
    Child child_;
    ::zmq::context_t ctx_;
    ::zmq::socket_t dealer_;
    const std::string payload_ = std::string(64, 'x');
};

int grav_echo() {
    Events events;
    std::unique_ptr<grav::Transport> t = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    grav::Transport* tp = t.get();
    std::atomic<bool> done{false};
    events.on_msg = [&](const grav::NodeId& from, grav::MessagePtr m) {
        if (m->payload_size() == 0) done = true;
        tp->send_to(from, std::move(m), nullptr);
    };
    if (!t->start(local("echo"), events).ok()) return 1;
    say("endpoint " + t->endpoint());
    while (!done) std::this_thread::sleep_for(10ms);
    t->stop();
    return 0;
}

class GravPinger {
public:
    GravPinger() : child_("grav-echo") {
        const std::string endpoint = child_.expect("endpoint ");
        events_.on_msg = [this](const grav::NodeId&, grav::MessagePtr) {
            if (reactive_left_ > 0) {
                on_reply_reactive();
                return;
            }
            std::lock_guard lock(mutex_);
            got_ = true;
            cv_.notify_one();
        };
        if (!transport_->start(self_, events_).ok()) std::exit(1);
        (void)transport_->connect(endpoint);
        events_.wait_joined();
        peer_ = events_.peer;
    }
    ~GravPinger() {
        transport_->send_to(peer_, grav::bench::message(self_.id, ""), nullptr);
        std::this_thread::sleep_for(100ms);
        transport_->stop();
    }
    GravPinger(const GravPinger&) = delete;
    GravPinger& operator=(const GravPinger&) = delete;
    // Of the requests ping() sent so far, how many went out on the caller's
    // thread (ping_reactive's are sent on the transport's own thread).
    [[nodiscard]] double inline_share() const {
        const auto s = transport_->stats();
        const auto blocking = s.at("zmq.direct_sent") - static_cast<std::uint64_t>(reactive_sent_);
        return static_cast<double>(s.at("zmq.sent_inline")) /
               static_cast<double>(std::max<std::uint64_t>(blocking, 1));
    }
    // `serve`: the caller runs the transport's loop while it waits
    // (Transport::serve_until), as a Receipt wait does.
    [[nodiscard]] double serve_wake_share() const {
        const auto s = transport_->stats();
        return static_cast<double>(s.at("zmq.served_wakeups")) /
               static_cast<double>(std::max<std::uint64_t>(s.at("zmq.served_waits"), 1));
    }
    void ping(long count, std::vector<double>* us, bool serve = false) {
        for (long i = 0; i < count; ++i) {
            const auto t0 = Clock::now();
            transport_->send_to(peer_, grav::bench::message(self_.id, payload_), nullptr);
            if (serve) {
                (void)transport_->serve_until(
                    [this] {
                        std::lock_guard lock(mutex_);
                        return got_;
                    },
                    Clock::now() + 5s);
            }
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] { return got_; });
            got_ = false;
            if (us) us->push_back(seconds_since(t0) * 1e6);
        }
    }
    // The same round trips, each next request sent from on_message, on the
    // transport's thread: how a program that reacts to replies (instead of
    // blocking a thread on each) uses the transport. No hand-over of the
    // reply to a waiting thread.
    void ping_reactive(long count, std::vector<double>* us) {
        if (count <= 0) return;
        {
            std::lock_guard lock(mutex_);
            reactive_us_ = us;
            got_ = false;
        }
        reactive_left_ = count;
        reactive_sent_ += count;
        reactive_t0_ = Clock::now();
        transport_->send_to(peer_, grav::bench::message(self_.id, payload_), nullptr);
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return got_; });
        got_ = false;
    }

private:
    void on_reply_reactive() {
        const auto now = Clock::now();
        if (reactive_us_)
            reactive_us_->push_back(std::chrono::duration<double, std::micro>(now - reactive_t0_).count());
        if (--reactive_left_ > 0) {
            reactive_t0_ = Clock::now();
            transport_->send_to(peer_, grav::bench::message(self_.id, payload_), nullptr);
            return;
        }
        std::lock_guard lock(mutex_);
        got_ = true;
        cv_.notify_one();
    }

    Child child_;
    Events events_;
    std::unique_ptr<grav::Transport> transport_ = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    const grav::LocalNode self_ = local("ping");
    grav::NodeId peer_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool got_ = false;
    // ping_reactive: written by the caller before the first request and by
    // the transport's thread after; the request/reply chain orders them.
    std::atomic<long> reactive_left_{0};
    Clock::time_point reactive_t0_;
    std::vector<double>* reactive_us_ = nullptr;
    long reactive_sent_ = 0;
    const std::string payload_ = std::string(64, 'x');
};

int bus_echo() {
    grav::BusOptions o;
    o.transport = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    grav::Bus bus(std::move(o));
    grav::Pod pod = bus.connect();
    grav::Pod* self = &pod;
    std::atomic<bool> done{false};
    pod.on([&, self](const grav::Message& m) {
        if (m.payload_size() == 0) done = true;
        self->reply_to(m, grav::Message("bench.reply", m.payload_view()));
    });
    say("endpoint " + bus.endpoint());
    while (!done) std::this_thread::sleep_for(10ms);
    return 0;
}

class BusPinger {
public:
    BusPinger() : child_("bus-echo"), bus_(options()), pod_(bus_.connect()) {
        (void)bus_.connect_endpoint(child_.expect("endpoint "));
        const auto deadline = Clock::now() + 10s;
        while (bus_.peers().empty() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    }
    ~BusPinger() {
        (void)pod_.send(grav::Message("bench.request", ""));
        std::this_thread::sleep_for(100ms);
    }
    BusPinger(const BusPinger&) = delete;
    BusPinger& operator=(const BusPinger&) = delete;
    void ping(long count, std::vector<double>* us) {
        for (long i = 0; i < count; ++i) {
            const auto t0 = Clock::now();
            auto reply = pod_.send(grav::Message("bench.request", payload_)).wait_until(5s);
            if (!reply.ok()) {
                std::fprintf(stderr, "bus round trip failed: %s\n", reply.error().what().c_str());
                std::exit(1);
            }
            if (us) us->push_back(seconds_since(t0) * 1e6);
        }
    }

private:
    static grav::BusOptions options() {
        grav::BusOptions o;
        o.transport = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
        return o;
    }
    Child child_;
    grav::Bus bus_;
    grav::Pod pod_;
    const std::string payload_ = std::string(64, 'x');
};

// ------------------------------------------------------------ idle memory

int raw_idle(const std::string& router_ep, const std::string& xpub_ep) {
    ::zmq::context_t ctx;
    ::zmq::socket_t router(ctx, ::zmq::socket_type::router), xpub(ctx, ::zmq::socket_type::xpub);
    ::zmq::socket_t dealer(ctx, ::zmq::socket_type::dealer), sub(ctx, ::zmq::socket_type::sub);
    router.bind("tcp://127.0.0.1:0");
    xpub.bind("tcp://127.0.0.1:0");
    dealer.connect(router_ep);
    sub.connect(xpub_ep);
    sub.set(::zmq::sockopt::subscribe, "");
    dealer.send(::zmq::str_buffer("hi"), ::zmq::send_flags::none);
    std::this_thread::sleep_for(1s);
    say("rss " + memory_line());
    for (auto* s : {&router, &xpub, &dealer, &sub}) s->set(::zmq::sockopt::linger, 0);
    return 0;
}

int grav_idle(const std::string& endpoint) {
    grav::BusOptions o;
    o.transport = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    grav::Bus bus(std::move(o));
    (void)bus.connect_endpoint(endpoint);
    const auto deadline = Clock::now() + 10s;
    while (bus.peers().empty() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    if (bus.peers().empty()) return 1;
    std::this_thread::sleep_for(1s);
    say("rss " + memory_line());
    return 0;
}

struct Rss {
    long total_kb;
    long anon_kb;
    long private_kb;
    double cpu_ms_per_s;
};

Rss parse_rss(const std::string& line) {
    std::istringstream in(line);
    Rss rss{};
    in >> rss.total_kb >> rss.anon_kb >> rss.private_kb >> rss.cpu_ms_per_s;
    return rss;
}

std::pair<Rss, Rss> idle_rss() {
    ::zmq::context_t ctx;
    ::zmq::socket_t router(ctx, ::zmq::socket_type::router), xpub(ctx, ::zmq::socket_type::xpub);
    router.set(::zmq::sockopt::linger, 0);
    xpub.set(::zmq::sockopt::linger, 0);
    router.bind("tcp://127.0.0.1:0");
    xpub.bind("tcp://127.0.0.1:0");
    Child raw("raw-idle " + router.get(::zmq::sockopt::last_endpoint) + " " +
              xpub.get(::zmq::sockopt::last_endpoint));
    const Rss raw_kb = parse_rss(raw.expect("rss "));

    grav::BusOptions o;
    o.transport = grav::zmq::transport({.bind = "tcp://127.0.0.1:0"});
    grav::Bus peer(std::move(o));
    Child node("grav-idle " + peer.endpoint());
    const Rss grav_kb = parse_rss(node.expect("rss "));
    return {raw_kb, grav_kb};
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// "  (grav / raw run by run: 0.91 1.20 0.66)": how much the single runs
// spread, which a median hides (raw libzmq's own rate swings widely from run
// to run on a shared VM; see docs/BENCHMARKS.md, ZeroMQ transport).
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

}  // namespace

int main(int argc, char** argv) {
    self_exe = argv[0];
    std::vector<std::string> args(argv + 1, argv + argc);
    auto arg = [&](std::size_t i) { return i < args.size() ? args[i] : std::string(); };
    const std::string role = arg(0);
    if (role == "raw-sub") return raw_sub(arg(1), std::stol(arg(2)));
    if (role == "grav-sub") return grav_sub(arg(1), std::stol(arg(2)));
    if (role == "raw-echo") return raw_echo();
    if (role == "grav-echo") return grav_echo();
    if (role == "bus-echo") return bus_echo();
    if (role == "raw-idle") return raw_idle(arg(1), arg(2));
    if (role == "grav-idle") return grav_idle(arg(1));

    long count = 1000000, rtt_count = 20000;
    int runs = 3;
    std::string only;
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--count")
            count = std::stol(args[i + 1]);
        else if (args[i] == "--rtt-count")
            rtt_count = std::stol(args[i + 1]);
        else if (args[i] == "--runs")
            runs = std::stoi(args[i + 1]);
        else if (args[i] == "--only")
            only = args[i + 1];
    }
    std::printf("grav::zmq vs raw libzmq %d.%d.%d, two processes over tcp://127.0.0.1, median of %d runs\n",
                ZMQ_VERSION_MAJOR, ZMQ_VERSION_MINOR, ZMQ_VERSION_PATCH, runs);
    std::printf("%-34s %14s %14s %8s\n", "figure", "raw libzmq", "grav", "ratio");
    auto wanted = [&](const std::string& figure) { return only.empty() || only == figure; };
    for (std::size_t size : {std::size_t{64}, std::size_t{1024}}) {
        if (!wanted("throughput" + std::to_string(size))) continue;
        std::vector<double> raw, grav, raw_pub, raw_sub, grav_pub, grav_sub;
        for (int r = 0; r < runs; ++r) {
            const Throughput x = raw_throughput(size, count);
            const Throughput y = grav_throughput(size, count);
            raw.push_back(x.rate), raw_pub.push_back(x.pub_ns), raw_sub.push_back(x.sub_ns);
            grav.push_back(y.rate), grav_pub.push_back(y.pub_ns), grav_sub.push_back(y.sub_ns);
        }
        const double a = median(raw), b = median(grav);
        std::printf("%-34s %12.0f/s %12.0f/s %7.2f\n",
                    ("fan-out throughput, " + std::to_string(size) + " B").c_str(), a, b, b / a);
        print_run_ratios(grav, raw);
        const double rp = median(raw_pub), rs = median(raw_sub), gp = median(grav_pub), gs = median(grav_sub);
        std::printf(
            "  CPU per message, ns (publisher + receiver): raw %.0f + %.0f = %.0f, grav %.0f + %.0f = %.0f "
            "(%.2f)\n",
            rp, rs, rp + rs, gp, gs, gp + gs, (gp + gs) / (rp + rs));
        std::printf(
            "  (grav, last run: %.1f messages per ZeroMQ message; publish blocked %llu times, "
            "XPUB full %llu times)\n",
            last_mean_batch, static_cast<unsigned long long>(last_publish_blocked),
            static_cast<unsigned long long>(last_backpressure));
        std::printf("  (grav, last run, publisher's threads, ns per message: %s)\n",
                    last_publisher_threads.c_str());
        std::fflush(stdout);
    }
    if (wanted("rtt")) {
        std::vector<double> r50, r99, g50, g99, s50, s99, e50, e99, b50, b99, inline_shares, wake_shares;
        for (int r = 0; r < runs; ++r) {
            RawPinger raw_pinger;
            GravPinger grav_pinger;
            BusPinger bus_pinger;
            raw_pinger.ping(1000, nullptr);  // warm-up
            grav_pinger.ping(1000, nullptr);
            grav_pinger.ping(1000, nullptr, true);
            grav_pinger.ping_reactive(1000, nullptr);
            bus_pinger.ping(1000, nullptr);
            std::vector<double> raw, grav, served, reactive, bus;
            // Blocks of 100 round trips each, interleaved.
            for (long done = 0; done < rtt_count; done += 100) {
                const long n = std::min(100L, rtt_count - done);
                raw_pinger.ping(n, &raw);
                grav_pinger.ping(n, &grav);
                grav_pinger.ping(n, &served, true);
                grav_pinger.ping_reactive(n, &reactive);
                bus_pinger.ping(n, &bus);
            }
            inline_shares.push_back(grav_pinger.inline_share());
            wake_shares.push_back(grav_pinger.serve_wake_share());
            const auto sp = percentiles(std::move(served));
            s50.push_back(sp.p50_us), s99.push_back(sp.p99_us);
            const auto rp = percentiles(std::move(raw)), gp = percentiles(std::move(grav)),
                       ep = percentiles(std::move(reactive)), bp = percentiles(std::move(bus));
            r50.push_back(rp.p50_us), r99.push_back(rp.p99_us);
            g50.push_back(gp.p50_us), g99.push_back(gp.p99_us);
            e50.push_back(ep.p50_us), e99.push_back(ep.p99_us);
            b50.push_back(bp.p50_us), b99.push_back(bp.p99_us);
        }
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p50 (transport)", median(r50),
                    median(g50), median(g50) / median(r50));
        print_run_ratios(g50, r50);
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p99 (transport)", median(r99),
                    median(g99), median(g99) / median(r99));
        std::printf("  (transport: %.0f %% of the requests sent on the caller's thread)\n",
                    100 * median(inline_shares));
        std::printf(
            "  (serving: the transport's thread had to be woken to hand over in %.0f %% of the waits)\n",
            100 * median(wake_shares));
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p50 (transport, serving)", median(r50),
                    median(s50), median(s50) / median(r50));
        print_run_ratios(s50, r50);
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p99 (transport, serving)", median(r99),
                    median(s99), median(s99) / median(r99));
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p50 (transport, reactive)", median(r50),
                    median(e50), median(e50) / median(r50));
        print_run_ratios(e50, r50);
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p99 (transport, reactive)", median(r99),
                    median(e99), median(e99) / median(r99));
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p50 (Bus, pod->pod)", median(r50),
                    median(b50), median(b50) / median(r50));
        print_run_ratios(b50, r50);
        std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p99 (Bus, pod->pod)", median(r99),
                    median(b99), median(b99) / median(r99));
        std::fflush(stdout);
    }
    if (!wanted("idle")) return 0;
    const auto [raw_kb, grav_kb] = idle_rss();
    std::printf("%-34s %11ld kB %11ld kB %7.2f\n", "idle node VmRSS, one peer", raw_kb.total_kb,
                grav_kb.total_kb,
                static_cast<double>(grav_kb.total_kb) / static_cast<double>(raw_kb.total_kb));
    std::printf("%-34s %11ld kB %11ld kB %7.2f\n", "idle node RssAnon (own heap+stacks)", raw_kb.anon_kb,
                grav_kb.anon_kb, static_cast<double>(grav_kb.anon_kb) / static_cast<double>(raw_kb.anon_kb));
    std::printf("%-34s %11ld kB %11ld kB %7.2f\n", "idle node private (smaps_rollup)", raw_kb.private_kb,
                grav_kb.private_kb,
                static_cast<double>(grav_kb.private_kb) / static_cast<double>(raw_kb.private_kb));
    // Raw libzmq without heartbeats does nothing at all when idle: no ratio.
    std::printf("%-34s %8.2f ms/s %8.2f ms/s %7s\n", "idle node CPU, one peer", raw_kb.cpu_ms_per_s,
                grav_kb.cpu_ms_per_s, "-");
    return 0;
}
