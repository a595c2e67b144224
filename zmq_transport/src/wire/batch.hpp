#pragma once
// The data frame of protocol 2 (docs/PROTOCOL.md, "Data messages"): one
// ZeroMQ frame carrying one or more data records of the same type, so that
// a burst of publishes costs libzmq one message instead of one per publish.
//
//   [u8 endianness][u8 version = 2][u32 count] then count records:
//   [u64 seq][16 id][16 parent_id][16 reply_to][i64 timestamp][16 origin]
//   [u32 payload size][payload]
//
// Pure bytes, no sockets: the transport, the tests and the fuzzer share it.
// The decoder never throws and never trusts a length it reads.
#include "wire.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace grav::zmq::wire {

// The data frame reuses the header's version byte: a protocol 1 decoder
// reading it as a header rejects it by version instead of misreading it.
inline constexpr std::uint8_t batch_version = 2;
inline constexpr std::size_t batch_prefix_size = 1 + 1 + 4;
inline constexpr std::size_t record_fixed_size = 8 + 16 * 3 + 8 + 16 + 4;
inline constexpr std::size_t max_record_payload = UINT32_MAX;

// Sender-side bounds of one batch: coalescing never waits for more messages,
// it only packs what is already queued, up to these limits (a message larger
// than max_batch_bytes travels alone).
// The bytes bound also bounds what a high-water mark (counted in ZeroMQ
// messages, so in batches) can hold: at most ~8 KiB per queued message.
inline constexpr std::size_t max_batch_records = 256;
inline constexpr std::size_t max_batch_bytes = 8 * 1024;

// One record; on decode the payload points into the decoded frame.
struct Record {
    Header header;
    std::span<const std::byte> payload;
};

constexpr std::size_t record_size(std::size_t payload_size) noexcept {
    return record_fixed_size + payload_size;
}

// Why `message` cannot travel in a record (a type that is no valid topic, a
// payload too large), or success.
Status check_data(const Message& message);

// Writes the frame prefix for `count` records into out[0, batch_prefix_size).
void write_batch_prefix(std::span<std::byte> out, std::uint32_t count) noexcept;
// Writes one record at the start of `out` (which must hold record_size(payload)
// bytes) and returns the number of bytes written.
std::size_t write_record(std::span<std::byte> out, const Header& header,
                         std::span<const std::byte> payload) noexcept;

// Rewrites the sequence number of the record at the start of `record`.
void set_record_seq(std::span<std::byte> record, std::uint64_t seq) noexcept;

// A whole data frame (tests, fuzzer seeds; the transport writes in place).
std::vector<std::byte> encode_batch(std::span<const Record> records);

// Decodes a data frame into `records` (cleared first; payloads point into
// `frame`). On error `records` is left empty: a malformed batch is rejected
// whole, nothing of it is delivered.
Status decode_batch(std::span<const std::byte> frame, std::vector<Record>& records);

}  // namespace grav::zmq::wire
