#include "nats_client.hpp"

#include <stdexcept>

namespace grav::natstest {

std::string status_text(natsStatus status) {
    std::string text = natsStatus_GetText(status);
    if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0')
        text += ": " + std::string(last);
    return text;
}

Connected connect_client(const ClientOptions& options) {
    Connected result;
    natsOptions* raw = nullptr;
    result.status = natsOptions_Create(&raw);
    NatsPtr<natsOptions> opts(raw);
    std::vector<const char*> servers;
    for (const auto& u : options.urls) servers.push_back(u.c_str());
    if (result.status == NATS_OK) {
        result.status = natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size()));
    }
    if (result.status == NATS_OK) result.status = natsOptions_SetNoRandomize(opts.get(), true);
    if (result.status == NATS_OK)
        result.status = natsOptions_SetMaxReconnect(opts.get(), options.max_reconnect);
    if (result.status == NATS_OK)
        result.status = natsOptions_SetReconnectWait(opts.get(), options.reconnect_wait.count());
    if (result.status == NATS_OK) result.status = natsOptions_SetReconnectJitter(opts.get(), 0, 0);
    if (result.status == NATS_OK) result.status = natsOptions_SetTimeout(opts.get(), options.timeout.count());
    if (result.status == NATS_OK && !options.user.empty()) {
        result.status = natsOptions_SetUserInfo(opts.get(), options.user.c_str(), options.password.c_str());
    }
    if (result.status == NATS_OK && !options.token.empty()) {
        result.status = natsOptions_SetToken(opts.get(), options.token.c_str());
    }
    natsConnection* connection = nullptr;
    if (result.status == NATS_OK) result.status = natsConnection_Connect(&connection, opts.get());
    result.connection.reset(connection);
    if (result.status != NATS_OK) {
        result.error = status_text(result.status);
        result.connection.reset();
    }
    return result;
}

std::string connected_url(natsConnection* connection) {
    char buffer[256] = {};
    if (natsConnection_GetConnectedUrl(connection, buffer, sizeof buffer) != NATS_OK) return "";
    return buffer;
}

Subscriber::Subscriber(natsConnection* connection, const std::string& subject) {
    natsStatus s =
        natsConnection_Subscribe(&subscription_, connection, subject.c_str(), &Subscriber::on_message, this);
    if (s == NATS_OK) s = natsSubscription_SetOnCompleteCB(subscription_, &Subscriber::on_complete, this);
    if (s == NATS_OK) s = natsConnection_FlushTimeout(connection, 2000);
    if (s != NATS_OK) {
        const std::string why = status_text(s);
        natsSubscription_Destroy(subscription_);  // no callback set or none yet: nothing to wait for
        throw std::runtime_error("subscribe to " + subject + ": " + why);
    }
}

Subscriber::~Subscriber() {
    // Fails harmlessly when the connection is closed already (it closed the subscription).
    natsSubscription_Unsubscribe(subscription_);
    {
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::chrono::seconds(5), [&] { return complete_; });
    }
    natsSubscription_Destroy(subscription_);
}

void Subscriber::on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
    auto* me = static_cast<Subscriber*>(self);
    const NatsPtr<natsMsg> owned(msg);
    {
        std::lock_guard lock(me->mutex_);
        me->payloads_.emplace_back(natsMsg_GetData(msg),
                                   static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    }
    me->changed_.notify_all();
}

void Subscriber::on_complete(void* self) {
    auto* me = static_cast<Subscriber*>(self);
    // Notified under the lock: once it is released the destructor may run,
    // so nothing here touches `me` after that.
    std::lock_guard lock(me->mutex_);
    me->complete_ = true;
    me->changed_.notify_all();
}

bool Subscriber::wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return payloads_.size() >= count; });
}

std::size_t Subscriber::count() const {
    std::lock_guard lock(mutex_);
    return payloads_.size();
}

std::vector<std::string> Subscriber::payloads() const {
    std::lock_guard lock(mutex_);
    return payloads_;
}

}  // namespace grav::natstest
