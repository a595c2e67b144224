#include "stats_exchange.hpp"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/string.hpp>

#include <sstream>
#include <streambuf>

namespace grav::detail {
namespace {

constexpr std::uint8_t report_version = 1;
// Bounds a hostile answer cannot make us exceed.
constexpr std::size_t max_name = 1024;
constexpr std::size_t max_counters = 4096;
constexpr std::size_t max_peers = 4096;

struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class SpanInBuf : public std::streambuf {
public:
    explicit SpanInBuf(std::span<const std::byte> bytes) {
        auto* begin = const_cast<char*>(reinterpret_cast<const char*>(bytes.data()));  // NOLINT: read only
        setg(begin, begin, begin + bytes.size());
    }
    [[nodiscard]] std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

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

template <class Archive>
void load_text(Archive& archive, std::string& text) {
    cereal::size_type size = 0;
    archive(cereal::make_size_tag(size));
    if (size > max_name) throw DecodeError("a name of " + std::to_string(size) + " bytes");
    text.resize(static_cast<std::size_t>(size));
    archive(cereal::binary_data(text.data(), text.size()));
}

template <class Archive>
std::size_t load_count(Archive& archive, std::size_t max, const char* what) {
    cereal::size_type count = 0;
    archive(cereal::make_size_tag(count));
    if (count > max)
        throw DecodeError(std::to_string(count) + " " + what + ", at most " + std::to_string(max));
    return static_cast<std::size_t>(count);
}

// The fixed BusStats fields, in the order of docs/PROTOCOL.md.
template <class Archive, class Stats>
void fields(Archive& archive, Stats& s) {
    archive(s.pods, s.sent, s.delivered, s.failed, s.redelivered, s.dropped, s.queue_depth,
            s.disconnected_by_bus, s.received_from_peers, s.peers);
}

std::int64_t ns_since_epoch(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

MessagePtr stats_request(const NodeId& self) {
    MessageHeader header;
    header.id = MessageId::random();
    header.type = std::string(kStatsType);
    header.timestamp = Clock::now();
    header.origin = self;
    return std::make_shared<const Message>(std::move(header), std::string());
}

MessagePtr stats_reply(const Message& request, const NodeReport& report) {
    MessageHeader header;
    header.id = MessageId::random();
    header.parent_id = request.id();
    header.reply_to = request.id();
    header.type = std::string(kStatsReplyType);
    header.timestamp = Clock::now();
    header.origin = report.node;
    return std::make_shared<const Message>(std::move(header), encode_report(report));
}

std::string encode_report(const NodeReport& report) {
    std::ostringstream out;
    {
        cereal::PortableBinaryOutputArchive archive(out);
        archive(report_version);
        save_id(archive, report.node);
        archive(report.name.substr(0, max_name));
        BusStats s = report.stats;
        fields(archive, s);
        const std::size_t counters = std::min(report.stats.network.size(), max_counters);
        archive(cereal::make_size_tag(static_cast<cereal::size_type>(counters)));
        std::size_t n = 0;
        for (const auto& [name, value] : report.stats.network) {
            if (n++ == counters) break;
            archive(name.substr(0, max_name), value);
        }
        const std::size_t peers = std::min(report.peers.size(), max_peers);
        archive(cereal::make_size_tag(static_cast<cereal::size_type>(peers)));
        for (std::size_t i = 0; i < peers; ++i) {
            const PeerTraffic& t = report.peers[i];
            save_id(archive, t.peer);
            archive(t.messages_sent, t.bytes_sent, t.messages_received, t.bytes_received, t.resent, t.lost);
            archive(static_cast<std::int64_t>(t.rtt ? t.rtt->count() : -1),
                    static_cast<std::int64_t>(t.last_seen ? ns_since_epoch(*t.last_seen) : 0));
        }
    }
    return std::move(out).str();
}

Result<NodeReport> decode_report(std::span<const std::byte> bytes) {
    try {
        SpanInBuf buffer(bytes);
        std::istream in(&buffer);
        NodeReport report;
        {
            cereal::PortableBinaryInputArchive archive(in);
            std::uint8_t version = 0;
            archive(version);
            if (version != report_version)
                throw DecodeError("report version " + std::to_string(version) + ", this node reads " +
                                  std::to_string(report_version));
            load_id(archive, report.node);
            load_text(archive, report.name);
            fields(archive, report.stats);
            for (std::size_t n = load_count(archive, max_counters, "counters"); n > 0; --n) {
                std::string name;
                std::uint64_t value = 0;
                load_text(archive, name);
                archive(value);
                report.stats.network[name] = value;
            }
            report.peers.resize(load_count(archive, max_peers, "peers"));
            for (PeerTraffic& t : report.peers) {
                load_id(archive, t.peer);
                archive(t.messages_sent, t.bytes_sent, t.messages_received, t.bytes_received, t.resent,
                        t.lost);
                std::int64_t rtt = -1;
                std::int64_t seen = 0;
                archive(rtt, seen);
                if (rtt >= 0) t.rtt = std::chrono::microseconds(rtt);
                if (seen != 0) {
                    t.last_seen = std::chrono::system_clock::time_point(
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            std::chrono::nanoseconds(seen)));
                }
            }
        }
        if (buffer.remaining() != 0)
            throw DecodeError(std::to_string(buffer.remaining()) + " trailing bytes");
        return report;
    } catch (const std::exception& e) {
        return Error(Errc::decode_failed,
                     "stats report (" + std::to_string(bytes.size()) + " bytes): " + e.what());
    }
}

void StatsRequests::expect(const std::vector<MessageId>& ids) {
    std::lock_guard lock(mutex_);
    for (const auto& id : ids) pending_.emplace(id, std::nullopt);
}

bool StatsRequests::answer(const Message& reply) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(reply.reply_to());
    if (it == pending_.end() || it->second) return false;
    const auto payload = reply.payload_view();
    auto report = decode_report(std::as_bytes(std::span(payload.data(), payload.size())));
    if (report && report->node != reply.origin()) {
        report = Error(Errc::decode_failed, "stats report names node " + report->node.short_str() +
                                                " but came from " + reply.origin().short_str());
    }
    it->second = std::move(report);
    answered_.notify_all();
    return true;
}

std::vector<Result<NodeReport>> StatsRequests::collect(const std::vector<MessageId>& ids,
                                                       std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    answered_.wait_until(lock, deadline, [&] {
        for (const auto& id : ids) {
            if (auto it = pending_.find(id); it != pending_.end() && !it->second) return false;
        }
        return true;
    });
    std::vector<Result<NodeReport>> out;
    out.reserve(ids.size());
    for (const auto& id : ids) {
        auto it = pending_.find(id);
        if (it != pending_.end() && it->second) {
            out.push_back(std::move(*it->second));
        } else {
            out.emplace_back(Error(Errc::timeout, "no answer"));
        }
        if (it != pending_.end()) pending_.erase(it);
    }
    return out;
}

}  // namespace grav::detail
