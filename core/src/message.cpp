#include <grav/message.hpp>

#include <cereal/archives/json.hpp>
#include <cereal/types/string.hpp>

#include <ctime>

namespace grav {
namespace {

std::string to_payload(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
}

// Strict UTF-8 check (no overlongs, no surrogates): JSON needs valid text.
bool is_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) { ++i; continue; }
        if ((c & 0xE0) == 0xC0) { n = 1; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { n = 2; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { n = 3; cp = c & 0x07; }
        else return false;
        for (std::size_t k = 1; k <= n; ++k) {
            if (i + k >= s.size()) return false;
            const auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3F);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

std::string base64(std::string_view in) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const auto n = (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16) |
                       (static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += kAlphabet[(n >> 6) & 63];
        out += kAlphabet[n & 63];
    }
    if (i < in.size()) {
        auto n = static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << 16;
        if (i + 1 < in.size()) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
        out += kAlphabet[(n >> 18) & 63];
        out += kAlphabet[(n >> 12) & 63];
        out += (i + 1 < in.size()) ? kAlphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// RFC 3339 with microseconds, UTC: 2026-11-28T21:02:43.123456Z
std::string rfc3339(Clock::time_point t) {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    const auto frac = static_cast<long>(us % 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[64];
    std::snprintf(out, sizeof out, "%s.%06ldZ", buf, frac);
    return out;
}

}  // namespace

Message::Message(std::string type, std::string_view payload)
    : Message(std::move(type), std::string(payload), RawTag{}) {}

Message::Message(std::string type, std::span<const std::byte> payload)
    : Message(std::move(type), to_payload(payload), RawTag{}) {}

Message::Message(std::string type, std::string&& payload, RawTag) : payload_(std::move(payload)) {
    header_.id = MessageId::random();
    header_.type = std::move(type);
    header_.timestamp = Clock::now();
}

std::string Message::to_json() const {
    std::ostringstream out;
    {
        // cereal's JSON archive (rapidjson underneath) does the escaping.
        cereal::JSONOutputArchive archive(out, cereal::JSONOutputArchive::Options::NoIndent());
        archive(cereal::make_nvp("id", header_.id.str()));
        if (!header_.parent_id.is_nil()) archive(cereal::make_nvp("parent_id", header_.parent_id.str()));
        if (!header_.reply_to.is_nil()) archive(cereal::make_nvp("reply_to", header_.reply_to.str()));
        archive(cereal::make_nvp("type", header_.type));
        archive(cereal::make_nvp("timestamp", rfc3339(header_.timestamp)));
        archive(cereal::make_nvp("origin", header_.origin.str()));
        if (is_utf8(payload_)) {
            archive(cereal::make_nvp("payload", payload_));
        } else {
            archive(cereal::make_nvp("payload_base64", base64(payload_)));
        }
    }
    std::string s = std::move(out).str();
    // NoIndent still separates with newlines in some versions; keep one line.
    std::string line;
    line.reserve(s.size());
    bool in_string = false;
    bool escaped = false;
    for (char c : s) {
        if (in_string) {
            line += c;
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == '"') in_string = true;
        if (c == '\n' || c == '\r') continue;
        line += c;
    }
    return line;
}

}  // namespace grav
