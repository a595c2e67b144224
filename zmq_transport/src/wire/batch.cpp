#include "batch.hpp"

#include "wire_bytes.hpp"

#include <string>

namespace grav::zmq::wire {

using namespace bytes;

Status check_data(const Message& message) {
    if (auto ok = check_type(message.type()); !ok) return ok;
    if (message.payload_size() > max_record_payload) {
        return Error(Errc::invalid_argument,
                     "payload of " + std::to_string(message.payload_size()) + " bytes is too large to send");
    }
    return success();
}

void write_batch_prefix(std::span<std::byte> out, std::uint32_t count) noexcept {
    out[0] = std::byte{1};  // little-endian
    out[1] = std::byte{batch_version};
    put_le(&out[2], count);
}

std::size_t write_record(std::span<std::byte> out, const Header& header,
                         std::span<const std::byte> payload) noexcept {
    std::byte* p = out.data();
    put_le(p, header.seq);
    put_id(p + 8, header.id);
    put_id(p + 24, header.parent_id);
    put_id(p + 40, header.reply_to);
    put_le(p + 56, header.timestamp_ns);
    put_id(p + 64, header.origin);
    put_le(p + 80, static_cast<std::uint32_t>(payload.size()));
    if (!payload.empty()) std::memcpy(p + record_fixed_size, payload.data(), payload.size());
    return record_size(payload.size());
}

void set_record_seq(std::span<std::byte> record, std::uint64_t seq) noexcept { put_le(record.data(), seq); }

std::vector<std::byte> encode_batch(std::span<const Record> records) {
    std::size_t size = batch_prefix_size;
    for (const auto& r : records) size += record_size(r.payload.size());
    std::vector<std::byte> frame(size);
    write_batch_prefix(frame, static_cast<std::uint32_t>(records.size()));
    std::size_t at = batch_prefix_size;
    for (const auto& r : records) at += write_record(std::span(frame).subspan(at), r.header, r.payload);
    return frame;
}

namespace {

Status bad(std::span<const std::byte> frame, const std::string& why) {
    return Error(Errc::decode_failed, "data frame (" + std::to_string(frame.size()) + " bytes): " + why);
}

}  // namespace

Status decode_batch(std::span<const std::byte> frame, std::vector<Record>& records) {
    records.clear();
    if (frame.size() < batch_prefix_size) return bad(frame, "shorter than its 6-byte prefix");
    const auto flag = static_cast<unsigned>(frame[0]);
    if (flag > 1) return bad(frame, "endianness flag " + std::to_string(flag) + " is not 0 or 1");
    const auto version = static_cast<unsigned>(frame[1]);
    if (version != batch_version) {
        return bad(frame, "unknown version " + std::to_string(version) + " (this node speaks " +
                              std::to_string(batch_version) + ")");
    }
    const bool le = flag == 1;
    const auto count = get<std::uint32_t>(&frame[2], le);
    if (count == 0) return bad(frame, "holds no record");
    // Every record takes at least its fixed part: a count the frame cannot
    // hold is rejected before anything is reserved for it.
    const std::size_t room = frame.size() - batch_prefix_size;
    if (count > room / record_fixed_size) {
        return bad(frame,
                   std::to_string(count) + " records cannot fit in " + std::to_string(room) + " bytes");
    }
    records.reserve(count);
    std::size_t at = batch_prefix_size;
    for (std::uint32_t i = 0; i < count; ++i) {
        if (frame.size() - at < record_fixed_size) {
            records.clear();
            return bad(frame, "record " + std::to_string(i) + " is truncated");
        }
        const std::byte* p = &frame[at];
        Record r;
        r.header.seq = get<std::uint64_t>(p, le);
        r.header.id = get_id<MessageId>(p + 8);
        r.header.parent_id = get_id<MessageId>(p + 24);
        r.header.reply_to = get_id<MessageId>(p + 40);
        r.header.timestamp_ns = get<std::int64_t>(p + 56, le);
        r.header.origin = get_id<NodeId>(p + 64);
        const std::size_t size = get<std::uint32_t>(p + 80, le);
        at += record_fixed_size;
        if (size > frame.size() - at) {
            records.clear();
            return bad(frame, "record " + std::to_string(i) + " has a payload of " + std::to_string(size) +
                                  " bytes, only " + std::to_string(frame.size() - at) + " left");
        }
        r.payload = frame.subspan(at, size);
        at += size;
        records.push_back(r);
    }
    if (at != frame.size()) {
        records.clear();
        return bad(frame, std::to_string(frame.size() - at) + " trailing bytes");
    }
    return success();
}

}  // namespace grav::zmq::wire
