#pragma once
// Two sites joined by the NATS bridge on one nats-server: site A is one bus
// with the bridge and the sending pods, site B one bus with the bridge and
// the receiving pods. The buses have a ZeroMQ transport (as a site's node
// has) but no peers: everything that crosses goes through NATS. Without the
// transport (SiteOptions::transport false) they are standalone buses, which
// leaves the bridge's own cost.

#include "bench_util.hpp"

#include <grav/grav.hpp>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace grav::natsbench {

// The bridges' counters that say where messages went, as the difference
// between two snapshots.
struct BridgeCounters {
    std::uint64_t forwarded = 0;       // site A: bridge.forwarded
    std::uint64_t published = 0;       // site A: nats.published
    std::uint64_t publish_failed = 0;  // site A: nats.publish_failed
    std::uint64_t received = 0;        // site B: nats.received
    std::uint64_t injected = 0;        // site B: bridge.injected
    std::uint64_t lost = 0;            // site B: nats.lost (gaps seen, and unsequenced overflow)
    std::uint64_t queue_overflow = 0;  // site B: nats.queue_overflow
    std::uint64_t slow_consumer = 0;   // both: nats.slow_consumer
    std::uint64_t disconnects = 0;     // both: nats.disconnects
    std::uint64_t bridge_lost = 0;     // site B: bridge.lost (what the core was told)
};

struct SiteOptions {
    bool send_asap = true;  // nats::Options::send_asap
    bool transport = true;  // each bus has a ZeroMQ transport on 127.0.0.1
};

class BridgedSites {
public:
    // Throws std::runtime_error when a bus does not start or its bridge
    // does not connect within 15 s.
    BridgedSites(const std::string& url, const SiteOptions& site, std::size_t rtt_payload);
    ~BridgedSites();
    BridgedSites(const BridgedSites&) = delete;
    BridgedSites& operator=(const BridgedSites&) = delete;

    // Sends until site B has one message (its interest has reached NATS),
    // then a round trip until one is answered. False if not within 15 s.
    bool warm_up();
    FanoutResult fanout(std::uint64_t count, std::size_t payload_size, BridgeCounters& counters);
    // One request/reply round trip in microseconds, negative on failure.
    double rtt_once();
    [[nodiscard]] BridgeCounters counters() const;

private:
    std::unique_ptr<Bus> a_, b_;
    std::unique_ptr<Pod> sender_, counter_, warm_, server_;
    std::string rtt_payload_;
    std::atomic<std::uint64_t> arrived_{0}, warm_seen_{0};
    std::atomic<std::int64_t> last_ns_{0};
};

}  // namespace grav::natsbench
