#pragma once
// Fixed-size integers and ids in a byte buffer, in the layout of cereal's
// portable binary archive (docs/PROTOCOL.md, "Encoding conventions"): the
// hand-written codecs of the header and the data frame share these.
#include <grav/id.hpp>

#include <cstddef>
#include <cstring>
#include <type_traits>

namespace grav::zmq::wire::bytes {

template <class T>
void put_le(std::byte* out, T value) {
    auto u = static_cast<std::make_unsigned_t<T>>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::byte>((u >> (8 * i)) & 0xff);
}

template <class T>
T get(const std::byte* in, bool little_endian) {
    std::make_unsigned_t<T> u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
        const auto b = static_cast<std::make_unsigned_t<T>>(in[little_endian ? i : sizeof(T) - 1 - i]);
        u |= static_cast<std::make_unsigned_t<T>>(b << (8 * i));
    }
    return static_cast<T>(u);
}

template <class Tag>
void put_id(std::byte* out, const Id<Tag>& id) {
    std::memcpy(out, id.uuid().bytes().data(), 16);
}

template <class IdType>
IdType get_id(const std::byte* in) {
    Uuid::Bytes bytes{};
    std::memcpy(bytes.data(), in, 16);
    return IdType(Uuid(bytes));
}

}  // namespace grav::zmq::wire::bytes
