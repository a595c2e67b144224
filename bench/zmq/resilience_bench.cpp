// Recovery after a broken link (docs/BENCHMARKS.md, "Resilience: recovery
// after a broken link"): two
// grav::zmq transports on 127.0.0.1, steady fan-out from A to B, and every
// TCP connection between them killed with `ss -K` (both ends reset) in the
// middle. Beside it, raw libzmq PUB -> SUB at the same rate, cut the same
// way, in the same run: what it loses and how long until it delivers again.
//
//   resilience_bench [--trials N] [--rate MSG_PER_S] [--seconds S]   (root: ss -K)
//
// grav: outage = cut -> B sees A join again; recovery = that re-join -> the
// last message published before it is delivered to B (what was missed is
// asked for again and re-sent from A's window, then delivered in order).
// raw: reconnect = cut -> first message after the cut; lost = sequence numbers never seen.
#include "bench_message.hpp"

#include <grav/transport.hpp>
#include <grav/zmq.hpp>

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double ms_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

bool cut(const std::vector<int>& ports) {
    std::string filter;
    for (int p : ports) filter += std::string(filter.empty() ? "" : " or ") + "dport = :" + std::to_string(p);
    return std::system(("ss -K -t -n dst 127.0.0.1 '( " + filter + " )' > /dev/null 2>&1").c_str()) == 0;
}

grav::MessagePtr make(std::uint64_t i, const grav::NodeId& origin) {
    std::string payload = std::to_string(i);
    payload.resize(64, ' ');
    return grav::bench::message(origin, payload);
}

class Events : public grav::TransportEvents {
public:
    grav::Status admit(const grav::PeerInfo&) override { return grav::success(); }
    void on_peer_joined(const grav::PeerInfo&) override {
        std::lock_guard lock(mutex);
        joins.push_back(Clock::now());
    }
    void on_peer_left(const grav::NodeId&, grav::LeaveReason, std::string_view) override {}
    void on_peer_refused(std::string_view, std::string_view) override {}
    void on_message(const grav::NodeId&, grav::MessagePtr message) override {
        const auto i = std::stoull(std::string(message->payload_view().substr(0, 20)));
        std::lock_guard lock(mutex);
        if (i != delivered) in_order = false;
        delivered = i + 1;
        if (delivered == watch_for) reached = Clock::now();
    }
    void on_messages_lost(const grav::NodeId&, std::string_view, std::uint64_t count) override {
        std::lock_guard lock(mutex);
        lost += count;
    }
    std::mutex mutex;
    std::vector<Clock::time_point> joins;
    std::uint64_t delivered = 0;
    std::uint64_t watch_for = 0;
    std::uint64_t lost = 0;
    bool in_order = true;
    Clock::time_point reached{};
};

struct Trial {
    double outage_ms = 0;
    double recovery_ms = 0;
    std::uint64_t missed = 0;  // published while B could not get them
    std::uint64_t recovered = 0;
    std::uint64_t lost = 0;
    bool in_order = true;
};

grav::zmq::Options options() {
    grav::zmq::Options o;
    o.bind = "tcp://127.0.0.1:0";
    o.log = [](std::string_view) {};
    return o;  // window, heartbeats, resend timeout: the defaults
}

bool grav_trial(int rate, double seconds, Trial& out) {
    Events ea, eb;
    grav::LocalNode sa{.id = grav::NodeId::random(), .name = "A", .belongs_to = "*", .interests = {}};
    grav::LocalNode sb{.id = grav::NodeId::random(), .name = "B", .belongs_to = "*", .interests = {}};
    auto a = grav::zmq::transport(options());
    auto b = grav::zmq::transport(options());
    if (!a->start(sa, ea) || !b->start(sb, eb)) return false;
    (void)b->connect(a->endpoint());
    for (int i = 0; i < 1000; ++i) {
        {
            std::lock_guard lock(eb.mutex);
            if (!eb.joins.empty()) break;
        }
        std::this_thread::sleep_for(5ms);
    }
    const auto period = std::chrono::nanoseconds(static_cast<long long>(1e9 / rate));
    const auto total = static_cast<std::uint64_t>(rate * seconds);
    const auto ca = a->contact();
    const auto cb = b->contact();
    Clock::time_point cut_at{};
    std::uint64_t at_rejoin = 0;
    Clock::time_point rejoined{};
    auto next = Clock::now();
    for (std::uint64_t i = 0; i < total; ++i) {
        a->publish(make(i, sa.id));
        if (i == total / 3) {
            cut_at = Clock::now();
            if (!cut({ca.direct_port, ca.fanout_port, cb.direct_port, cb.fanout_port})) return false;
        }
        if (at_rejoin == 0 && i > total / 3) {
            std::lock_guard lock(eb.mutex);
            if (eb.joins.size() >= 2) {
                rejoined = eb.joins[1];
                at_rejoin = i + 1;  // published before B was back
                eb.watch_for = at_rejoin;
                if (eb.delivered >= at_rejoin) eb.reached = Clock::now();
            }
        }
        next += period;
        std::this_thread::sleep_until(next);
    }
    for (int i = 0; i < 2000; ++i) {
        {
            std::lock_guard lock(eb.mutex);
            if (eb.delivered + eb.lost >= total) break;
        }
        std::this_thread::sleep_for(5ms);
    }
    const auto stats = b->stats();
    std::lock_guard lock(eb.mutex);
    if (at_rejoin == 0) return false;
    out.outage_ms = ms_between(cut_at, rejoined);
    out.recovery_ms = ms_between(rejoined, eb.reached);
    out.missed = stats.at("zmq.recovered") + stats.at("zmq.lost");
    out.recovered = stats.at("zmq.recovered");
    out.lost = stats.at("zmq.lost");
    out.in_order = eb.in_order && eb.delivered == total;
    a->stop();
    b->stop();
    return true;
}

struct RawTrial {
    double reconnect_ms = 0;
    std::uint64_t lost = 0;
};

bool raw_trial(int rate, double seconds, RawTrial& out) {
    ::zmq::context_t ctx(1);
    ::zmq::socket_t pub(ctx, ::zmq::socket_type::pub);
    ::zmq::socket_t sub(ctx, ::zmq::socket_type::sub);
    pub.set(::zmq::sockopt::sndhwm, 0);
    sub.set(::zmq::sockopt::rcvhwm, 0);
    sub.set(::zmq::sockopt::reconnect_ivl, 100);  // as grav's DEALER
    pub.bind("tcp://127.0.0.1:0");
    const std::string ep = pub.get(::zmq::sockopt::last_endpoint);
    const int port = std::stoi(ep.substr(ep.rfind(':') + 1));
    sub.connect(ep);
    sub.set(::zmq::sockopt::subscribe, "");
    std::atomic<bool> done{false};
    std::mutex m;
    std::uint64_t seen = 0, expected_next = 0, lost = 0;
    Clock::time_point first_after_cut{};
    std::atomic<bool> was_cut{false};
    std::thread reader([&] {
        sub.set(::zmq::sockopt::rcvtimeo, 50);
        while (!done) {
            ::zmq::message_t msg;
            if (!sub.recv(msg)) continue;
            const auto i = std::stoull(msg.to_string().substr(0, 20));
            std::lock_guard lock(m);
            if (seen > 0 && i > expected_next) lost += i - expected_next;
            if (was_cut && first_after_cut == Clock::time_point{} && seen > 0 && i > expected_next) {
                first_after_cut = Clock::now();
            }
            expected_next = i + 1;
            ++seen;
        }
    });
    // Let the subscription arrive before the first message counts.
    for (int i = 0; i < 200; ++i) {
        pub.send(::zmq::buffer(std::string("0")), ::zmq::send_flags::none);
        std::lock_guard lock(m);
        if (seen > 0) break;
        std::this_thread::sleep_for(5ms);
    }
    const auto period = std::chrono::nanoseconds(static_cast<long long>(1e9 / rate));
    const auto total = static_cast<std::uint64_t>(rate * seconds);
    Clock::time_point cut_at{};
    auto next = Clock::now();
    for (std::uint64_t i = 1; i <= total; ++i) {
        std::string payload = std::to_string(i);
        payload.resize(64, ' ');
        pub.send(::zmq::buffer(payload), ::zmq::send_flags::none);
        if (i == total / 3) {
            cut_at = Clock::now();
            was_cut = true;
            if (!cut({port})) {
                done = true;
                reader.join();
                return false;
            }
        }
        next += period;
        std::this_thread::sleep_until(next);
    }
    std::this_thread::sleep_for(300ms);
    done = true;
    reader.join();
    out.lost = lost;
    out.reconnect_ms = first_after_cut == Clock::time_point{} ? -1 : ms_between(cut_at, first_after_cut);
    return true;
}

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    int trials = 10;
    int rate = 5000;
    double seconds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--trials")
            trials = std::stoi(argv[i + 1]);
        else if (key == "--rate")
            rate = std::stoi(argv[i + 1]);
        else if (key == "--seconds")
            seconds = std::stod(argv[i + 1]);
    }
    const auto o = options();
    std::printf("window: %zu messages / %zu bytes; resend timeout %lld ms; heartbeat timeout %lld ms\n",
                o.resend_window_messages, o.resend_window_bytes,
                static_cast<long long>(o.resend_timeout.count()),
                static_cast<long long>(o.heartbeat_timeout.count()));
    std::printf("steady fan-out %d msg/s, 64 B payloads, %g s per trial, cut after a third\n", rate, seconds);
    std::vector<double> outage, recovery, raw_reconnect, raw_lost;
    std::uint64_t missed = 0, recovered = 0, lost = 0;
    int disordered = 0;
    for (int t = 0; t < trials; ++t) {
        Trial g;
        if (!grav_trial(rate, seconds, g)) {
            std::printf("grav trial %d failed (ss -K needs root)\n", t);
            return 1;
        }
        RawTrial r;
        if (!raw_trial(rate, seconds, r)) {
            std::printf("raw trial %d failed\n", t);
            return 1;
        }
        std::printf(
            "trial %d: grav outage %.1f ms, recovery %.1f ms, missed %llu recovered %llu lost %llu %s | "
            "raw reconnect %.1f ms, lost %llu\n",
            t, g.outage_ms, g.recovery_ms, static_cast<unsigned long long>(g.missed),
            static_cast<unsigned long long>(g.recovered), static_cast<unsigned long long>(g.lost),
            g.in_order ? "in order" : "OUT OF ORDER", r.reconnect_ms,
            static_cast<unsigned long long>(r.lost));
        outage.push_back(g.outage_ms);
        recovery.push_back(g.recovery_ms);
        raw_reconnect.push_back(r.reconnect_ms);
        raw_lost.push_back(static_cast<double>(r.lost));
        missed += g.missed;
        recovered += g.recovered;
        lost += g.lost;
        disordered += g.in_order ? 0 : 1;
    }
    std::printf(
        "median: grav outage %.1f ms, recovery %.1f ms (max %.1f); raw libzmq reconnect %.1f ms, lost %.0f\n",
        median(outage), median(recovery), *std::max_element(recovery.begin(), recovery.end()),
        median(raw_reconnect), median(raw_lost));
    std::printf("total: grav missed %llu, recovered %llu, lost %llu, trials out of order or incomplete %d\n",
                static_cast<unsigned long long>(missed), static_cast<unsigned long long>(recovered),
                static_cast<unsigned long long>(lost), disordered);
    return 0;
}
