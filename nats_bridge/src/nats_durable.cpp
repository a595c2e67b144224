// Durable mode (Options::durable): the group's published messages are kept
// in one JetStream stream, and each site reads it through one durable pull
// consumer named for the site, on the durable thread:
//
//   connected and active ─▶ ensure the stream ─▶ settle ─▶ bind the consumer ─▶ fetch a batch
//        ─▶ per message: DurableCheck (stream sequence), hand to the core, ack ─▶ fetch ...
//
// Invariants: a message is acked only after it was handed to the core (or
// found not to be this site's), so what a bridge did not hand over stays in
// the stream for the next one; a clean stop hands over and acks the whole
// batch it fetched; every JetStream call is bounded (kJetStreamWait) and made
// on this thread only, never while the bus starts.
//
// Trade-off: the consumer reads every message of the group (its filter is
// the stream's whole subject space), and the bridge drops what its site does
// not carry. That costs bandwidth for sites carrying few types, and buys an
// exact loss check: the stream sequences it sees are consecutive unless the
// stream removed messages first.
#include "nats_bridge.hpp"
#include "nats_log.hpp"

#include <algorithm>
#include <memory>

namespace grav::nats::detail {
namespace {

constexpr int kBatch = 256;                              // messages per fetch
constexpr std::chrono::milliseconds kFetchWait{250};     // a fetch's longest wait (stop waits for it)
constexpr std::chrono::milliseconds kIdleWait{250};      // re-check while disconnected or standby
constexpr std::chrono::seconds kAckWait{30};             // the server redelivers what is unacked after this
constexpr std::int64_t kMaxAckPending = 4 * kBatch;
constexpr std::chrono::milliseconds kHandOverWait{3000};  // for the site's previous active bridge to ack its batch

struct ConsumerInfoDeleter {
    void operator()(jsConsumerInfo* ci) const noexcept { jsConsumerInfo_Destroy(ci); }
};
using ConsumerInfoPtr = std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter>;

std::int64_t nanos(std::chrono::nanoseconds d) { return d.count(); }

bool valid_name(const std::string& name) {
    return !name.empty() && name.find_first_of(".*> \t\r\n/\\") == std::string::npos;
}

std::string why(natsStatus s, jsErrCode code) {
    return describe(s) + (code != 0 ? " (JetStream error " + std::to_string(static_cast<int>(code)) + ")" : "");
}

}  // namespace

Status NatsBridge::check_durable_options(const Subjects& subjects) {
    const auto& d = options_.durable;
    if (d.consumer.empty()) {
        return Error(Errc::invalid_argument,
                     "nats bridge: durable mode needs durable.consumer, a name stable per site (\"site-a\")");
    }
    stream_name_ = d.stream.empty() ? "GRAV_" + subjects.token() : d.stream;
    if (!valid_name(d.consumer)) {
        return Error(Errc::invalid_argument, "nats bridge: durable.consumer '" + d.consumer +
                                                 "' cannot be a JetStream name (no '.', '*', '>', '/', '\\\\' or "
                                                 "white space)");
    }
    if (!valid_name(stream_name_)) {
        return Error(Errc::invalid_argument, "nats bridge: durable.stream '" + stream_name_ +
                                                 "' cannot be a JetStream name (no '.', '*', '>', '/', '\\\\' or "
                                                 "white space)");
    }
    if (d.max_age.count() <= 0) return Error(Errc::invalid_argument, "nats bridge: durable.max_age must be > 0");
    if (d.duplicate_window.count() <= 0 || d.duplicate_window > d.max_age) {
        return Error(Errc::invalid_argument, "nats bridge: durable.duplicate_window must be > 0 and <= max_age");
    }
    if (d.settle.count() < 0) return Error(Errc::invalid_argument, "nats bridge: durable.settle is negative");
    return success();
}

void NatsBridge::wait_durable(std::chrono::milliseconds timeout) {
    std::unique_lock lock(durable_mutex_);
    durable_cv_.wait_for(lock, timeout, [&] { return durable_woken_ || stopping_.load(); });
    durable_woken_ = false;
}

void NatsBridge::wake_durable() {
    {
        std::lock_guard lock(durable_mutex_);
        durable_woken_ = true;
    }
    durable_cv_.notify_all();
}

void NatsBridge::durable_trouble(const std::string& what) {
    if (what == durable_trouble_) return;
    durable_trouble_ = what;
    log_warning(what);
}

void NatsBridge::run_durable() {
    const auto retry = std::max(options_.reconnect_wait, std::chrono::milliseconds(50));
    bool bound = false;
    bool was_active = false;
    auto settled_at = std::chrono::steady_clock::now();
    while (!stopping_) {
        const bool active = site_active_;
        if (!connected_ || !active) {
            // Standby or cut off: another bridge of the site (or this one, later) goes on from the ack floor.
            pull_.reset();
            bound = false;
            was_active = active;
            wait_durable(kIdleWait);
            continue;
        }
        if (!was_active) {
            was_active = true;
            settled_at = std::chrono::steady_clock::now() + options_.durable.settle;
        }
        if (!stream_ready_ && !ensure_stream()) {
            wait_durable(retry);
            continue;
        }
        if (const auto now = std::chrono::steady_clock::now(); now < settled_at) {
            wait_durable(std::chrono::duration_cast<std::chrono::milliseconds>(settled_at - now) +
                         std::chrono::milliseconds(1));
            continue;
        }
        if (!bound) {
            if (!bind_consumer()) {
                wait_durable(retry);
                continue;
            }
            bound = true;
        }
        natsMsgList list{};
        jsErrCode code{};
        const natsStatus s = natsSubscription_Fetch(&list, pull_.get(), kBatch, kFetchWait.count(), &code);
        if (s == NATS_OK) {
            // The whole batch, even when stopping: nothing fetched stays unacked.
            for (int i = 0; i < list.Count; ++i) take(list.Msgs[i]);
            natsMsgList_Destroy(&list);
            continue;
        }
        if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) continue;  // nothing new
        if (!connected_ || stopping_) continue;
        durable_trouble("reading the durable consumer '" + options_.durable.consumer + "': " + why(s, code) +
                        "; binding again");
        pull_.reset();
        bound = false;
        stream_ready_ = false;
        wait_durable(retry);
    }
}

bool NatsBridge::ensure_stream() {
    const auto& d = options_.durable;
    const std::string subject = subjects_->all_messages();
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream_name_.c_str();
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Discard = js_DiscardOld;
    cfg.MaxAge = nanos(d.max_age);
    cfg.Duplicates = nanos(d.duplicate_window);
    jsStreamInfo* info = nullptr;
    jsErrCode code{};
    natsStatus s = js_AddStream(&info, js_.get(), &cfg, nullptr, &code);
    if (s != NATS_OK && code == JSStreamNameExistErr) {
        // Made by another bridge with other limits: the last bridge to connect sets them.
        code = {};
        s = js_UpdateStream(&info, js_.get(), &cfg, nullptr, &code);
    }
    if (info != nullptr) jsStreamInfo_Destroy(info);
    if (s != NATS_OK) {
        durable_trouble("cannot create the durable stream '" + stream_name_ + "' on '" + subject + "': " +
                        why(s, code) + "; messages for other sites are not sent until it exists");
        return false;
    }
    durable_trouble_.clear();
    stream_ready_ = true;
    log_debug("durable stream '" + stream_name_ + "' ready");
    return true;
}

bool NatsBridge::create_consumer(std::uint64_t start_seq) {
    const std::string subject = subjects_->all_messages();
    jsConsumerConfig cfg;
    jsConsumerConfig_Init(&cfg);
    cfg.Durable = options_.durable.consumer.c_str();
    cfg.FilterSubject = subject.c_str();
    cfg.AckPolicy = js_AckExplicit;
    cfg.AckWait = nanos(kAckWait);
    cfg.MaxAckPending = kMaxAckPending;
    // A new site starts with what is published from now on; a recovered one where it was.
    cfg.DeliverPolicy = start_seq != 0 ? js_DeliverByStartSequence : js_DeliverNew;
    cfg.OptStartSeq = start_seq;
    jsConsumerInfo* info = nullptr;
    jsErrCode code{};
    const natsStatus s = js_AddConsumer(&info, js_.get(), stream_name_.c_str(), &cfg, nullptr, &code);
    if (info != nullptr) jsConsumerInfo_Destroy(info);
    if (s != NATS_OK) {
        durable_trouble("cannot create the durable consumer '" + options_.durable.consumer + "': " + why(s, code));
        return false;
    }
    return true;
}

bool NatsBridge::bind_consumer() {
    const auto& name = options_.durable.consumer;
    auto read = [&](ConsumerInfoPtr& out, jsErrCode& code) {
        jsConsumerInfo* raw = nullptr;
        code = {};
        const natsStatus s = js_GetConsumerInfo(&raw, js_.get(), stream_name_.c_str(), name.c_str(), nullptr, &code);
        out.reset(raw);
        return s;
    };
    ConsumerInfoPtr info;
    jsErrCode code{};
    natsStatus s = read(info, code);
    if (s == NATS_NOT_FOUND || code == JSConsumerNotFoundErr) {
        if (!create_consumer(resume_from_)) return false;
        s = read(info, code);
    }
    if (s != NATS_OK || !info) {
        durable_trouble("cannot read the durable consumer '" + name + "': " + why(s, code));
        return false;
    }
    // Fetched by a bridge of this site and not acked: the one that just gave
    // up its turn acks its batch within moments; one that crashed never will
    // (the server would redeliver them after the ack wait, behind newer ones).
    const auto deadline = std::chrono::steady_clock::now() + kHandOverWait;
    while (info->NumAckPending > 0 && std::chrono::steady_clock::now() < deadline && !stopping_) {
        wait_durable(std::chrono::milliseconds(100));
        if (read(info, code) != NATS_OK || !info) return false;
    }
    if (stopping_) return false;
    if (info->NumAckPending > 0) {
        const std::uint64_t from = info->AckFloor.Stream + 1;
        log_warning(std::to_string(info->NumAckPending) + " message(s) of durable consumer '" + name +
                    "' were fetched by a bridge of this site that never acked them (did it crash?): reading again "
                    "from stream sequence " + std::to_string(from) + "; the site's pods may get those twice");
        resume_from_ = from;
        jsErrCode del{};
        const natsStatus d = js_DeleteConsumer(js_.get(), stream_name_.c_str(), name.c_str(), nullptr, &del);
        if (d != NATS_OK && d != NATS_NOT_FOUND && del != JSConsumerNotFoundErr) {
            durable_trouble("cannot recreate the durable consumer '" + name + "': " + why(d, del));
            return false;
        }
        if (!create_consumer(from)) return false;
        if (read(info, code) != NATS_OK || !info) return false;
    }
    resume_from_ = 0;
    // Nothing is pending now, so the floor is also the last delivered (for a
    // new consumer: the stream's last sequence when it was made).
    durable_check_.start_from(std::max(info->AckFloor.Stream, info->Delivered.Stream));
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream_name_.c_str();
    so.Consumer = name.c_str();
    natsSubscription* raw = nullptr;
    const std::string subject = subjects_->all_messages();
    s = js_PullSubscribe(&raw, js_.get(), subject.c_str(), name.c_str(), nullptr, &so, &code);
    if (s != NATS_OK) {
        durable_trouble("cannot bind to the durable consumer '" + name + "': " + why(s, code));
        return false;
    }
    pull_.reset(raw);
    durable_trouble_.clear();
    log_debug("reading durable consumer '" + name + "' after stream sequence " +
              std::to_string(durable_check_.last()));
    return true;
}

void NatsBridge::take(natsMsg* msg) {
    received_.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t seq = 0;
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, msg) == NATS_OK && meta != nullptr) {
        seq = meta->Sequence.Stream;
        jsMsgMetaData_Destroy(meta);
    }
    const auto verdict = seq != 0 ? durable_check_.next(seq) : DurableCheck::Verdict{false, 0};
    if (verdict.lost != 0) {
        lost_.fetch_add(verdict.lost, std::memory_order_relaxed);
        events_->on_remote_lost(NodeId{}, "nats stream '" + stream_name_ + "'", verdict.lost);
    }
    if (!verdict.deliver) {
        duplicates_.fetch_add(1, std::memory_order_relaxed);
    } else {
        const std::string subject = natsMsg_GetSubject(msg);
        const auto parsed = subjects_->parse(subject);
        const bool carried = parsed.kind == Subjects::Kind::message &&
                             std::any_of(types_.begin(), types_.end(),
                                         [&](const TypePattern& p) { return p.matches(parsed.rest); });
        if (carried) {
            auto decoded = decode(msg, parsed.rest);
            if (!decoded) {
                decode_failed_.fetch_add(1, std::memory_order_relaxed);
                log_warning("message on '" + subject + "' dropped: " + decoded.error().what());
            } else if (decoded->envelope.site != options_.durable.consumer && decoded->envelope.bridge != self_.id) {
                // (This site's own messages come back from the stream: its pods have them.)
                events_->on_remote_message(std::move(decoded->message), true);
            }
        }
    }
    // After the hand-over: a crash before this line means the message comes again.
    natsMsg_Ack(msg, nullptr);
}

void NatsBridge::on_pub_ack(natsMsg* msg) {
    // {"stream":"GRAV_g","seq":12} or {"stream":..,"seq":..,"duplicate":true}; a refusal has "error".
    const char* data = natsMsg_GetData(msg);
    const int len = natsMsg_GetDataLength(msg);
    const std::string body(data != nullptr ? data : "", static_cast<std::size_t>(std::max(len, 0)));
    if (body.find("\"error\"") == std::string::npos) return;
    unstored_.fetch_add(1, std::memory_order_relaxed);
    const std::string subject = natsMsg_GetSubject(msg);
    log_warning("message " + subject.substr(subject.rfind('.') + 1) + " was not stored in the durable stream '" +
                stream_name_ + "': " + body.substr(0, 300));
}

}  // namespace grav::nats::detail
