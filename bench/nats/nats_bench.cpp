// The NATS bridge (grav::nats) against raw nats.c, both measured in the same
// run on one nats-server on 127.0.0.1 that the bench starts (the NATS test
// harness, tests/nats/support), with the same payloads and client options
// (send-asap as the bridge sets it). Results: docs/BENCHMARKS.md, NATS bridge.
//
//   nats_bench [--count N] [--rtt-count N] [--runs R] [--only fanout64|fanout1k|rtt]
//              [--no-send-asap] [--no-transport] [--six-headers]
//   --no-send-asap: both sides let nats.c batch writes
//   --no-transport: the site buses have no ZeroMQ transport (the bridge's own cost)
//   --six-headers: "raw with grav's headers" sends the six headers the bridge
//                  sent before its one Grav header (the layout's own cost)
//
// Figures:
//   fan-out throughput, 64 B and 1 KiB payloads, messages/s from the first
//   send to the last arrival
//     raw:  a nats.c publisher connection -> a nats.c async subscriber connection
//     raw with grav's headers: the same, each message a natsMsg carrying
//           a header of the bridge's name and size (not the target's
//           baseline: it tells what NATS headers cost in nats.c itself)
//     grav: a pod on site A (a bus with the bridge) sends; a pod on site B
//           (another bus with the bridge) counts what arrives
//   request/reply round trip, 64 B, p50 and p99
//     raw:  natsConnection_Request -> a nats.c responder (async subscription
//           that publishes the reply)
//     grav: Pod::send + Receipt::wait_until on site A, answered with reply_to
//           by a pod on site B
// Both sides are warmed up first (interest has crossed when a message has).
// Fan-out: raw and grav alternate run by run; round trips: interleaved
// blocks of 100, so both see the same machine load. Every fan-out checks
// that what arrived is what was sent; a difference is printed with the
// bridge's loss counters, and one that no counter explains fails the run.
#include "bridged.hpp"
#include "raw_nats.hpp"

#include "nats_cluster.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace grav::natsbench {
namespace {

constexpr double kThroughputTarget = 0.8;  // grav >= 0.8 x raw (issue 17)
constexpr double kRttTarget = 1.3;         // grav p50 <= 1.3 x raw

struct Args {
    std::uint64_t count = 200000;
    std::size_t rtt_count = 5000;
    int runs = 3;
    std::string only;
    bool send_asap = true;
    bool transport = true;
    bool six_headers = false;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "nats_bench: %s\nusage: nats_bench [--count N] [--rtt-count N] [--runs R] "
                 "[--only fanout64|fanout1k|rtt] [--no-send-asap] [--no-transport] [--six-headers]\n",
                 why.c_str());
    std::exit(2);
}

std::uint64_t number(const char* text, const char* what) {
    char* end = nullptr;
    const auto v = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || v == 0)
        usage(std::string(what) + " needs a positive number, not '" + text + "'");
    return v;
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage(arg + " needs a value");
            return argv[++i];
        };
        if (arg == "--count")
            a.count = number(value(), "--count");
        else if (arg == "--rtt-count")
            a.rtt_count = number(value(), "--rtt-count");
        else if (arg == "--runs")
            a.runs = static_cast<int>(number(value(), "--runs"));
        else if (arg == "--only") {
            a.only = value();
            if (a.only != "fanout64" && a.only != "fanout1k" && a.only != "rtt")
                usage("unknown figure '" + a.only + "'");
        } else if (arg == "--no-send-asap")
            a.send_asap = false;
        else if (arg == "--no-transport")
            a.transport = false;
        else if (arg == "--six-headers")
            a.six_headers = true;
        else
            usage("unknown option '" + arg + "'");
    }
    return a;
}

std::string rate(double msgs_per_s) { return fixed(msgs_per_s / 1e3, 0) + " k msg/s"; }

std::string ratios(const std::vector<double>& v) {
    std::string out;
    for (double r : v) out += (out.empty() ? "" : " ") + fixed(r, 2);
    return out;
}

// What the bridge's counters say about `missing` messages; false when they
// do not account for all of them (a silent loss).
bool explain_missing(const FanoutResult& g, const BridgeCounters& c) {
    const std::uint64_t missing = g.sent - g.arrived;
    if (missing == 0 && g.send_failed == 0) return true;
    const std::uint64_t counted = std::max(c.lost, c.queue_overflow) + c.publish_failed;
    say("    grav missing " + std::to_string(missing) + " of " + std::to_string(g.sent) +
        ": site A bridge.forwarded " + std::to_string(c.forwarded) + ", nats.published " +
        std::to_string(c.published) + ", nats.publish_failed " + std::to_string(c.publish_failed) +
        "; site B nats.received " + std::to_string(c.received) + ", nats.queue_overflow " +
        std::to_string(c.queue_overflow) + ", nats.lost " + std::to_string(c.lost) + ", bridge.injected " +
        std::to_string(c.injected) + ", bridge.lost " + std::to_string(c.bridge_lost) +
        "; nats.slow_consumer " + std::to_string(c.slow_consumer) + ", nats.disconnects " +
        std::to_string(c.disconnects) + "; send failures " + std::to_string(g.send_failed));
    if (counted >= missing) return true;
    say("    SILENT LOSS: " + std::to_string(missing - counted) +
        " message(s) missing that no counter reports");
    return false;
}

std::string arrived(const FanoutResult& r) {
    return std::to_string(r.arrived) + "/" + std::to_string(r.sent);
}

std::string loop(const FanoutResult& r) {
    return fixed(r.send_seconds, 2) + " s of " + fixed(r.seconds, 2) + " s, " + fixed(r.send_cpu_us, 1) +
           " us CPU/msg";
}

bool raw_complete(const std::string& what, const FanoutResult& r, const RawFanout& raw) {
    if (r.arrived == r.sent && r.send_failed == 0) return true;
    say("    " + what + " missing " + std::to_string(r.sent - r.arrived) + ", publish failures " +
        std::to_string(r.send_failed) + ", slow consumer events " + std::to_string(raw.slow_consumer()));
    return false;
}

bool fanout(const std::string& label, std::size_t payload, const Args& args, RawFanout& raw,
            BridgedSites& grav) {
    say("fanout " + label + ": " + std::to_string(args.count) + " messages per run");
    std::vector<double> raw_rates, hdr_rates, grav_rates, run_ratios;
    const auto headers = args.six_headers ? RawFanout::Headers::six : RawFanout::Headers::grav;
    bool ok = true;
    for (int run = 0; run < args.runs; ++run) {
        FanoutResult r, h, g;
        BridgeCounters c;
        // Alternate which goes first, so neither always follows the other's backlog.
        if (run % 2 == 0) {
            r = raw.run(args.count, payload);
            g = grav.fanout(args.count, payload, c);
            h = raw.run(args.count, payload, headers);
        } else {
            h = raw.run(args.count, payload, headers);
            g = grav.fanout(args.count, payload, c);
            r = raw.run(args.count, payload);
        }
        raw_rates.push_back(r.rate());
        hdr_rates.push_back(h.rate());
        grav_rates.push_back(g.rate());
        run_ratios.push_back(r.rate() > 0 ? g.rate() / r.rate() : 0);
        say("  run " + std::to_string(run + 1) + ": raw " + rate(r.rate()) + ", grav " + rate(g.rate()) +
            ", grav/raw " + fixed(run_ratios.back(), 2) + "; raw with grav's headers " + rate(h.rate()));
        say("    arrived: raw " + arrived(r) + ", grav " + arrived(g) + ", raw+headers " + arrived(h) +
            "; sending loop: raw " + loop(r) + "; grav " + loop(g) + "; raw+headers " + loop(h));
        ok = raw_complete("raw", r, raw) && ok;
        ok = raw_complete("raw+headers", h, raw) && ok;
        ok = explain_missing(g, c) && ok;
    }
    const double ratio = median(run_ratios);
    say("  median: raw " + rate(median(raw_rates)) + ", grav " + rate(median(grav_rates)) + ", grav/raw " +
        fixed(ratio, 2) + " (runs: " + ratios(run_ratios) + "); raw with grav's headers " +
        rate(median(hdr_rates)) + "; target >= " + fixed(kThroughputTarget, 1) +
        " x raw: " + (ratio >= kThroughputTarget ? "met" : "missed"));
    return ok;
}

bool rtt(const Args& args, RawRtt& raw, BridgedSites& grav) {
    constexpr std::size_t kBlock = 100;
    constexpr std::size_t kWarm = 500;
    say("rtt 64 B: " + std::to_string(args.rtt_count) + " round trips per run, each side");
    for (std::size_t i = 0; i < kWarm; ++i) {
        raw.once();
        grav.rtt_once();
    }
    std::vector<double> raw_p50, raw_p99, grav_p50, grav_p99, r50, r99;
    bool ok = true;
    for (int run = 0; run < args.runs; ++run) {
        std::vector<double> r, g;
        std::size_t failed_raw = 0, failed_grav = 0;
        while (r.size() < args.rtt_count) {
            for (std::size_t i = 0; i < kBlock && r.size() < args.rtt_count; ++i) {
                const double us = raw.once();
                if (us < 0) ++failed_raw;
                r.push_back(us < 0 ? 5e6 : us);
            }
            for (std::size_t i = 0; i < kBlock && g.size() < args.rtt_count; ++i) {
                const double us = grav.rtt_once();
                if (us < 0) ++failed_grav;
                g.push_back(us < 0 ? 5e6 : us);
            }
            if (failed_raw + failed_grav > 10) break;  // bounded: each failure waited 5 s
        }
        raw_p50.push_back(quantile(r, 0.5));
        raw_p99.push_back(quantile(r, 0.99));
        grav_p50.push_back(quantile(g, 0.5));
        grav_p99.push_back(quantile(g, 0.99));
        r50.push_back(grav_p50.back() / raw_p50.back());
        r99.push_back(grav_p99.back() / raw_p99.back());
        say("  run " + std::to_string(run + 1) + ": raw p50 " + fixed(raw_p50.back(), 0) + " us, p99 " +
            fixed(raw_p99.back(), 0) + " us; grav p50 " + fixed(grav_p50.back(), 0) + " us, p99 " +
            fixed(grav_p99.back(), 0) + " us; grav/raw p50 " + fixed(r50.back(), 2) + ", p99 " +
            fixed(r99.back(), 2));
        if (failed_raw + failed_grav > 0) {
            say("    FAILED round trips (counted as 5 s): raw " + std::to_string(failed_raw) + ", grav " +
                std::to_string(failed_grav));
            ok = false;
        }
    }
    const double ratio = median(r50);
    say("  median: raw p50 " + fixed(median(raw_p50), 0) + " us, p99 " + fixed(median(raw_p99), 0) +
        " us; grav p50 " + fixed(median(grav_p50), 0) + " us, p99 " + fixed(median(grav_p99), 0) +
        " us; grav/raw p50 " + fixed(ratio, 2) + " (runs: " + ratios(r50) + "), p99 " +
        fixed(median(r99), 2) + " (runs: " + ratios(r99) + "); target p50 <= " + fixed(kRttTarget, 1) +
        " x raw: " + (ratio <= kRttTarget ? "met" : "missed"));
    return ok;
}

int run(const Args& args) {
    if (!natstest::nats_server_binary()) {
        say("nats_bench: skipped, no nats-server (set GRAV_NATS_SERVER or install nats-server)");
        return 77;
    }
    auto server = natstest::NatsCluster::start(1);
    const std::string url = server->url(0);
    say("nats_bench: one nats-server at " + url + ", nats.c " + nats_GetVersion() + ", send-asap " +
        (args.send_asap ? "on" : "off") + ", site buses " +
        (args.transport ? "with a ZeroMQ transport (no peers)" : "without a transport") + ", " +
        std::to_string(args.runs) + " run(s)");
    BridgedSites grav(url, {.send_asap = args.send_asap, .transport = args.transport}, 64);
    if (!grav.warm_up()) throw std::runtime_error("nothing crossed between the two sites within 15 s");
    bool ok = true;
    const auto want = [&](const char* figure) { return args.only.empty() || args.only == figure; };
    if (want("fanout64") || want("fanout1k")) {
        RawFanout raw(url, args.send_asap);
        if (!raw.warm_up()) throw std::runtime_error("the raw nats.c subscriber got nothing within 10 s");
        if (want("fanout64")) ok = fanout("64 B", 64, args, raw, grav) && ok;
        if (want("fanout1k")) ok = fanout("1 KiB", 1024, args, raw, grav) && ok;
    }
    if (want("rtt")) {
        RawRtt raw(url, args.send_asap, 64);
        ok = rtt(args, raw, grav) && ok;
    }
    return ok ? 0 : 1;
}

}  // namespace
}  // namespace grav::natsbench

int main(int argc, char** argv) {
    const auto args = grav::natsbench::parse(argc, argv);
    try {
        return grav::natsbench::run(args);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nats_bench: %s\n", e.what());
        return 1;
    }
}
