#include "nats_codec.hpp"

#include <charconv>
#include <chrono>
#include <limits>
#include <utility>
#include <vector>

namespace grav::nats::detail {
namespace {

constexpr const char* kId = "Grav-Id";
constexpr const char* kType = "Grav-Type";
constexpr const char* kOrigin = "Grav-Origin";
constexpr const char* kTime = "Grav-Time";
constexpr const char* kParent = "Grav-Parent";
constexpr const char* kReplyTo = "Grav-Reply-To";
constexpr const char* kBridge = "Grav-Bridge";
constexpr const char* kSeq = "Grav-Seq";
constexpr const char* kSite = "Grav-Site";
constexpr const char* kMsgId = "Nats-Msg-Id";  // JetStream's duplicate check

using Headers = std::vector<std::pair<const char*, std::string>>;

Headers headers_of(const Message& m, const Envelope& e) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(m.timestamp().time_since_epoch()).count();
    Headers h{{kId, m.id().str()}, {kType, m.type()}, {kOrigin, m.origin().str()}, {kTime, std::to_string(ns)}};
    if (!m.parent_id().is_nil()) h.emplace_back(kParent, m.parent_id().str());
    if (!m.reply_to().is_nil()) h.emplace_back(kReplyTo, m.reply_to().str());
    if (!e.bridge.is_nil()) h.emplace_back(kBridge, e.bridge.str());
    if (e.seq != 0) h.emplace_back(kSeq, std::to_string(e.seq));
    if (!e.site.empty()) {
        h.emplace_back(kSite, e.site);
        h.emplace_back(kMsgId, m.id().str());
    }
    return h;
}

std::optional<std::string_view> header(natsMsg* msg, const char* key) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return std::nullopt;
    return std::string_view(value);
}

template <class Id>
Result<Id> id_header(natsMsg* msg, const char* key, bool required) {
    auto text = header(msg, key);
    if (!text) {
        if (!required) return Id{};
        return Error(Errc::decode_failed, std::string("no ") + key + " header");
    }
    auto id = Id::parse(*text);
    if (!id) return Error(Errc::decode_failed, std::string(key) + " '" + std::string(*text) + "' is not a UUID");
    return *id;
}

template <class Int>
std::optional<Int> number(std::string_view text) {
    Int v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

}  // namespace

Result<Subjects> Subjects::for_group(std::string_view group) {
    const std::string token = group == "*" ? std::string("_") : std::string(group);
    if (auto s = check_type(token); !s || token.find('.') != std::string::npos) {
        return Error(Errc::invalid_argument, "group '" + std::string(group) +
                                                 "' cannot be one NATS subject token (no '.', '*', '>' or "
                                                 "white space; \"*\" maps to \"_\")");
    }
    Subjects s;
    s.prefix_ = "grav." + token + ".";
    return s;
}

Subjects::Parsed Subjects::parse(std::string_view subject) const {
    if (subject.starts_with("_INBOX.grav.")) {
        const auto dot = subject.rfind('.');
        return {Kind::inbox, std::string(subject.substr(dot + 1))};
    }
    if (!subject.starts_with(prefix_)) return {};
    subject.remove_prefix(prefix_.size());
    for (auto [kind, word] : {std::pair{Kind::message, std::string_view("msg.")},
                              std::pair{Kind::node, std::string_view("node.")},
                              std::pair{Kind::tunnel, std::string_view("tunnel.")}}) {
        if (subject.starts_with(word)) return {kind, std::string(subject.substr(word.size()))};
    }
    return {};
}

MsgPtr encode(const std::string& subject, const char* reply, const Message& message, const Envelope& envelope) {
    natsMsg* raw = nullptr;
    const auto body = message.payload_view();
    if (natsMsg_Create(&raw, subject.c_str(), reply, body.data(), static_cast<int>(body.size())) != NATS_OK) {
        return nullptr;
    }
    MsgPtr msg(raw);
    for (const auto& [key, value] : headers_of(message, envelope)) {
        if (natsMsgHeader_Set(msg.get(), key, value.c_str()) != NATS_OK) return nullptr;
    }
    return msg;
}

std::size_t encoded_size(const Message& message, std::string_view site) {
    // What headers_of() and encode() make, counted without building it: this
    // runs for every message that may cross (check()), twice on a publish.
    constexpr std::size_t kIdText = 36;  // a UUID's canonical text
    constexpr std::size_t kWidestSeq = std::numeric_limits<std::uint64_t>::digits10 + 1;
    const auto field = [](std::string_view key, std::size_t value) { return key.size() + 2 + value + 2; };
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(message.timestamp().time_since_epoch()).count();
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, ns);
    std::size_t size = std::string_view("NATS/1.0\r\n\r\n").size();
    size += field(kId, kIdText) + field(kType, message.type().size()) + field(kOrigin, kIdText) +
            field(kTime, static_cast<std::size_t>(end - digits));
    if (!message.parent_id().is_nil()) size += field(kParent, kIdText);
    if (!message.reply_to().is_nil()) size += field(kReplyTo, kIdText);
    // The largest envelope: a bridge id and a 20-digit count.
    size += field(kBridge, kIdText) + field(kSeq, kWidestSeq);
    if (!site.empty()) size += field(kSite, site.size()) + field(kMsgId, kIdText);
    return size + message.payload_size();
}

Result<Decoded> decode(natsMsg* msg, std::string_view subject_type) {
    MessageHeader h;
    // A plain NATS client may leave out the id (a new one is made) and the
    // origin (nil: nothing can reply to it).
    auto id = id_header<MessageId>(msg, kId, false);
    if (!id) return id.error();
    h.id = id->is_nil() ? MessageId::random() : *id;
    auto origin = id_header<NodeId>(msg, kOrigin, false);
    if (!origin) return origin.error();
    h.origin = *origin;
    auto parent = id_header<MessageId>(msg, kParent, false);
    if (!parent) return parent.error();
    h.parent_id = *parent;
    auto reply_to = id_header<MessageId>(msg, kReplyTo, false);
    if (!reply_to) return reply_to.error();
    h.reply_to = *reply_to;
    auto type = header(msg, kType);
    if (!type && !subject_type.empty()) type = subject_type;
    if (!type) return Error(Errc::decode_failed, "no Grav-Type header");
    if (auto s = check_type(*type); !s) return Error(Errc::decode_failed, s.error().reason());
    h.type = std::string(*type);
    if (auto t = header(msg, kTime)) {
        auto ns = number<std::int64_t>(*t);
        if (!ns) return Error(Errc::decode_failed, "Grav-Time '" + std::string(*t) + "' is not a number");
        h.timestamp = Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(*ns)));
    } else {
        h.timestamp = Clock::now();
    }
    Envelope e;
    auto bridge = id_header<NodeId>(msg, kBridge, false);
    if (!bridge) return bridge.error();
    e.bridge = *bridge;
    if (auto seq = header(msg, kSeq)) {
        auto n = number<std::uint64_t>(*seq);
        if (!n) return Error(Errc::decode_failed, "Grav-Seq '" + std::string(*seq) + "' is not a number");
        e.seq = *n;
    }
    if (auto site = header(msg, kSite)) e.site = std::string(*site);
    const char* data = natsMsg_GetData(msg);
    const int len = natsMsg_GetDataLength(msg);
    std::string payload(data != nullptr ? data : "", static_cast<std::size_t>(len > 0 ? len : 0));
    return Decoded{std::make_shared<const Message>(std::move(h), std::move(payload)), e};
}

}  // namespace grav::nats::detail
