#include "wire.hpp"

#include "wire_bytes.hpp"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/string.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <sstream>
#include <streambuf>
#include <type_traits>
#include <utility>

namespace grav::zmq::wire {
namespace {

// Reads straight from a frame: no copy into a stringstream.
class SpanInBuf : public std::streambuf {
public:
    explicit SpanInBuf(std::span<const std::byte> bytes) {
        // streambuf wants char*; it is only ever read through.
        auto* begin = const_cast<char*>(reinterpret_cast<const char*>(bytes.data()));  // NOLINT
        setg(begin, begin, begin + bytes.size());
    }
    [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

constexpr std::string_view control_topics[] = {
    std::string_view("\0HELLO", 6), std::string_view("\0WELCOME", 8), std::string_view("\0REFUSE", 7),
    std::string_view("\0READY", 6), std::string_view("\0BYE", 4),     std::string_view("\0WHO", 4),
    std::string_view("\0IAM", 4),   std::string_view("\0RESEND", 7),  std::string_view("\0RESENT", 7),
    std::string_view("\0GOT", 4),   std::string_view("\0PING", 5),    std::string_view("\0PONG", 5)};
constexpr std::string_view sync_prefix("\0SYNC", 5);

template <class Archive, class Tag>
void save_id(Archive& archive, const Id<Tag>& id) {
    archive(id.uuid().bytes());
}

template <class Archive, class Tag>
void load_id(Archive& archive, Id<Tag>& id) {
    Uuid::Bytes bytes{};
    archive(bytes);
    id = Id<Tag>(Uuid(bytes));
}

// cereal's own std::string load trusts the length it reads; this one checks
// it against a bound first, so a hostile length cannot make us allocate.
template <class Archive>
void load_text(Archive& archive, std::string& text, std::size_t max, const char* what) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    if (size > max) {
        throw DecodeError(std::string(what) + " is " + std::to_string(size) + " bytes, at most " +
                          std::to_string(max) + " allowed");
    }
    text.resize(static_cast<std::size_t>(size));
    archive(cereal::binary_data(text.data(), text.size()));
}

template <class Archive>
void load_list(Archive& archive, std::vector<std::string>& list, const char* what) {
    cereal::size_type count = 0;
    archive(cereal::make_size_tag(count));
    if (count > max_list) {
        throw DecodeError(std::string(what) + " has " + std::to_string(count) + " entries, at most " +
                          std::to_string(max_list) + " allowed");
    }
    list.resize(static_cast<std::size_t>(count));
    for (auto& entry : list) load_text(archive, entry, max_text, what);
}

template <class Archive>
void save_list(Archive& archive, const std::vector<std::string>& list) {
    archive(cereal::make_size_tag(static_cast<cereal::size_type>(list.size())));
    for (const auto& entry : list) archive(entry);
}

// Runs a cereal decode over `bytes`, turning every failure (short frame,
// bad length, trailing bytes) into an Error with the reason. `body` returns
// false when it stopped early on purpose (the rest is not its to read).
template <class T, class Body>
Result<T> decode_with(std::span<const std::byte> bytes, const char* what, Body&& body) {
    try {
        SpanInBuf buffer(bytes);
        std::istream in(&buffer);
        T value{};
        bool complete = true;
        {
            cereal::PortableBinaryInputArchive archive(in);
            complete = body(archive, value);
        }
        if (complete && buffer.remaining() != 0) {
            throw DecodeError(std::to_string(buffer.remaining()) + " trailing bytes");
        }
        return value;
    } catch (const std::exception& e) {
        return Error(Errc::decode_failed,
                     std::string(what) + " (" + std::to_string(bytes.size()) + " bytes): " + e.what());
    }
}

}  // namespace

std::string_view topic_of(Control command) noexcept {
    return control_topics[static_cast<std::size_t>(command)];
}

std::optional<Result<Control>> parse_control(std::string_view topic) {
    if (topic.empty() || topic.front() != '\0') return std::nullopt;
    for (std::size_t i = 0; i < std::size(control_topics); ++i) {
        if (topic == control_topics[i]) return Result<Control>(static_cast<Control>(i));
    }
    std::string printable;
    for (char c : topic.substr(1, 32)) printable += (c >= 0x20 && c < 0x7f) ? c : '?';
    return Result<Control>(Error(Errc::decode_failed, "unknown control command '" + printable + "'"));
}

std::string sync_topic(const NodeId& subscriber) { return std::string(sync_prefix) + subscriber.str(); }

std::optional<NodeId> parse_sync_topic(std::string_view topic) {
    if (!topic.starts_with(sync_prefix)) return std::nullopt;
    return NodeId::parse(topic.substr(sync_prefix.size()));
}

std::string routing_id(const NodeId& node) { return node.str(); }

std::optional<NodeId> parse_routing_id(std::string_view identity) { return NodeId::parse(identity); }

// The header is on every message: it is written and read by hand, without
// iostreams, in exactly the layout cereal's portable binary archive gives it
// (tests/zmq/wire_test.cpp checks the two agree byte for byte).
using namespace bytes;

HeaderBytes encode_header(const Header& header) {
    HeaderBytes b{};
    b[0] = std::byte{1};  // little-endian stream
    b[1] = std::byte{header_version};
    put_le(&b[2], header.seq);
    put_id(&b[10], header.id);
    put_id(&b[26], header.parent_id);
    put_id(&b[42], header.reply_to);
    put_le(&b[58], header.timestamp_ns);
    put_id(&b[66], header.origin);
    return b;
}

Result<Header> decode_header(std::span<const std::byte> b) {
    if (b.size() != header_size) {
        return Error(Errc::decode_failed, "header is " + std::to_string(b.size()) + " bytes, expected " +
                                              std::to_string(header_size));
    }
    const auto flag = static_cast<unsigned>(b[0]);
    if (flag > 1)
        return Error(Errc::decode_failed,
                     "header endianness flag " + std::to_string(flag) + " is not 0 or 1");
    const auto version = static_cast<unsigned>(b[1]);
    if (version != header_version) {
        return Error(Errc::decode_failed, "header (82 bytes): unknown header version " +
                                              std::to_string(version) + " (this node speaks " +
                                              std::to_string(header_version) + ")");
    }
    const bool le = flag == 1;
    Header h;
    h.seq = get<std::uint64_t>(&b[2], le);
    h.id = get_id<MessageId>(&b[10]);
    h.parent_id = get_id<MessageId>(&b[26]);
    h.reply_to = get_id<MessageId>(&b[42]);
    h.timestamp_ns = get<std::int64_t>(&b[58], le);
    h.origin = get_id<NodeId>(&b[66]);
    return h;
}

Result<Header> decode_control_header(std::span<const std::byte> bytes, Control command,
                                     const NodeId& sender) {
    auto header = decode_header(bytes);
    if (!header) return header;
    const char* what = nullptr;
    if (header->seq != 0) {
        what = "a seq";
    } else if (!header->parent_id.is_nil() || !header->reply_to.is_nil()) {
        what = "a parent_id or reply_to";
    } else if (header->timestamp_ns != 0) {
        what = "a timestamp";
    } else if (!header->id.is_nil() && command != Control::hello) {
        what = "an id";
    }
    if (what != nullptr) {
        return Error(Errc::decode_failed,
                     std::string("control header carries ") + what + " (control headers have none)");
    }
    if (!sender.is_nil() && header->origin != sender) {
        return Error(Errc::decode_failed, "control header names origin " + header->origin.short_str() +
                                              ", not its sender " + sender.short_str());
    }
    return header;
}

Header header_of(const Message& message, std::uint64_t seq) {
    using namespace std::chrono;
    return Header{
        .seq = seq,
        .id = message.id(),
        .parent_id = message.parent_id(),
        .reply_to = message.reply_to(),
        .timestamp_ns = duration_cast<nanoseconds>(message.timestamp().time_since_epoch()).count(),
        .origin = message.origin(),
    };
}

Header control_header(const NodeId& sender) {
    Header header;
    header.origin = sender;
    return header;
}

Status check_type(std::string_view type) {
    if (type.empty()) return Error(Errc::invalid_argument, "message type is empty");
    if (type.front() == '\0') return Error(Errc::invalid_argument, "message type starts with a 0x00 byte");
    if (type.size() > max_type) {
        return Error(Errc::invalid_argument, "message type is " + std::to_string(type.size()) +
                                                 " bytes, at most " + std::to_string(max_type) + " allowed");
    }
    return success();
}

MessagePtr message_of(std::string_view type, const Header& header, std::span<const std::byte> payload) {
    using namespace std::chrono;
    MessageHeader fields{
        .id = header.id,
        .parent_id = header.parent_id,
        .reply_to = header.reply_to,
        .type = std::string(type),
        .timestamp = Clock::time_point(duration_cast<Clock::duration>(nanoseconds(header.timestamp_ns))),
        .origin = header.origin,
    };
    return std::make_shared<const Message>(
        std::move(fields), std::string(reinterpret_cast<const char*>(payload.data()), payload.size()));
}

std::string encode_hello(const Hello& hello) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(hello.protocol);
        save_id(archive, hello.node);
        archive(hello.name, hello.belongs_to);
        save_list(archive, hello.interests);
        save_list(archive, hello.endpoints);
    }
    return std::move(out).str();
}

Result<Hello> decode_hello(std::span<const std::byte> bytes) {
    return decode_with<Hello>(bytes, "HELLO", [](auto& archive, Hello& hello) {
        archive(hello.protocol);
        // Later protocol versions may lay the body out differently: stop
        // here so the caller can refuse with the version, not a parse error.
        if (hello.protocol != protocol_version) return false;
        load_id(archive, hello.node);
        load_text(archive, hello.name, max_text, "name");
        load_text(archive, hello.belongs_to, max_text, "belongs_to");
        load_list(archive, hello.interests, "interests");
        load_list(archive, hello.endpoints, "endpoints");
        return true;
    });
}

std::string encode_welcome(const Welcome& welcome) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(welcome.features);
    }
    return std::move(out).str();
}

Result<Welcome> decode_welcome(std::span<const std::byte> bytes) {
    if (bytes.empty()) return Welcome{};  // a node before features: none
    return decode_with<Welcome>(bytes, "WELCOME", [](auto& archive, Welcome& welcome) {
        archive(welcome.features);
        return false;  // what a later version adds after it is not ours to read
    });
}

std::string encode_echo(std::uint64_t token) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(token);
    }
    return std::move(out).str();
}

Result<std::uint64_t> decode_echo(std::span<const std::byte> bytes) {
    return decode_with<std::uint64_t>(bytes, "PING/PONG", [](auto& archive, std::uint64_t& token) {
        archive(token);
        return true;
    });
}

std::string encode_reason(std::string_view reason) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(std::string(reason.substr(0, max_text)));
    }
    return std::move(out).str();
}

Result<std::string> decode_reason(std::span<const std::byte> bytes) {
    return decode_with<std::string>(bytes, "REFUSE", [](auto& archive, std::string& reason) {
        load_text(archive, reason, max_text, "reason");
        return true;
    });
}

}  // namespace grav::zmq::wire
