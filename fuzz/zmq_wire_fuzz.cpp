// libFuzzer target for the grav wire decoders (zmq_transport/src/wire/wire.cpp,
// batch.cpp): the input is split into the frames of a grav message (control:
// topic, header, body; data: type, data frame = the body here) and fed to
// every decoder a peer's bytes can reach. Decoders must never crash, throw
// or allocate by a length they read.
//
// Input layout: [u8 topic length][u8 header length][topic][header][rest = body]
#include "wire/batch.hpp"
#include "wire/wire.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace grav::zmq;
    if (size < 2) return 0;
    std::size_t topic_len = data[0];
    std::size_t header_len = data[1];
    data += 2;
    size -= 2;
    topic_len = std::min(topic_len, size);
    header_len = std::min(header_len, size - topic_len);
    const std::string_view topic(reinterpret_cast<const char*>(data), topic_len);
    const auto* header = reinterpret_cast<const std::byte*>(data + topic_len);
    const auto* body = header + header_len;
    const std::size_t body_len = size - topic_len - header_len;
    const std::span<const std::byte> header_span(header, header_len);
    const std::span<const std::byte> body_span(body, body_len);

    (void)wire::parse_control(topic);
    (void)wire::parse_sync_topic(topic);
    (void)wire::parse_routing_id(topic);
    (void)wire::decode_header(header_span);
    // A data message: the body as a data frame, every record rebuilt as the
    // node does before delivering it.
    std::vector<wire::Record> records;
    if (wire::check_type(topic).ok() && wire::decode_batch(body_span, records).ok()) {
        for (const auto& r : records) (void)wire::message_of(topic, r.header, r.payload);
    }
    (void)wire::decode_hello(body_span);
    (void)wire::decode_reason(body_span);
    (void)wire::decode_welcome(body_span);
    (void)wire::decode_echo(body_span);
    return 0;
}
