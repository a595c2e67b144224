// The bridge's life (start, stop), what it subscribes for its site, and
// what it sends to other sites.
#include "nats_bridge.hpp"

#include "nats_log.hpp"

#include <algorithm>
#include <chrono>
#include <set>

namespace grav::nats {

std::unique_ptr<Bridge> bridge(Options options) {
    std::vector<TypePattern> types;
    for (const auto& text : options.types) {
        auto p = TypePattern::parse(text);
        // Kept as is: start() refuses the options with this pattern's reason.
        if (p) types.push_back(std::move(p).value());
    }
    return std::make_unique<detail::NatsBridge>(std::move(options), std::move(types));
}

}  // namespace grav::nats

namespace grav::nats::detail {
namespace {

constexpr std::size_t kPendingTunnels = 65536;  // requests that may still hear "no responders"

}  // namespace

NatsBridge::NatsBridge(Options options, std::vector<TypePattern> types)
    : options_(std::move(options)), types_(std::move(types)), queue_(std::max<std::size_t>(1, options_.queue_capacity)) {}

NatsBridge::~NatsBridge() { stop(); }

Status NatsBridge::start(const LocalNode& self, BridgeEvents& events) {
    if (options_.servers.empty()) return Error(Errc::invalid_argument, "nats bridge: no server URL given");
    if (options_.types.empty()) return Error(Errc::invalid_argument, "nats bridge: no types to bridge given");
    for (const auto& text : options_.types) {
        if (auto p = TypePattern::parse(text); !p) {
            return Error(Errc::invalid_argument, "nats bridge: " + p.error().reason());
        }
    }
    if (options_.queue_capacity == 0) return Error(Errc::invalid_argument, "nats bridge: queue_capacity is 0");
    auto subjects = Subjects::for_group(self.belongs_to);
    if (!subjects) return Error(Errc::invalid_argument, "nats bridge: " + subjects.error().reason());
    subjects_ = std::move(subjects).value();
    if (options_.durable.enabled) {
        if (auto d = check_durable_options(*subjects_); !d) return d;
    }
    self_ = self;
    events_ = &events;
    auto opts = make_options();
    if (!opts) return opts.error();
    natsConnection* raw = nullptr;
    const natsStatus s = natsConnection_Connect(&raw, opts->get());
    if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
        if (raw != nullptr) natsConnection_Destroy(raw);
        return Error(Errc::transport_failed, "nats bridge: cannot connect to " + options_.servers.front() + ": " +
                                                 describe(s));
    }
    conn_.reset(raw);
    if (options_.durable.enabled) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = kJetStreamWait.count();
        jsCtx* js = nullptr;
        if (const natsStatus j = natsConnection_JetStream(&js, conn_.get(), &jo); j != NATS_OK) {
            conn_.reset();
            return Error(Errc::transport_failed, "nats bridge: no JetStream context: " + describe(j));
        }
        js_.reset(js);
    }
    if (s == NATS_OK) {
        connected_ = true;
        ever_connected_ = true;
        learn_max_payload();
    } else {
        log_warning("not connected to NATS yet (" + options_.servers.front() +
                    (options_.servers.size() > 1 ? ", ..." : "") +
                    "): serving this site, connecting in the background; until then messages for other sites are "
                    "not sent (counted in nats.publish_failed)");
    }
    thread_ = std::thread([this] { run(); });
    if (options_.durable.enabled) durable_thread_ = std::thread([this] { run_durable(); });
    std::lock_guard lock(subs_mutex_);
    subscribe_locked(Subjects::inbox_pattern(self_.id), nullptr);
    return success();
}

void NatsBridge::stop() {
    if (!conn_ || stopping_.exchange(true)) return;
    // The durable thread hands over and acks what it fetched, then ends
    // (bounded by one fetch and one batch); its acks go out with the flush.
    wake_durable();
    if (durable_thread_.joinable()) durable_thread_.join();
    // What was published goes out first (bounded), then nothing comes in.
    natsConnection_FlushTimeout(conn_.get(), options_.flush_timeout.count());
    {
        std::lock_guard lock(subs_mutex_);
        for (auto& [subject, sub] : subs_) natsSubscription_Unsubscribe(sub.get());
    }
    natsConnection_Close(conn_.get());
    {
        // Every callback into this object has returned before it goes away.
        std::unique_lock lock(complete_mutex_);
        complete_cv_.wait_for(lock, std::chrono::seconds(5), [&] { return live_subs_ == 0 && closed_; });
    }
    queue_.close();
    if (thread_.joinable()) thread_.join();
    std::lock_guard lock(subs_mutex_);
    subs_.clear();
    pull_.reset();
    js_.reset();
    // conn_ stays until the destructor: a send racing with stop() meets a
    // closed connection (an error), never a destroyed one.
}

Status NatsBridge::check(const Message& message) const { return check(message, false); }

Status NatsBridge::check(const Message& message, bool typed) const {
    if (auto s = check_type(message.type()); !s) {
        return Error(Errc::rejected, "cannot cross to other sites: " + s.error().reason() +
                                         " (a bridged type must be a valid NATS subject)");
    }
    const auto size = encoded_size(message, typed,
                                   options_.durable.enabled ? options_.durable.consumer : std::string_view());
    const auto max = max_payload_.load(std::memory_order_relaxed);
    if (static_cast<std::int64_t>(size) > max) {
        return Error(Errc::rejected, "message of type '" + message.type() + "' is " + std::to_string(size) +
                                         " bytes with its headers, more than the NATS servers' max_payload of " +
                                         std::to_string(max) + " bytes: not sent anywhere");
    }
    return success();
}

void NatsBridge::update_site(const BridgeSite& site) {
    std::lock_guard lock(subs_mutex_);
    site_ = site;
    site_active_ = site.active;
    if (!stopping_) reconcile_locked();
    wake_durable();
}

void NatsBridge::reconcile_locked() {
    // subject -> queue group ("" for none)
    std::map<std::string, std::string> wanted;
    wanted[Subjects::inbox_pattern(self_.id)] = "";
    if (site_.active) {
        // Durable mode reads the stream instead (nats_durable.cpp).
        if (!options_.durable.enabled) {
            for (const auto& p : types_) wanted[subjects_->message_pattern(p)] = "";
        }
        for (const auto& node : site_.nodes) wanted[subjects_->node(node)] = "";
        for (const auto& cap : site_.capabilities) {
            if (auto s = check_type(cap); !s) {
                log_warning("capability '" + cap + "' cannot be a NATS subject: not offered to other sites");
                continue;
            }
            // One queue group per capability across every site: each request reaches one of them.
            wanted[subjects_->tunnel(cap)] = subjects_->tunnel(cap);
        }
    }
    for (auto it = subs_.begin(); it != subs_.end();) {
        if (wanted.count(it->first) == 0) {
            natsSubscription_Unsubscribe(it->second.get());
            it = subs_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [subject, queue] : wanted) {
        if (subs_.count(subject) == 0) subscribe_locked(subject, queue.empty() ? nullptr : queue.c_str());
    }
}

bool NatsBridge::subscribe_locked(const std::string& subject, const char* queue) {
    if (natsConnection_IsClosed(conn_.get())) return false;  // on_closed said why
    natsSubscription* raw = nullptr;
    const natsStatus s = queue != nullptr
                             ? natsConnection_QueueSubscribe(&raw, conn_.get(), subject.c_str(), queue,
                                                             &NatsBridge::on_msg, this)
                             : natsConnection_Subscribe(&raw, conn_.get(), subject.c_str(), &NatsBridge::on_msg, this);
    if (s != NATS_OK) {
        log_warning("cannot subscribe '" + subject + "': " + describe(s));
        return false;
    }
    SubscriptionPtr sub(raw);
    {
        std::lock_guard lock(complete_mutex_);
        ++live_subs_;
    }
    natsSubscription_SetOnCompleteCB(sub.get(), &NatsBridge::on_sub_complete, this);
    // nats.c's own limit is ours too: the callback never waits, so only a stall of this process reaches it.
    natsSubscription_SetPendingLimits(sub.get(), -1, -1);
    subs_.emplace(subject, std::move(sub));
    return true;
}

Status NatsBridge::send(const std::string& subject, const char* reply, const Message& message, Route route) {
    if (stopping_) return Error(Errc::closed, "the nats bridge is stopped");
    // Once connected, nats.c buffers what is sent while it reconnects; before, it cannot.
    if (!ever_connected_) {
        publish_failed_.fetch_add(1, std::memory_order_relaxed);
        return Error(Errc::transport_failed, "not connected to any NATS server yet");
    }
    const bool counted = route == Route::publish;
    // A publication was checked by the core before anyone had it (Bridge::publish).
    if (!counted) {
        if (auto s = check(message, true); !s) {
            publish_failed_.fetch_add(1, std::memory_order_relaxed);
            return s;
        }
    }
    // Durable: a published message carries its id for the stream's duplicate
    // check, and asks for the stream's ack (on_pub_ack) so that a message the
    // stream refuses is counted, without waiting for it (order, no blocking).
    const bool durable = counted && options_.durable.enabled;
    if (durable && !stream_ready_) {
        publish_failed_.fetch_add(1, std::memory_order_relaxed);
        return Error(Errc::transport_failed, "the durable stream '" + stream_name_ + "' is not ready yet");
    }
    const std::string ack_inbox = durable ? Subjects::inbox(self_.id, message.id()) : std::string();
    natsStatus s = NATS_OK;
    {
        std::lock_guard lock(out_mutex_);
        std::uint64_t* seq = counted ? &seq_[subject] : nullptr;
        Envelope envelope{self_.id, seq != nullptr ? *seq + 1 : 0,
                          durable ? options_.durable.consumer : std::string()};
        auto msg = encode(subject.c_str(), durable ? ack_inbox.c_str() : reply, message, envelope, !counted);
        if (!msg) {
            s = NATS_NO_MEMORY;
        } else {
            s = natsConnection_PublishMsg(conn_.get(), msg.get());
            // A write that met a broken connection puts nats.c into
            // reconnecting, where it buffers: once more, with the same count
            // (should both copies arrive, the receivers drop the second).
            if (s == NATS_IO_ERROR || s == NATS_CONNECTION_DISCONNECTED) {
                s = natsConnection_PublishMsg(conn_.get(), msg.get());
            }
            // The count is used up even when the publish failed: the gap then
            // shows on every receiving site, which reports it lost.
            if (seq != nullptr) *seq = envelope.seq;
        }
    }
    if (s != NATS_OK) {
        publish_failed_.fetch_add(1, std::memory_order_relaxed);
        return Error(Errc::transport_failed, "nats publish on '" + subject + "': " + describe(s));
    }
    published_.fetch_add(1, std::memory_order_relaxed);
    return success();
}

void NatsBridge::publish(MessagePtr message) {
    // The subject's buffer is kept by the thread: a publish allocates none.
    thread_local std::string subject;
    subjects_->message_into(subject, message->type());
    if (auto s = send(subject, nullptr, *message, Route::publish); !s) {
        log_warning("message " + message->id().short_str() + " not sent to other sites: " + s.error().what());
    }
}

void NatsBridge::send_to(const NodeId& node, MessagePtr message, SendDone done) {
    auto s = send(subjects_->node(node), nullptr, *message, Route::direct);
    if (done) done(std::move(s));
}

void NatsBridge::tunnel(const std::string& capability, MessagePtr message, SendDone done) {
    if (auto s = check_type(capability); !s) {
        if (done) done(Error(Errc::invalid_argument, "capability " + s.error().reason().substr(5)));
        return;
    }
    const std::string id = message->id().str();
    {
        std::lock_guard lock(tunnels_mutex_);
        tunnels_[id] = PendingTunnel{capability, done};
        tunnel_order_.push_back(id);
        while (tunnel_order_.size() > kPendingTunnels) {
            tunnels_.erase(tunnel_order_.front());
            tunnel_order_.pop_front();
        }
    }
    // The reply subject is only for the server's "no responders": the reply
    // itself comes to the requesting node's subject, as every reply does.
    const std::string inbox = Subjects::inbox(self_.id, message->id());
    if (auto s = send(subjects_->tunnel(capability), inbox.c_str(), *message, Route::direct); !s) {
        {
            std::lock_guard lock(tunnels_mutex_);
            tunnels_.erase(id);
        }
        if (done) done(std::move(s));
    }
}

std::vector<MetricInfo> NatsBridge::describe_metrics() const {
    using enum MetricKind;
    return {
        {"nats.connected", gauge, "1 while connected to a NATS server, else 0"},
        {"nats.published", counter, "Messages published to NATS"},
        {"nats.publish_failed", counter, "Publishes to NATS that failed"},
        {"nats.received", counter, "Messages received from NATS"},
        {"nats.delivered_inline", counter, "Of those, delivered on the NATS callback's thread"},
        {"nats.queue_overflow", counter, "Messages from NATS dropped because the bridge's queue was full"},
        {"nats.duplicates", counter, "Messages from NATS seen again (dropped)"},
        {"nats.decode_failed", counter, "Messages from NATS that did not decode"},
        {"nats.disconnects", counter, "Times the connection to NATS was lost"},
        {"nats.reconnects", counter, "Times the connection to NATS came back"},
        {"nats.slow_consumer", counter, "Times the NATS client reported a slow consumer"},
        {"nats.lost", counter, "Messages from other sites that will never arrive"},
        {"nats.no_responders", counter, "Tunnel requests no site answered"},
        {"nats.stream_ready", gauge, "1 while the durable stream is ready, else 0"},
        {"nats.unstored", counter, "Messages the durable stream did not store"},
    };
}

std::map<std::string, std::uint64_t> NatsBridge::stats() const {
    auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    return {
        {"nats.connected", connected_ ? 1 : 0},
        {"nats.published", get(published_)},
        {"nats.publish_failed", get(publish_failed_)},
        {"nats.received", get(received_)},
        {"nats.delivered_inline", get(delivered_inline_)},
        {"nats.queue_overflow", get(queue_overflow_)},
        {"nats.duplicates", get(duplicates_)},
        {"nats.decode_failed", get(decode_failed_)},
        {"nats.disconnects", get(disconnects_)},
        {"nats.reconnects", get(reconnects_)},
        {"nats.slow_consumer", get(slow_consumer_)},
        {"nats.lost", get(lost_) + get(unsequenced_overflow_)},
        {"nats.no_responders", get(no_responders_)},
        {"nats.stream_ready", stream_ready_ ? 1 : 0},
        {"nats.unstored", get(unstored_)},
    };
}

}  // namespace grav::nats::detail
