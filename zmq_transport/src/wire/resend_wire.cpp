#include "resend_wire.hpp"

#include <bit>
#include <cstring>

namespace grav::zmq::wire {
namespace {

// Little-endian writer, in the layout of docs/PROTOCOL.md ("Encoding conventions").
class Writer {
public:
    Writer() { u8(1); }  // endianness flag: little-endian
    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u64(std::uint64_t v) {
        for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    void text(std::string_view s) {
        u64(s.size());
        out_.append(s);
    }
    void raw(std::span<const std::byte> bytes) {
        out_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::string take() { return std::move(out_); }

private:
    std::string out_;
};

// Reader that accepts both byte orders and reports the first problem.
class Reader {
public:
    explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {
        const auto flag = u8();
        if (ok() && flag > 1) fail("endianness flag " + std::to_string(flag) + " is neither 0 nor 1");
        little_ = flag == 1;
    }
    [[nodiscard]] bool ok() const { return error_.empty(); }
    [[nodiscard]] const std::string& error() const { return error_; }
    [[nodiscard]] std::size_t remaining() const { return bytes_.size() - pos_; }

    std::uint8_t u8() {
        if (!need(1)) return 0;
        return static_cast<std::uint8_t>(bytes_[pos_++]);
    }
    std::uint64_t u64() {
        if (!need(8)) return 0;
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i) {
            const auto b = static_cast<std::uint64_t>(bytes_[pos_ + static_cast<std::size_t>(i)]);
            v |= little_ ? b << (8 * i) : b << (8 * (7 - i));
        }
        pos_ += 8;
        return v;
    }
    std::string text(std::size_t max, const char* what) {
        const auto size = u64();
        if (!ok()) return {};
        if (size > max) {
            fail(std::string(what) + " is " + std::to_string(size) + " bytes, at most " +
                 std::to_string(max) + " allowed");
            return {};
        }
        if (!need(static_cast<std::size_t>(size))) return {};
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<std::size_t>(size));
        pos_ += static_cast<std::size_t>(size);
        return s;
    }
    std::span<const std::byte> rest() {
        auto r = bytes_.subspan(pos_);
        pos_ = bytes_.size();
        return r;
    }
    StreamKind kind() {
        const auto k = u8();
        if (ok() && k > 1)
            fail("stream kind " + std::to_string(k) + " is neither 0 (fan-out) nor 1 (direct)");
        return static_cast<StreamKind>(k);
    }
    void fail(std::string why) {
        if (error_.empty()) error_ = std::move(why);
    }

private:
    bool need(std::size_t n) {
        if (!ok()) return false;
        if (remaining() < n) {
            fail("truncated: " + std::to_string(n) + " more bytes needed, " + std::to_string(remaining()) +
                 " left");
            return false;
        }
        return true;
    }

    std::span<const std::byte> bytes_;
    std::size_t pos_ = 0;
    bool little_ = true;
    std::string error_;
};

template <class T>
Result<T> finish(Reader& in, T value, const char* what, std::size_t size) {
    if (in.ok() && in.remaining() != 0) in.fail(std::to_string(in.remaining()) + " trailing bytes");
    if (!in.ok()) {
        return Error(Errc::decode_failed,
                     std::string(what) + " (" + std::to_string(size) + " bytes): " + in.error());
    }
    return value;
}

}  // namespace

std::string encode_announcement(const Announcement& announcement) {
    Writer out;
    out.u64(announcement.direct_last);
    out.u64(announcement.fanout.size());
    for (const auto& tail : announcement.fanout) {
        out.text(tail.type);
        out.u64(tail.last);
    }
    return out.take();
}

Result<Announcement> decode_announcement(std::span<const std::byte> bytes) {
    if (bytes.empty()) return Announcement{};
    Reader in(bytes);
    Announcement a;
    a.direct_last = in.u64();
    const auto count = in.u64();
    if (in.ok() && count > max_announced) {
        in.fail(std::to_string(count) + " streams, at most " + std::to_string(max_announced) + " allowed");
    }
    for (std::uint64_t i = 0; in.ok() && i < count; ++i) {
        StreamTail tail;
        tail.type = in.text(max_type, "type");
        tail.last = in.u64();
        if (in.ok()) a.fanout.push_back(std::move(tail));
    }
    return finish(in, std::move(a), "READY", bytes.size());
}

std::string encode_resend(const ResendRequest& request) {
    Writer out;
    out.u8(static_cast<std::uint8_t>(request.kind));
    out.text(request.type);
    out.u64(request.from);
    out.u64(request.to);
    return out.take();
}

Result<ResendRequest> decode_resend(std::span<const std::byte> bytes) {
    Reader in(bytes);
    ResendRequest r;
    r.kind = in.kind();
    r.type = in.text(max_type, "type");
    r.from = in.u64();
    r.to = in.u64();
    if (in.ok() && (r.from == 0 || r.to < r.from)) {
        in.fail("range [" + std::to_string(r.from) + ", " + std::to_string(r.to) +
                "] is empty or starts at 0");
    }
    return finish(in, std::move(r), "RESEND", bytes.size());
}

std::string encode_resent(StreamKind kind, std::string_view type, std::span<const std::byte> payload) {
    Writer out;
    out.u8(static_cast<std::uint8_t>(kind));
    out.text(type);
    out.raw(payload);
    return out.take();
}

Result<Resent> decode_resent(std::span<const std::byte> bytes) {
    Reader in(bytes);
    Resent r;
    r.kind = in.kind();
    r.type = in.text(max_type, "type");
    if (in.ok() && r.kind == StreamKind::fanout) {
        if (auto ok = check_type(r.type); !ok) in.fail(ok.error().reason());
    }
    r.payload = in.rest();
    return finish(in, std::move(r), "RESENT", bytes.size());
}

}  // namespace grav::zmq::wire
