#pragma once
// The baseline: plain nats.c on the same server, with the client options the
// bridge sets for itself (nats_bridge/src/nats_connect.cpp), send-asap
// included, and subscriptions with no pending limits, as the bridge's.

#include "bench_util.hpp"

#include "nats_client.hpp"

#include <atomic>
#include <string>
#include <vector>

namespace grav::natsbench {

// A nats.c connection as the bridge makes its own. Throws std::runtime_error
// with nats.c's reason on failure.
natstest::NatsPtr<natsConnection> raw_connect(const std::string& url, const std::string& name,
                                              bool send_asap);

// Publisher and asynchronous subscriber, each on its own connection.
class RawFanout {
public:
    RawFanout(const std::string& url, bool send_asap);
    ~RawFanout();
    RawFanout(const RawFanout&) = delete;
    RawFanout& operator=(const RawFanout&) = delete;

    // Publishes until the subscriber has one (false if not within 10 s).
    bool warm_up();
    // How the raw publisher sends: natsConnection_Publish (none), or each
    // message a natsMsg with headers of the bridge's names and sizes
    // (nats_bridge/src/nats_codec.cpp: one Grav header), or the six headers
    // the bridge sent before (Grav-Id, -Type, -Origin, -Time, -Bridge,
    // -Seq), to tell the cost of NATS headers in nats.c from the bridge's own.
    enum class Headers { none, grav, six };
    FanoutResult run(std::uint64_t count, std::size_t payload_size, Headers headers = Headers::none);
    [[nodiscard]] std::uint64_t slow_consumer() const { return slow_consumer_.load(); }

private:
    static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* self);
    natsStatus publish_with_headers(const std::string& payload, std::uint64_t seq, Headers headers);

    // Before the connections and the subscription, whose callbacks use them.
    std::atomic<std::uint64_t> arrived_{0}, warm_{0}, slow_consumer_{0};
    std::atomic<std::int64_t> last_ns_{0};
    natstest::NatsPtr<natsConnection> pub_, sub_conn_;
    natsSubscription* sub_;
};

// Requester (natsConnection_Request) and a responder (an asynchronous
// subscription that publishes the reply), each on its own connection.
class RawRtt {
public:
    RawRtt(const std::string& url, bool send_asap, std::size_t payload_size);
    ~RawRtt();
    RawRtt(const RawRtt&) = delete;
    RawRtt& operator=(const RawRtt&) = delete;

    // One round trip in microseconds, or a negative value on failure.
    double once();

private:
    static void on_request(natsConnection* nc, natsSubscription*, natsMsg* msg, void* self);

    std::string payload_;
    natstest::NatsPtr<natsConnection> requester_, responder_;
    natsSubscription* sub_;
};

}  // namespace grav::natsbench
