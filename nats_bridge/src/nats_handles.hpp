#pragma once
// RAII owners for nats.c's objects: each is destroyed exactly once, by the
// unique_ptr that holds it.

#include <nats/nats.h>

#include <memory>
#include <string>

namespace grav::nats::detail {

struct OptionsDeleter {
    void operator()(natsOptions* o) const noexcept { natsOptions_Destroy(o); }
};
struct ConnectionDeleter {
    void operator()(natsConnection* c) const noexcept { natsConnection_Destroy(c); }  // closes it first
};
struct SubscriptionDeleter {
    void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }  // drops the interest
};
struct MsgDeleter {
    void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};

struct JsCtxDeleter {
    void operator()(jsCtx* js) const noexcept { jsCtx_Destroy(js); }
};

using OptionsPtr = std::unique_ptr<natsOptions, OptionsDeleter>;
using ConnectionPtr = std::unique_ptr<natsConnection, ConnectionDeleter>;
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;
using JsCtxPtr = std::unique_ptr<jsCtx, JsCtxDeleter>;

// "NATS_CONNECTION_CLOSED: Connection Closed" plus the library's own detail, if any.
inline std::string describe(natsStatus s) {
    std::string out = natsStatus_GetText(s);
    natsStatus last = NATS_OK;
    const char* text = nats_GetLastError(&last);
    if (text != nullptr && *text != '\0' && last == s) out += std::string(" (") + text + ")";
    return out;
}

}  // namespace grav::nats::detail
