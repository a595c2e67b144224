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
//
// This file: the roles and options, and the report's order. The figures:
// zmq_bench_throughput.cpp, zmq_bench_round_trip.cpp, zmq_bench_idle.cpp;
// the tools they share: zmq_bench.hpp.
#include "zmq_bench.hpp"

#include <zmq.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace zmq_bench;
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
        throughput_figure(size, count, runs);
    }
    if (wanted("rtt")) round_trip_figures(rtt_count, runs);
    if (!wanted("idle")) return 0;
    idle_figures();
    return 0;
}
