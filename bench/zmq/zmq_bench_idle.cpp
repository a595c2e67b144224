// zmq_bench's idle figures: resident memory and CPU of an idle node with one
// peer, raw libzmq (ROUTER, XPUB, DEALER, SUB) against a Bus with its transport.
#include "zmq_bench.hpp"

#include <zmq.hpp>

#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

namespace zmq_bench {

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

namespace {

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

}  // namespace

void idle_figures() {
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
}

}  // namespace zmq_bench
