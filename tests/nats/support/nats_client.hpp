#pragma once
// nats.c, the reference C client, as the tests' independent NATS peer:
// owning handles, a connect with test-friendly reconnect settings, and a
// subscriber that records what arrives. Every wait is bounded.

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grav::natstest {

struct NatsFree {
    void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
    void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
    void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
    void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
    void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
    void operator()(jsPubAck* ack) const { jsPubAck_Destroy(ack); }
};
template <typename T>
using NatsPtr = std::unique_ptr<T, NatsFree>;

struct ClientOptions {
    std::vector<std::string> urls{};  // tried in this order (no randomising)
    std::string user{}, password{};   // both set: sent as user info
    std::string token{};
    int max_reconnect = 100;                       // attempts per outage
    std::chrono::milliseconds reconnect_wait{50};  // between attempts to one server
    std::chrono::milliseconds timeout{2000};       // connect timeout
};

struct Connected {
    NatsPtr<natsConnection> connection;  // null on failure
    natsStatus status = NATS_OK;
    std::string error;  // status text and nats.c's last error, on failure
};
Connected connect_client(const ClientOptions& options);

// The URL the connection is on now, "" when none.
std::string connected_url(natsConnection* connection);

// A status as text with nats.c's last error detail.
std::string status_text(natsStatus status);

// An asynchronous subscription recording every payload it receives (on
// nats.c's delivery thread). The destructor unsubscribes and waits (bounded)
// until nats.c says the handler will not run again, so the recorder outlives
// every callback.
class Subscriber {
public:
    // Throws std::runtime_error with nats.c's reason on failure. Flushes, so
    // the server has the interest when this returns (its routes may not yet).
    Subscriber(natsConnection* connection, const std::string& subject);
    ~Subscriber();
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    // True once at least `count` messages arrived, within `timeout`.
    bool wait_for(std::size_t count, std::chrono::milliseconds timeout);
    [[nodiscard]] std::size_t count() const;
    [[nodiscard]] std::vector<std::string> payloads() const;

private:
    static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* self);
    static void on_complete(void* self);

    natsSubscription* subscription_ = nullptr;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::string> payloads_;
    bool complete_ = false;
};

// Publishes "<prefix><k>" on `subject` every `interval` until `done()` or the
// timeout; true when done. Interest crosses routes asynchronously, so a
// message to a subscriber on another server is repeated until it arrives.
template <typename Done>
bool publish_until(natsConnection* connection, const std::string& subject, const std::string& prefix,
                   Done done, std::chrono::milliseconds timeout = std::chrono::seconds(5),
                   std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int k = 0; std::chrono::steady_clock::now() < deadline; ++k) {
        natsConnection_PublishString(connection, subject.c_str(), (prefix + std::to_string(k)).c_str());
        natsConnection_FlushTimeout(connection, 1000);
        const auto until = std::chrono::steady_clock::now() + interval;
        while (std::chrono::steady_clock::now() < until) {
            if (done()) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }
    return done();
}

}  // namespace grav::natstest
