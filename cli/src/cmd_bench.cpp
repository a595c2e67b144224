// grav bench: pub/sub and request/reply between two nodes over real TCP.
//
//   grav bench                  both nodes in this process, on loopback
//   grav bench --serve          a bench server (on another host or terminal) ...
//   grav bench --remote         ... measured from here, found by discovery
//
// pub/sub: N messages published as fast as the bus takes them; the server
// acknowledges every 16th and the last with a direct reply, whose round trip
// gives the latency; throughput is N over the time to the last ack.
// request/reply: M requests one after the other through a tunnel.

#include "commands.hpp"
#include "node.hpp"
#include "option_values.hpp"
#include "output.hpp"

#include <grav/zmq.hpp>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace grav::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kCapability = "grav.bench";
constexpr const char* kData = "grav.bench.data";
constexpr const char* kAck = "grav.bench.ack";
constexpr const char* kRequest = "grav.bench.req";
constexpr const char* kResponse = "grav.bench.rep";
constexpr std::uint64_t kAckEvery = 16;

// Payload header: [ack wanted: 1 byte][sender's steady clock, ns: 8 bytes],
// then padding up to --size. Acks carry the header back plus the server's
// count of data messages received so far.
constexpr std::size_t kHeader = 9;

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
        .count();
}

std::string make_payload(std::size_t size, bool ack) {
    std::string payload(std::max(size, kHeader), 'x');
    payload[0] = ack ? 1 : 0;
    const std::int64_t t0 = now_ns();
    std::memcpy(payload.data() + 1, &t0, sizeof t0);
    return payload;
}

std::int64_t sent_at(std::string_view payload) {
    std::int64_t t0 = 0;
    if (payload.size() >= kHeader) std::memcpy(&t0, payload.data() + 1, sizeof t0);
    return t0;
}

// The server's side: counts data, acks the flagged ones, echoes requests.
class BenchServer {
public:
    explicit BenchServer(Bus& bus) : data_(bus.connect()), requests_(bus.connect()) {
        must(data_.on_type(kData, [this](const Message& m) {
            const std::uint64_t received = ++received_;
            const std::string_view p = m.payload_view();
            if (p.empty() || p[0] == 0) return;
            std::string ack(p.substr(0, kHeader));
            ack.append(reinterpret_cast<const char*>(&received), sizeof received);
            data_.reply_to(m, Message(kAck, ack));
        }));
        must(requests_.on_type(kRequest, [this](const Message& m) {
            requests_.reply_to(m, Message(kResponse, m.payload_view()));
        }));
    }

private:
    static void must(const Status& s) {
        if (!s) throw CliError(ExitCode::failure, "bench: " + s.error().reason());
    }
    std::atomic<std::uint64_t> received_{0};
    Pod data_;
    Pod requests_;
};

class Progress {
public:
    Progress(std::string label, std::uint64_t total)
        : label_(std::move(label)), total_(total), tty_(::isatty(STDERR_FILENO) != 0) {}
    void update(std::uint64_t done, bool force = false) {
        const auto now = SteadyClock::now();
        if (!tty_ || (!force && now - last_ < std::chrono::milliseconds(100))) return;
        last_ = now;
        constexpr int width = 30;
        const double fraction = total_ == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total_);
        const int filled = static_cast<int>(fraction * width);
        std::fprintf(stderr, "\r%-14s [%s%s] %3d%%  %llu/%llu", label_.c_str(),
                     std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(),
                     static_cast<int>(fraction * 100), static_cast<unsigned long long>(done),
                     static_cast<unsigned long long>(total_));
        std::fflush(stderr);
    }
    void finish(std::uint64_t done) {
        update(done, true);
        if (tty_) std::fputc('\n', stderr);
    }

private:
    std::string label_;
    std::uint64_t total_;
    bool tty_;
    SteadyClock::time_point last_{};
};

struct Figures {
    std::string test;
    std::uint64_t messages = 0;
    std::size_t size = 0;
    double seconds = 0;
    std::vector<double> latencies_us;
    std::string note;
};

double percentile(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return std::nan("");
    const auto index =
        std::min(sorted.size() - 1, static_cast<std::size_t>(q * static_cast<double>(sorted.size())));
    return sorted[index];
}

void print_summary(std::vector<Figures>& rows) {
    print_line("");
    char line[256];
    std::snprintf(line, sizeof line, "%-14s %9s %7s %11s %8s %9s %9s %9s  %s", "test", "messages", "size",
                  "msgs/s", "MB/s", "p50 us", "p99 us", "p999 us", "");
    print_line(line);
    for (auto& r : rows) {
        std::sort(r.latencies_us.begin(), r.latencies_us.end());
        const double rate = r.seconds > 0 ? static_cast<double>(r.messages) / r.seconds : 0;
        std::snprintf(line, sizeof line, "%-14s %9llu %6zuB %11.0f %8.1f %9.1f %9.1f %9.1f  %s",
                      r.test.c_str(), static_cast<unsigned long long>(r.messages), r.size, rate,
                      rate * static_cast<double>(r.size) / 1e6, percentile(r.latencies_us, 0.50),
                      percentile(r.latencies_us, 0.99), percentile(r.latencies_us, 0.999), r.note.c_str());
        print_line(line);
    }
}

struct BenchOptions {
    std::uint64_t messages = 100000;
    std::uint64_t requests = 5000;
    std::size_t size = 128;
    bool serve = false;
    bool remote = false;
    std::chrono::milliseconds wait_peers{5000};
    std::chrono::milliseconds timeout{10000};
};

// What the ack callbacks share with the publishing loop. Shared, because a
// receipt's on_reply keeps listening after the receipt is gone: a late ack
// must not touch a finished stack frame.
struct AckState {
    std::mutex mutex;
    std::vector<double> latencies_us;
    std::atomic<std::uint64_t> server_count{0};
    std::atomic<bool> last_acked{false};
};

Figures bench_pubsub(Pod& pod, const BenchOptions& o, Interrupt& interrupt) {
    Figures f{"pub/sub", o.messages, std::max(o.size, kHeader), 0, {}, "latency: publish + ack round trip"};
    auto state = std::make_shared<AckState>();
    state->latencies_us.reserve(o.messages / kAckEvery + 1);

    Progress progress("pub/sub", o.messages);
    const auto start = SteadyClock::now();
    std::uint64_t i = 0;
    for (; i < o.messages && !interrupt.requested(); ++i) {
        const bool last = i + 1 == o.messages;
        const bool ack = last || i % kAckEvery == 0;
        const Receipt receipt = pod.send(Message(kData, make_payload(o.size, ack)));
        if (ack) {
            receipt.on_reply([state, last](const Message& reply) {
                const double us = static_cast<double>(now_ns() - sent_at(reply.payload_view())) / 1e3;
                std::uint64_t count = 0;
                if (reply.payload_size() >= kHeader + sizeof count)
                    std::memcpy(&count, reply.payload_view().data() + kHeader, sizeof count);
                const std::lock_guard lock(state->mutex);
                state->latencies_us.push_back(us);
                state->server_count.store(std::max(state->server_count.load(), count));
                if (last) state->last_acked.store(true);
            });
        }
        if ((i & 255) == 0) progress.update(i);
    }
    const auto deadline = SteadyClock::now() + o.timeout;
    while (!state->last_acked.load() && SteadyClock::now() < deadline &&
           !interrupt.sleep_for(std::chrono::milliseconds(1))) {}
    f.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    progress.finish(i);
    {
        const std::lock_guard lock(state->mutex);
        f.latencies_us = state->latencies_us;
    }
    if (!state->last_acked.load())
        f.note = "INCOMPLETE: server acknowledged " + std::to_string(state->server_count.load()) + " of " +
                 std::to_string(o.messages);
    return f;
}

Figures bench_requests(Pod& pod, const BenchOptions& o, Interrupt& interrupt) {
    Figures f{"request/reply", 0, std::max(o.size, kHeader), 0, {}, "one at a time, through a tunnel"};
    f.latencies_us.reserve(o.requests);
    Progress progress("request/reply", o.requests);
    const auto start = SteadyClock::now();
    for (std::uint64_t i = 0; i < o.requests && !interrupt.requested(); ++i) {
        const Receipt receipt = pod.tunnel(kCapability, Message(kRequest, make_payload(o.size, false)));
        auto reply = receipt.wait_until(o.timeout);
        if (!reply) {
            f.note = "STOPPED: " + reply.error().what();
            break;
        }
        f.latencies_us.push_back(static_cast<double>(now_ns() - sent_at(reply->payload_view())) / 1e3);
        ++f.messages;
        if ((i & 63) == 0) progress.update(i);
    }
    f.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    progress.finish(f.messages);
    return f;
}

ExitCode run_bench(Context& context, const BenchOptions& o) {
    Interrupt& interrupt = *context.interrupt;
    if (o.serve) {
        Node node(context.network, {kCapability});
        BenchServer server(node.bus());
        node.connect();
        print_note("bench server " + node.describe() + " ready (" + node.discovery_text() +
                   "); run `grav bench --remote` elsewhere; Ctrl-C to stop");
        while (!interrupt.sleep_for(std::chrono::milliseconds(100))) {}
        return ExitCode::ok;
    }

    std::vector<Figures> rows;
    const auto run_both = [&](Bus& bus) {
        Pod pod = bus.connect();
        if (o.messages > 0) rows.push_back(bench_pubsub(pod, o, interrupt));
        if (o.requests > 0 && !interrupt.requested()) rows.push_back(bench_requests(pod, o, interrupt));
    };

    if (o.remote) {
        Node node(context.network, {});
        node.connect();
        const auto waited = node.peers().wait_for_peers(1, kCapability, o.wait_peers, interrupt);
        if (waited == WaitResult::interrupted) return ExitCode::interrupted;
        if (waited == WaitResult::timeout)
            throw CliError(ExitCode::no_peer, "no bench server in view after " +
                                                  std::to_string(o.wait_peers.count()) +
                                                  " ms (start `grav bench --serve` on the other node; " +
                                                  node.discovery_text() + ")");
        print_note("benchmarking against a remote bench server (" + node.discovery_text() + ")");
        run_both(node.bus());
    } else {
        check_metrics_address(context.network.metrics);  // before any node starts
        // Two nodes in this process, joined over real TCP on loopback (no discovery).
        const auto local_bus = [](std::vector<std::string> interests, const std::string& name) {
            zmq::Options transport;
            transport.bind = "tcp://127.0.0.1:0";
            BusOptions options;
            options.transport = zmq::transport(std::move(transport));
            options.interests = std::move(interests);
            options.name = name;
            try {
                return std::make_unique<Bus>(std::move(options));
            } catch (const StartError& e) {
                throw CliError(ExitCode::cannot_start, "cannot start a bench node: " + e.error().reason());
            }
        };
        auto server_bus = local_bus({kCapability}, "bench-server");
        BenchServer server(*server_bus);
        auto client_bus = local_bus({}, "bench-client");
        // --metrics: the measuring node's counters (the one that sends).
        const MetricsServer metrics(*client_bus, context.network.metrics, context.network.verbose);
        if (const Status s = client_bus->connect_endpoint(server_bus->endpoint()); !s)
            throw CliError(ExitCode::failure, "cannot connect the bench nodes: " + s.error().what());
        const auto deadline = SteadyClock::now() + std::chrono::seconds(5);
        while (client_bus->peers().empty() && SteadyClock::now() < deadline &&
               !interrupt.sleep_for(std::chrono::milliseconds(10))) {}
        if (client_bus->peers().empty())
            throw CliError(ExitCode::failure, "the two bench nodes did not connect within 5 s");
        print_note("two nodes in this process over TCP on loopback (" + server_bus->endpoint() +
                   "); --remote measures against `grav bench --serve` elsewhere");
        run_both(*client_bus);
        client_bus->stop();
        server_bus->stop();
    }
    print_summary(rows);
    for (const auto& r : rows)
        if (!r.note.empty() && (r.note.starts_with("INCOMPLETE") || r.note.starts_with("STOPPED")))
            return ExitCode::failure;
    return ExitCode::ok;
}

}  // namespace

void add_bench_command(CLI::App& app, Context& context) {
    auto options = std::make_shared<BenchOptions>();
    CLI::App* cmd =
        app.add_subcommand("bench", "Measure pub/sub and request/reply: messages/s, MB/s, latency");
    add_count_option(*cmd, "--messages", options->messages, "Messages to publish (0: skip pub/sub)", 0);
    add_count_option(*cmd, "--requests", options->requests, "Requests to send (0: skip request/reply)", 0);
    add_count_option(*cmd, "--size", options->size, "Payload bytes (at least 9)", 9);
    auto* serve =
        cmd->add_flag("--serve", options->serve, "Be the bench server for `grav bench --remote` elsewhere");
    auto* remote =
        cmd->add_flag("--remote", options->remote,
                      "Measure against a `grav bench --serve` node found by discovery (or --connect)");
    serve->excludes(remote);
    add_duration_option(*cmd, "--wait-peers", options->wait_peers,
                        "--remote: how long to wait for the server", Zero::allowed);
    add_duration_option(*cmd, "--timeout", options->timeout, "How long to wait for the last ack or a reply",
                        Zero::refused);
    cmd->callback(
        [&context, options] { context.run = [&context, options] { return run_bench(context, *options); }; });
}

}  // namespace grav::cli
