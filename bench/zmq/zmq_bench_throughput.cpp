// zmq_bench's fan-out throughput figure: raw PUB -> SUB against
// Transport::publish -> the peer's on_message, run by run, with the CPU per
// message of both processes and where grav's publisher waited.
#include "bench_message.hpp"
#include "zmq_bench.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace zmq_bench {

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

namespace {

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

}  // namespace

void throughput_figure(std::size_t size, long count, int runs) {
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

}  // namespace zmq_bench
