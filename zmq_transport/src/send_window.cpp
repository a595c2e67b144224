#include "send_window.hpp"

#include "wire/retained.hpp"

#include <algorithm>

namespace grav::zmq {

SendWindow::Entries& SendWindow::entries(std::string_view stream) {
    auto it = streams_.find(stream);
    if (it == streams_.end()) it = streams_.emplace(std::string(stream), Entries{}).first;
    return it->second;
}

void SendWindow::append(Entries& stream, const wire::Header& fields, std::string_view type,
                        std::span<const std::byte> payload) {
    const std::uint64_t seq = fields.seq;
    const std::size_t size = wire::retained_size(type, payload);
    const std::span<std::byte> out = ring_.append(size);
    wire::write_retained(out, fields, type, payload);
    stream.push_back(Entry{seq, out.data(), static_cast<std::uint32_t>(type.size()),
                           static_cast<std::uint32_t>(payload.size())});
    order_.push_back(Held{&stream, size});
    ++messages_;
    bytes_ += size;
    evict();
}

void SendWindow::evict() {
    // A single message larger than the byte bound is not kept either.
    while (!order_.empty() && (messages_ > max_messages_ || bytes_ > max_bytes_)) {
        const Held oldest = order_.front();
        order_.pop_front();
        if (oldest.stream) oldest.stream->pop_front();
        ring_.release_front(oldest.bytes);
        --messages_;
        bytes_ -= oldest.bytes;
    }
}

void SendWindow::for_each(std::string_view stream, std::uint64_t from, std::uint64_t to,
                          const std::function<void(const SentMessage&)>& each) const {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return;
    const auto& entries = it->second;
    auto at = std::lower_bound(entries.begin(), entries.end(), from,
                               [](const Entry& e, std::uint64_t seq) { return e.seq < seq; });
    for (; at != entries.end() && at->seq <= to; ++at) {
        const auto parts = wire::read_retained(at->at, at->type_size, at->payload_size);
        each(SentMessage{
            .seq = at->seq, .header = parts.header, .type = parts.type, .payload = parts.payload});
    }
}

std::uint64_t SendWindow::oldest(std::string_view stream) const {
    auto it = streams_.find(stream);
    return it == streams_.end() || it->second.empty() ? 0 : it->second.front().seq;
}

void SendWindow::forget(std::string_view stream) {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return;
    for (auto& held : order_) {
        if (held.stream == &it->second) held.stream = nullptr;
    }
    streams_.erase(it);
}

}  // namespace grav::zmq
