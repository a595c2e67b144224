#include <grav/id.hpp>

#include <cstring>
#include <random>

namespace grav {
namespace {

// One generator per thread, seeded from the OS once: ids are made on the hot
// path of every send, so no lock and no syscall per id.
std::mt19937_64& generator() {
    thread_local std::mt19937_64 gen{[] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }()};
    return gen;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

Uuid Uuid::random() {
    auto& gen = generator();
    const std::uint64_t hi = gen();
    const std::uint64_t lo = gen();
    Bytes b{};
    std::memcpy(b.data(), &hi, 8);
    std::memcpy(b.data() + 8, &lo, 8);
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);  // version 4
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
    return Uuid(b);
}

std::optional<Uuid> Uuid::parse(std::string_view text) {
    if (text.size() != 36) return std::nullopt;
    Bytes b{};
    std::size_t out = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') return std::nullopt;
            ++i;
            continue;
        }
        const int h = hex_value(text[i]);
        const int l = hex_value(text[i + 1]);
        if (h < 0 || l < 0) return std::nullopt;
        b[out++] = static_cast<std::uint8_t>((h << 4) | l);
        i += 2;
    }
    return Uuid(b);
}

std::string Uuid::str() const {
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < bytes_.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(kHex[bytes_[i] >> 4]);
        s.push_back(kHex[bytes_[i] & 0x0F]);
    }
    return s;
}

std::string Uuid::short_str() const { return str().substr(0, 8); }

}  // namespace grav
