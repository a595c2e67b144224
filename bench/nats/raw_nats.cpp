#include "raw_nats.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>

namespace grav::natsbench {
namespace {

constexpr const char* kFanoutSubject = "rawbench.x";
constexpr const char* kWarmSubject = "rawbench.warm";
constexpr const char* kRequestSubject = "rawbench.req";

void check(natsStatus s, const std::string& what) {
    if (s != NATS_OK) throw std::runtime_error("nats.c " + what + ": " + natstest::status_text(s));
}

// Drains and waits (bounded) until nats.c will not call back again.
void drain(natsSubscription* sub) {
    if (sub == nullptr) return;
    if (natsSubscription_Drain(sub) == NATS_OK) natsSubscription_WaitForDrainCompletion(sub, 5000);
    natsSubscription_Destroy(sub);
}

natsSubscription* subscribe(natsConnection* nc, const char* subject, natsMsgHandler cb, void* self) {
    natsSubscription* sub = nullptr;
    check(natsConnection_Subscribe(&sub, nc, subject, cb, self), std::string("subscribe ") + subject);
    check(natsSubscription_SetPendingLimits(sub, -1, -1), "pending limits");
    check(natsConnection_FlushTimeout(nc, 5000), "flush");
    return sub;
}

void on_error(natsConnection*, natsSubscription*, natsStatus err, void* closure) {
    if (err == NATS_SLOW_CONSUMER && closure != nullptr) {
        static_cast<std::atomic<std::uint64_t>*>(closure)->fetch_add(1, std::memory_order_relaxed);
    }
}

natstest::NatsPtr<natsConnection> raw_connect(const std::string& url, const std::string& name, bool send_asap,
                                              std::atomic<std::uint64_t>* slow_consumer) {
    natsOptions* raw = nullptr;
    check(natsOptions_Create(&raw), "options");
    natstest::NatsPtr<natsOptions> opts(raw);
    const char* servers[] = {url.c_str()};
    // The bridge's own settings (nats_connect.cpp), minus its logging callbacks.
    check(natsOptions_SetServers(opts.get(), servers, 1), "servers");
    check(natsOptions_SetName(opts.get(), name.c_str()), "name");
    check(natsOptions_SetNoEcho(opts.get(), true), "no echo");
    check(natsOptions_SetAllowReconnect(opts.get(), true), "reconnect");
    check(natsOptions_SetMaxReconnect(opts.get(), -1), "reconnect forever");
    check(natsOptions_SetReconnectWait(opts.get(), 250), "reconnect wait");
    check(natsOptions_SetSendAsap(opts.get(), send_asap), "send asap");
    check(natsOptions_SetErrorHandler(opts.get(), &on_error, slow_consumer), "error handler");
    natsConnection* nc = nullptr;
    check(natsConnection_Connect(&nc, opts.get()), "connect to " + url);
    return natstest::NatsPtr<natsConnection>(nc);
}

}  // namespace

natstest::NatsPtr<natsConnection> raw_connect(const std::string& url, const std::string& name,
                                              bool send_asap) {
    return raw_connect(url, name, send_asap, nullptr);
}

RawFanout::RawFanout(const std::string& url, bool send_asap)
    : pub_(raw_connect(url, "raw-pub", send_asap, &slow_consumer_)),
      sub_conn_(raw_connect(url, "raw-sub", send_asap, &slow_consumer_)),
      sub_(subscribe(sub_conn_.get(), "rawbench.>", &RawFanout::on_msg, this)) {}

RawFanout::~RawFanout() { drain(sub_); }

void RawFanout::on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<RawFanout*>(closure);
    const bool warm = natsMsg_GetSubject(msg)[9] == 'w';  // "rawbench.warm"
    natsMsg_Destroy(msg);
    if (warm) {
        self->warm_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    self->last_ns_.store(now_ns(), std::memory_order_relaxed);
    self->arrived_.fetch_add(1, std::memory_order_release);
}

bool RawFanout::warm_up() {
    const auto deadline = Clock::now() + 10s;
    while (Clock::now() < deadline) {
        natsConnection_PublishString(pub_.get(), kWarmSubject, "warm");
        natsConnection_FlushTimeout(pub_.get(), 1000);
        if (wait_arrivals([&] { return warm_.load(); }, 1, 50ms, 50ms) > 0) return true;
    }
    return false;
}

natsStatus RawFanout::publish_with_headers(const std::string& payload, std::uint64_t seq, Headers headers) {
    static const std::string id(36, 'a'), time(19, '1');
    natsMsg* raw = nullptr;
    natsStatus s =
        natsMsg_Create(&raw, kFanoutSubject, nullptr, payload.data(), static_cast<int>(payload.size()));
    if (s != NATS_OK) return s;
    natstest::NatsPtr<natsMsg> msg(raw);
    if (headers == Headers::grav) {
        // Grav: <id> <origin> <time> <bridge> <seq>, made without an allocation, as the bridge makes it.
        static const std::string fixed = id + ' ' + id + ' ' + time + ' ' + id + ' ';
        std::array<char, 160> grav{};
        std::copy(fixed.begin(), fixed.end(), grav.begin());
        *std::to_chars(grav.data() + fixed.size(), grav.data() + grav.size() - 1, seq).ptr = '\0';
        if (s = natsMsgHeader_Set(msg.get(), "Grav", grav.data()); s != NATS_OK) return s;
    } else {
        const std::string seq_text = std::to_string(seq);
        const std::pair<const char*, const char*> six[] = {
            {"Grav-Id", id.c_str()},     {"Grav-Type", "bench.x"},    {"Grav-Origin", id.c_str()},
            {"Grav-Time", time.c_str()}, {"Grav-Bridge", id.c_str()}, {"Grav-Seq", seq_text.c_str()},
        };
        for (const auto& [key, value] : six) {
            if (s = natsMsgHeader_Set(msg.get(), key, value); s != NATS_OK) return s;
        }
    }
    return natsConnection_PublishMsg(pub_.get(), msg.get());
}

FanoutResult RawFanout::run(std::uint64_t count, std::size_t payload_size, Headers headers) {
    const std::string payload(payload_size, 'r');
    arrived_ = 0;
    FanoutResult r;
    r.sent = count;
    const auto cpu0 = thread_cpu_ns();
    const auto t0 = now_ns();
    for (std::uint64_t i = 0; i < count; ++i) {
        const natsStatus s = headers != Headers::none
                                 ? publish_with_headers(payload, i + 1, headers)
                                 : natsConnection_Publish(pub_.get(), kFanoutSubject, payload.data(),
                                                          static_cast<int>(payload.size()));
        if (s != NATS_OK) {
            ++r.send_failed;
        }
    }
    r.send_seconds = static_cast<double>(now_ns() - t0) / 1e9;
    r.send_cpu_us = static_cast<double>(thread_cpu_ns() - cpu0) / 1e3 / static_cast<double>(count);
    natsConnection_FlushTimeout(pub_.get(), 10000);
    r.arrived = wait_arrivals([&] { return arrived_.load(std::memory_order_acquire); }, count, 3s, 60s);
    r.seconds = static_cast<double>(last_ns_.load() - t0) / 1e9;
    return r;
}

RawRtt::RawRtt(const std::string& url, bool send_asap, std::size_t payload_size)
    : payload_(payload_size, 'q'),
      requester_(raw_connect(url, "raw-requester", send_asap)),
      responder_(raw_connect(url, "raw-responder", send_asap)),
      sub_(subscribe(responder_.get(), kRequestSubject, &RawRtt::on_request, this)) {}

RawRtt::~RawRtt() { drain(sub_); }

void RawRtt::on_request(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<RawRtt*>(closure);
    if (const char* reply = natsMsg_GetReply(msg); reply != nullptr) {
        natsConnection_Publish(nc, reply, self->payload_.data(), static_cast<int>(self->payload_.size()));
    }
    natsMsg_Destroy(msg);
}

double RawRtt::once() {
    natsMsg* reply = nullptr;
    const auto t0 = now_ns();
    const natsStatus s = natsConnection_Request(&reply, requester_.get(), kRequestSubject, payload_.data(),
                                                static_cast<int>(payload_.size()), 5000);
    const auto t1 = now_ns();
    natsMsg_Destroy(reply);
    return s == NATS_OK ? static_cast<double>(t1 - t0) / 1e3 : -1;
}

}  // namespace grav::natsbench
