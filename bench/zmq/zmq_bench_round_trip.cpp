// zmq_bench's request/reply round-trip figures, p50 and p99: raw DEALER ->
// ROUTER (echo) against grav's transport (waiting, serving, reactive) and the
// whole Bus, in interleaved blocks of 100 so that all see the same load.
#include "bench_message.hpp"
#include "zmq_bench.hpp"

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace zmq_bench {

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

namespace {

struct Percentiles {
    double p50_us;
    double p99_us;
};

Percentiles percentiles(std::vector<double> us) {
    std::sort(us.begin(), us.end());
    return {us[us.size() / 2], us[us.size() * 99 / 100]};
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

}  // namespace

void round_trip_figures(long rtt_count, int runs) {
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
    std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p50 (transport)", median(r50), median(g50),
                median(g50) / median(r50));
    print_run_ratios(g50, r50);
    std::printf("%-34s %11.1f us %11.1f us %7.2f\n", "round trip p99 (transport)", median(r99), median(g99),
                median(g99) / median(r99));
    std::printf("  (transport: %.0f %% of the requests sent on the caller's thread)\n",
                100 * median(inline_shares));
    std::printf("  (serving: the transport's thread had to be woken to hand over in %.0f %% of the waits)\n",
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

}  // namespace zmq_bench
