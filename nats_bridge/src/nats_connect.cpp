// Options → a nats.c connection that reconnects forever, and the
// connection's callbacks (they come on nats.c's threads: count and log only).
#include "nats_log.hpp"
#include "nats_bridge.hpp"

#include <vector>

namespace grav::nats::detail {
namespace {

Status check_status(natsStatus s, const std::string& what) {
    if (s == NATS_OK) return success();
    return Error(Errc::invalid_argument, what + ": " + describe(s));
}

NatsBridge* self_of(void* closure) { return static_cast<NatsBridge*>(closure); }

}  // namespace

Result<OptionsPtr> NatsBridge::make_options() {
    natsOptions* raw = nullptr;
    if (auto s = natsOptions_Create(&raw); s != NATS_OK) {
        return Error(Errc::transport_failed, "nats options: " + describe(s));
    }
    OptionsPtr opts(raw);
    std::vector<const char*> servers;
    for (const auto& s : options_.servers) servers.push_back(s.c_str());
    const std::string name = options_.name.empty() ? self_.name : options_.name;
    const struct {
        natsStatus status;
        const char* what;
    } steps[] = {
        {natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size())), "servers"},
        {natsOptions_SetName(opts.get(), name.c_str()), "name"},
        {natsOptions_SetNoRandomize(opts.get(), !options_.randomize_servers), "server order"},
        // A site's own messages never come back to it from NATS.
        {natsOptions_SetNoEcho(opts.get(), true), "no echo"},
        {natsOptions_SetAllowReconnect(opts.get(), true), "reconnect"},
        {natsOptions_SetMaxReconnect(opts.get(), -1), "reconnect forever"},
        {natsOptions_SetReconnectWait(opts.get(), options_.reconnect_wait.count()), "reconnect wait"},
        // NATS down when the bus starts: the bus starts, the bridge connects later.
        {natsOptions_SetRetryOnFailedConnect(opts.get(), true, &NatsBridge::on_connected, this), "retry"},
        {natsOptions_SetSendAsap(opts.get(), options_.send_asap), "send asap"},
        {natsOptions_SetDisconnectedCB(opts.get(), &NatsBridge::on_disconnected, this), "callback"},
        {natsOptions_SetReconnectedCB(opts.get(), &NatsBridge::on_reconnected, this), "callback"},
        {natsOptions_SetClosedCB(opts.get(), &NatsBridge::on_closed, this), "callback"},
        {natsOptions_SetErrorHandler(opts.get(), &NatsBridge::on_error, this), "callback"},
    };
    for (const auto& step : steps) {
        if (auto s = check_status(step.status, std::string("nats option ") + step.what); !s) return s.error();
    }
    if (!options_.user.empty() || !options_.password.empty()) {
        if (auto s = check_status(natsOptions_SetUserInfo(opts.get(), options_.user.c_str(),
                                                          options_.password.c_str()),
                                  "nats user/password");
            !s)
            return s.error();
    }
    if (!options_.token.empty()) {
        if (auto s = check_status(natsOptions_SetToken(opts.get(), options_.token.c_str()), "nats token"); !s)
            return s.error();
    }
    const auto& tls = options_.tls;
    if (tls.enabled || !tls.ca_file.empty() || !tls.cert_file.empty()) {
        if (auto s = check_status(natsOptions_SetSecure(opts.get(), true), "nats TLS"); !s) return s.error();
        if (!tls.ca_file.empty()) {
            if (auto s = check_status(natsOptions_LoadCATrustedCertificates(opts.get(), tls.ca_file.c_str()),
                                      "nats TLS CA file '" + tls.ca_file + "'");
                !s)
                return s.error();
        }
        if (!tls.cert_file.empty() || !tls.key_file.empty()) {
            if (auto s = check_status(natsOptions_LoadCertificatesChain(opts.get(), tls.cert_file.c_str(),
                                                                        tls.key_file.c_str()),
                                      "nats TLS certificate '" + tls.cert_file + "' / key '" + tls.key_file + "'");
                !s)
                return s.error();
        }
    }
    return opts;
}

void NatsBridge::learn_max_payload() {
    if (!conn_) return;
    const auto max = natsConnection_GetMaxPayload(conn_.get());
    if (max > 0) max_payload_.store(max, std::memory_order_relaxed);
}

void NatsBridge::on_connected(natsConnection* nc, void* closure) {
    auto* self = self_of(closure);
    self->connected_ = true;
    self->ever_connected_ = true;
    const auto max = natsConnection_GetMaxPayload(nc);
    if (max > 0) self->max_payload_.store(max, std::memory_order_relaxed);
    log_debug("connected");
}

void NatsBridge::on_disconnected(natsConnection* /*nc*/, void* closure) {
    auto* self = self_of(closure);
    if (self->stopping_) return;
    self->connected_ = false;
    self->disconnects_.fetch_add(1, std::memory_order_relaxed);
    log_warning("disconnected from its server; reconnecting (what other sites "
                              "send meanwhile is counted as lost when it is missed)");
}

void NatsBridge::on_reconnected(natsConnection* nc, void* closure) {
    auto* self = self_of(closure);
    self->connected_ = true;
    self->reconnects_.fetch_add(1, std::memory_order_relaxed);
    const auto max = natsConnection_GetMaxPayload(nc);
    if (max > 0) self->max_payload_.store(max, std::memory_order_relaxed);
    char url[256] = {};
    natsConnection_GetConnectedUrl(nc, url, sizeof url);
    log_warning(std::string("reconnected to ") + url);
}

void NatsBridge::on_closed(natsConnection* nc, void* closure) {
    auto* self = self_of(closure);
    self->connected_ = false;
    if (!self->stopping_) {
        // Only a refusal ends the retries (wrong credentials, TLS): say which, once.
        const char* text = nullptr;
        const natsStatus why = natsConnection_GetLastError(nc, &text);
        log_warning(std::string("connection to NATS closed for good: ") + natsStatus_GetText(why) +
                    (text != nullptr && *text != '\0' ? std::string(" (") + text + ")" : std::string()) +
                    "; this site is no longer bridged");
    }
    // Notified under the lock: stop() may return and destroy the bridge as
    // soon as it can take the lock and sees closed_.
    std::lock_guard lock(self->complete_mutex_);
    self->closed_ = true;
    self->complete_cv_.notify_all();
}

void NatsBridge::on_error(natsConnection* /*nc*/, natsSubscription* /*sub*/, natsStatus err, void* closure) {
    auto* self = self_of(closure);
    if (err == NATS_SLOW_CONSUMER) {
        // The gap shows in the subject's Grav-Seq and is reported as lost then.
        self->slow_consumer_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    log_warning(std::string("") + natsStatus_GetText(err));
}

}  // namespace grav::nats::detail
