#include "nats_codec.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <limits>
#include <optional>
#include <utility>

namespace grav::nats::detail {
namespace {

constexpr const char* kGrav = "Grav";  // <id> <origin> <time> <bridge> <seq>
constexpr const char* kType = "Grav-Type";
constexpr const char* kParent = "Grav-Parent";
constexpr const char* kReplyTo = "Grav-Reply-To";
constexpr const char* kSite = "Grav-Site";
constexpr const char* kMsgId = "Nats-Msg-Id";  // JetStream's duplicate check

constexpr std::size_t kIdText = 36;  // a UUID's canonical text
constexpr std::size_t kWidestTime = std::numeric_limits<std::int64_t>::digits10 + 2;  // with a sign
constexpr std::size_t kWidestSeq = std::numeric_limits<std::uint64_t>::digits10 + 1;
// The Grav header's widest value: four separators.
constexpr std::size_t kWidestGrav = kIdText + 1 + kIdText + 1 + kWidestTime + 1 + kIdText + 1 + kWidestSeq;

// A UUID as its canonical text, without a std::string (Uuid::str() allocates).
char* put_id(char* out, const Uuid& id) {
    constexpr char kHex[] = "0123456789abcdef";
    const auto& bytes = id.bytes();
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *out++ = '-';
        *out++ = kHex[bytes[i] >> 4];
        *out++ = kHex[bytes[i] & 0x0F];
    }
    return out;
}

template <class Int>
char* put_number(char* out, char* end, Int v) {
    return std::to_chars(out, end, v).ptr;
}

std::int64_t nanoseconds(const Message& m) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(m.timestamp().time_since_epoch()).count();
}

struct IdText {
    std::array<char, kIdText + 1> text{};  // NUL-terminated, for nats.c
    explicit IdText(const Uuid& id) { *put_id(text.data(), id) = '\0'; }
    [[nodiscard]] const char* c_str() const { return text.data(); }
};

std::optional<std::string_view> header(natsMsg* msg, const char* key) {
    const char* value = nullptr;
    if (natsMsgHeader_Get(msg, key, &value) != NATS_OK || value == nullptr) return std::nullopt;
    return std::string_view(value);
}

template <class Id>
Result<Id> parse_id(std::string_view text, const char* what) {
    auto id = Id::parse(text);
    if (!id)
        return Error(Errc::decode_failed, std::string(what) + " '" + std::string(text) + "' is not a UUID");
    return *id;
}

template <class Id>
Result<Id> id_header(natsMsg* msg, const char* key) {
    auto text = header(msg, key);
    if (!text) return Id{};
    return parse_id<Id>(*text, key);
}

template <class Int>
std::optional<Int> number(std::string_view text) {
    Int v{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return v;
}

// The Grav header's fields, in order; fewer than five from a plain client.
// `count` > 5: too many.
struct Fields {
    std::array<std::string_view, 5> at{};
    std::size_t count = 0;
};

Fields fields(std::string_view value) {
    Fields out;
    std::size_t i = 0;
    while (i < value.size()) {
        while (i < value.size() && value[i] == ' ') ++i;
        const std::size_t end = std::min(value.find(' ', i), value.size());
        if (end > i) {
            if (out.count < out.at.size()) out.at[out.count] = value.substr(i, end - i);
            ++out.count;
        }
        i = end;
    }
    return out;
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

MsgPtr encode(const char* subject, const char* reply, const Message& message, const Envelope& envelope,
              bool typed) {
    natsMsg* raw = nullptr;
    const auto body = message.payload_view();
    if (natsMsg_Create(&raw, subject, reply, body.data(), static_cast<int>(body.size())) != NATS_OK) {
        return nullptr;
    }
    MsgPtr msg(raw);
    std::array<char, kWidestGrav + 1> grav{};
    char* const end = grav.data() + kWidestGrav;
    char* at = put_id(grav.data(), message.id().uuid());
    *at++ = ' ';
    at = put_id(at, message.origin().uuid());
    *at++ = ' ';
    at = put_number(at, end, nanoseconds(message));
    *at++ = ' ';
    at = put_id(at, envelope.bridge.uuid());
    *at++ = ' ';
    at = put_number(at, end, envelope.seq);
    *at = '\0';
    const auto set = [&](const char* key, const char* value) {
        return natsMsgHeader_Set(msg.get(), key, value) == NATS_OK;
    };
    if (!set(kGrav, grav.data())) return nullptr;
    if (typed && !set(kType, message.type().c_str())) return nullptr;
    if (!message.parent_id().is_nil() && !set(kParent, IdText(message.parent_id().uuid()).c_str()))
        return nullptr;
    if (!message.reply_to().is_nil() && !set(kReplyTo, IdText(message.reply_to().uuid()).c_str()))
        return nullptr;
    if (!envelope.site.empty()) {
        if (!set(kSite, envelope.site.c_str()) || !set(kMsgId, IdText(message.id().uuid()).c_str()))
            return nullptr;
    }
    return msg;
}

std::size_t encoded_size(const Message& message, bool typed, std::string_view site) {
    // What encode() makes, counted: "NATS/1.0\r\n", "key: value\r\n" per
    // header, "\r\n"; the count as its widest (it is given later, under the
    // publishing lock).
    const auto field = [](std::string_view key, std::size_t value) { return key.size() + 2 + value + 2; };
    std::array<char, kWidestTime> digits{};
    const auto time = static_cast<std::size_t>(
        put_number(digits.data(), digits.data() + digits.size(), nanoseconds(message)) - digits.data());
    std::size_t size = std::string_view("NATS/1.0\r\n\r\n").size();
    size += field(kGrav, kIdText + 1 + kIdText + 1 + time + 1 + kIdText + 1 + kWidestSeq);
    if (typed) size += field(kType, message.type().size());
    if (!message.parent_id().is_nil()) size += field(kParent, kIdText);
    if (!message.reply_to().is_nil()) size += field(kReplyTo, kIdText);
    if (!site.empty()) size += field(kSite, site.size()) + field(kMsgId, kIdText);
    return size + message.payload_size();
}

Result<Decoded> decode(natsMsg* msg, std::string_view subject_type) {
    MessageHeader h;
    Envelope e;
    // A plain NATS client may leave out any of these: a new id, a nil origin
    // (nothing can reply to it), the time of arrival, no bridge and no count.
    h.timestamp = Clock::now();
    if (auto grav = header(msg, kGrav)) {
        const auto parsed = fields(*grav);
        if (parsed.count > parsed.at.size()) {
            return Error(Errc::decode_failed,
                         "Grav header '" + std::string(*grav) + "' has more than 5 fields");
        }
        const auto& f = parsed.at;
        const std::size_t n = parsed.count;
        if (n > 0) {
            auto id = parse_id<MessageId>(f[0], "Grav id");
            if (!id) return id.error();
            h.id = *id;
        }
        if (n > 1) {
            auto origin = parse_id<NodeId>(f[1], "Grav origin");
            if (!origin) return origin.error();
            h.origin = *origin;
        }
        if (n > 2) {
            auto ns = number<std::int64_t>(f[2]);
            if (!ns)
                return Error(Errc::decode_failed, "Grav time '" + std::string(f[2]) + "' is not a number");
            h.timestamp =
                Clock::time_point(std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(*ns)));
        }
        if (n > 3) {
            auto bridge = parse_id<NodeId>(f[3], "Grav bridge");
            if (!bridge) return bridge.error();
            e.bridge = *bridge;
        }
        if (n > 4) {
            auto seq = number<std::uint64_t>(f[4]);
            if (!seq)
                return Error(Errc::decode_failed, "Grav seq '" + std::string(f[4]) + "' is not a number");
            e.seq = *seq;
        }
    }
    if (h.id.is_nil()) h.id = MessageId::random();
    auto parent = id_header<MessageId>(msg, kParent);
    if (!parent) return parent.error();
    h.parent_id = *parent;
    auto reply_to = id_header<MessageId>(msg, kReplyTo);
    if (!reply_to) return reply_to.error();
    h.reply_to = *reply_to;
    auto type = header(msg, kType);
    if (!type && !subject_type.empty()) type = subject_type;
    if (!type) return Error(Errc::decode_failed, "no Grav-Type header");
    if (auto s = check_type(*type); !s) return Error(Errc::decode_failed, s.error().reason());
    h.type = std::string(*type);
    if (auto site = header(msg, kSite)) e.site = std::string(*site);
    const char* data = natsMsg_GetData(msg);
    const int len = natsMsg_GetDataLength(msg);
    std::string payload(data != nullptr ? data : "", static_cast<std::size_t>(len > 0 ? len : 0));
    return Decoded{std::make_shared<const Message>(std::move(h), std::move(payload)), e};
}

}  // namespace grav::nats::detail
