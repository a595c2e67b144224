// grav_lan_traffic: a full node (Bus + ZeroMQ transport + beacon discovery)
// that publishes a numbered stream and tallies, per origin, the streams it
// receives: the load of the chaos tests and of the soak. Message type
// "lan.stream", payload the decimal sequence number (1, 2, 3, ...).
//
// Lines (times in CLOCK_MONOTONIC ms, comparable across processes):
//   START <node-id> <ms> / UP <ms> / READY <peer> <address> <ms> / LEFT <peer> <reason> <ms>
//                                   as grav_lan_node
//   FIRST <origin> <seq> <ms>       the first message of an origin
//   TICK <ms> <sent> <rss-kb> <heap-kb> <held-kb>
//   {<origin>:<last>:<received>:<gaps>:<duplicates>:<reordered>}
//                                   every --tick ms while running (StreamTally's counts); heap-kb:
//                                   malloc's bytes in use, held-kb: what malloc holds from the
//                                   system (in use + free in its arenas + mmapped), both mallinfo2:
//                                   RSS growing while heap-kb stays flat is the allocator, not a leak
//   QUIET <sent> <ms>               after SIGUSR1: this node sends no more
//   TALLY <origin> <first> <last> <received> <gaps> <duplicates> <reordered>   at stop
//   SENT_TOTAL <sent>               at stop
//   STOPPED <ms> / STAT <name> <value>
// --rate 0 floods: it sends as fast as the bus takes them. The main thread
// sends and prints the ticks, so a sender blocked in send() prints no ticks:
// a stall shows as ticks missing, not as ticks standing still.
// SIGUSR1: stop sending. SIGTERM/SIGINT: clean stop.
// --malloc-trim <ms>: malloc_trim(0) this often (default 1000; 0: never),
// see below; at stop: TRIM <calls> <total-ms> <max-ms>.
// --mmap-threshold <bytes>: mallopt(M_MMAP_THRESHOLD) at start (default
// 8192; 0: glibc's dynamic default), see main().

#include "child_process.hpp"
#include "node_output.hpp"
#include "stream_tally.hpp"

#include <grav/beacon.hpp>
#include <grav/bus.hpp>
#include <grav/zmq.hpp>

#include <CLI/CLI.hpp>

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

namespace {

using grav::testkit::emit;
using grav::testkit::monotonic_ms;

long rss_kb() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0;
    long resident = 0;
    statm >> pages >> resident;
    return resident * (::sysconf(_SC_PAGESIZE) / 1024);
}

// malloc's view (all arenas): bytes handed out and not freed, and bytes it
// holds from the system. Walks every arena under its lock: cheap enough for
// a line every 200 ms.
struct HeapKb {
    long in_use = 0;
    long held = 0;
};
HeapKb heap_kb() {
    const auto m = ::mallinfo2();
    return {static_cast<long>((m.uordblks + m.hblkhd) / 1024),
            static_cast<long>((m.arena + m.hblkhd) / 1024)};
}

// The receiving side: every origin's tally, fed by the pod's handler.
class Tallies {
public:
    explicit Tallies(grav::NodeId self) : self_(std::move(self)) {}

    void on_message(const grav::Message& m) {
        if (m.origin() == self_) return;
        const auto text = m.payload_view();
        std::uint64_t seq = 0;
        if (std::from_chars(text.data(), text.data() + text.size(), seq).ec != std::errc{}) return;
        const std::lock_guard lock(mutex_);
        auto [it, fresh] = by_origin_.try_emplace(m.origin().str());
        it->second.record(seq);
        if (fresh)
            emit("FIRST %s %llu %.3f\n", it->first.c_str(), static_cast<unsigned long long>(seq),
                 monotonic_ms());
    }

    void tick(std::uint64_t sent) {
        const auto heap = heap_kb();
        std::string line = "TICK " + std::to_string(monotonic_ms()) + " " + std::to_string(sent) + " " +
                           std::to_string(rss_kb()) + " " + std::to_string(heap.in_use) + " " +
                           std::to_string(heap.held);
        {
            const std::lock_guard lock(mutex_);
            for (const auto& [origin, t] : by_origin_) {
                line += " " + origin + ":" + std::to_string(t.last()) + ":" + std::to_string(t.received()) +
                        ":" + std::to_string(t.gaps()) + ":" + std::to_string(t.duplicates()) + ":" +
                        std::to_string(t.reordered());
            }
        }
        emit("%s\n", line.c_str());
    }

    void print_totals() {
        const std::lock_guard lock(mutex_);
        for (const auto& [origin, t] : by_origin_) {
            emit("TALLY %s %llu %llu %llu %llu %llu %llu\n", origin.c_str(),
                 static_cast<unsigned long long>(t.first()), static_cast<unsigned long long>(t.last()),
                 static_cast<unsigned long long>(t.received()), static_cast<unsigned long long>(t.gaps()),
                 static_cast<unsigned long long>(t.duplicates()),
                 static_cast<unsigned long long>(t.reordered()));
        }
    }

private:
    const grav::NodeId self_;
    std::mutex mutex_;
    std::map<std::string, grav::testkit::StreamTally> by_origin_;
};

timespec to_timespec(double ms) {
    ms = std::max(ms, 0.0);
    const auto whole = static_cast<long>(ms / 1000);
    return {whole, static_cast<long>((ms - static_cast<double>(whole) * 1000) * 1e6)};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"grav LAN traffic node"};
    grav::BeaconOptions beacon;
    std::string group = "*";
    int interval_ms = static_cast<int>(beacon.interval.count());
    int expiry_ms = static_cast<int>(beacon.expiry.count());
    int heartbeat_timeout_ms = 3000;
    double rate = 100;
    int tick_ms = 200;
    int trim_ms = 1000;
    int mmap_threshold = 8192;
    app.add_option("--group", group, "belongs_to");
    app.add_option("--port", beacon.port, "beacon UDP port");
    app.add_option("--interval", interval_ms, "beacon interval, ms");
    app.add_option("--expiry", expiry_ms, "beacon expiry, ms");
    app.add_option("--interface", beacon.interface, "interface name, address or CIDR");
    app.add_option("--heartbeat-timeout", heartbeat_timeout_ms, "ZMTP heartbeat timeout, ms");
    app.add_option("--rate", rate, "messages per second; 0: as fast as possible");
    app.add_option("--tick", tick_ms, "TICK line period, ms");
    app.add_option("--malloc-trim", trim_ms, "malloc_trim(0) this often, ms; 0: never");
    app.add_option("--mmap-threshold", mmap_threshold,
                   "mallopt(M_MMAP_THRESHOLD), bytes; 0: glibc's default");
    CLI11_PARSE(app, argc, argv);
    beacon.interval = std::chrono::milliseconds(interval_ms);
    // Before any thread exists. Allocations of 8 KB and more churn here: a
    // heap profile of a soak node (heaptrack, 300 s) counted ~15 a second of
    // 18,160 B (by the size, libzmq's zero-copy receive buffer: 8 KB plus its
    // reference counts), 8,192 B and 16,400 B (by the size, a libzmq pipe
    // chunk). From an arena, each freed one leaves a hole that small
    // long-lived objects (the resend window's messages live 200 s) scatter
    // into, and the next big one extends the heap. Mapped instead, each goes
    // back to the system when freed; a fixed threshold also stops glibc from
    // raising it after the first free. The trade: each big buffer costs an
    // mmap and a munmap, against arenas that creep and a malloc_trim that
    // has more to walk (both measured in docs/BENCHMARKS.md, Soak).
    if (mmap_threshold > 0) ::mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    beacon.expiry = std::chrono::milliseconds(expiry_ms);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    const auto id = grav::NodeId::random();
    emit("START %s %.3f\n", id.str().c_str(), monotonic_ms());

    grav::zmq::Options zopts;
    zopts.heartbeat_timeout = std::chrono::milliseconds(heartbeat_timeout_ms);
    zopts.heartbeat_interval = std::chrono::milliseconds(std::max(100, heartbeat_timeout_ms / 3));
    grav::BusOptions options;
    options.transport = grav::zmq::transport(zopts);
    options.discovery = grav::beacon_discovery(beacon);
    options.belongs_to = group;
    options.node_id = id;
    options.workers = 2;
    grav::Bus bus(std::move(options));
    bus.on_peer([](const grav::PeerEvent& e) {
        if (e.kind == grav::PeerEvent::Kind::joined) {
            emit("READY %s %s %.3f\n", e.peer.id.str().c_str(), e.peer.address.c_str(), monotonic_ms());
        } else if (e.kind == grav::PeerEvent::Kind::lost_messages) {
            emit("LOST %s %llu %.3f\n", e.peer.id.str().c_str(), static_cast<unsigned long long>(e.lost),
                 monotonic_ms());
        } else {
            emit("LEFT %s %s %.3f\n", e.peer.id.str().c_str(),
                 e.reason ? grav::testkit::reason_word(*e.reason) : "unknown", monotonic_ms());
        }
    });
    Tallies tallies(id);
    auto pod = bus.connect();
    const grav::Status subscribed =
        pod.on_type("lan.stream", [&tallies](const grav::Message& m) { tallies.on_message(m); });
    if (!subscribed) {
        std::fprintf(stderr, "traffic_node: %s\n", subscribed.error().what().c_str());
        return 1;
    }
    emit("UP %.3f\n", monotonic_ms());

    // Paced sending: by time t, rate * t messages are due. A node that could
    // not keep up (or was stopped) does not burst to catch up: its schedule
    // restarts from now when it is more than 100 ms behind.
    const double period_ms = rate > 0 ? 1000.0 / rate : 0;
    double schedule_start = monotonic_ms();
    std::uint64_t schedule_base = 0;
    std::uint64_t sent = 0;
    bool sending = true;
    double next_tick = monotonic_ms() + tick_ms;
    double next_trim = monotonic_ms() + trim_ms;
    std::uint64_t trims = 0;
    double trim_total_ms = 0;
    double trim_max_ms = 0;
    while (true) {
        double now = monotonic_ms();
        if (trim_ms > 0 && now >= next_trim) {
            // glibc gives free memory back to the system only from the top of
            // a heap; pages freed in the middle stay resident. This node's
            // live heap is bounded (the resend window and the streams'
            // state), but its pattern — a 200 s FIFO of window messages
            // interleaved with short-lived receive buffers, allocated and
            // freed on different threads — leaves free holes that creep: the
            // soak saw malloc's bytes in use flat and RSS still growing (see
            // docs/BENCHMARKS.md, Soak). malloc_trim(0) returns the free pages of every
            // arena (a walk of a few MB; its cost is printed at stop). The
            // program does it, not the library: malloc policy is the
            // application's choice.
            ::malloc_trim(0);
            const double took = monotonic_ms() - now;
            ++trims;
            trim_total_ms += took;
            trim_max_ms = std::max(trim_max_ms, took);
            next_trim = now + trim_ms;
        }
        if (now >= next_tick) {
            tallies.tick(sent);
            next_tick = std::max(next_tick + tick_ms, now);
        }
        double wait_ms = next_tick - now;
        if (sending) {
            if (period_ms == 0) {
                for (int i = 0; i < 64; ++i) pod.send(grav::Message("lan.stream", std::to_string(++sent)));
                wait_ms = 0;
            } else {
                auto due = schedule_base + static_cast<std::uint64_t>((now - schedule_start) / period_ms);
                if (due > sent + static_cast<std::uint64_t>(100 / period_ms) + 1) {
                    schedule_start = now;
                    schedule_base = sent;
                    due = sent + 1;
                }
                while (sent < due) pod.send(grav::Message("lan.stream", std::to_string(++sent)));
                const double next_send =
                    schedule_start + static_cast<double>(sent + 1 - schedule_base) * period_ms;
                wait_ms = std::min(wait_ms, next_send - monotonic_ms());
            }
        }
        const auto timeout = to_timespec(wait_ms);
        const int sig = sigtimedwait(&signals, nullptr, &timeout);
        if (sig == SIGUSR1) {
            if (sending) emit("QUIET %llu %.3f\n", static_cast<unsigned long long>(sent), monotonic_ms());
            sending = false;
        } else if (sig > 0) {
            break;
        }
    }
    const auto network = bus.stats().network;  // before stop: the transport's and discovery's counters
    bus.stop();
    emit("STOPPED %.3f\n", monotonic_ms());
    tallies.print_totals();
    emit("SENT_TOTAL %llu\n", static_cast<unsigned long long>(sent));
    emit("TRIM %llu %.3f %.3f\n", static_cast<unsigned long long>(trims), trim_total_ms, trim_max_ms);
    for (const auto& [name, value] : network)
        emit("STAT %s %llu\n", name.c_str(), static_cast<unsigned long long>(value));
    return 0;
}
