#include "send_window.hpp"

#include "wire.hpp"

#include <algorithm>

namespace grav::zmq {

void SendWindow::record(std::string_view stream, std::uint64_t seq, const MessagePtr& message) {
    if (max_messages_ == 0 || max_bytes_ == 0) return;
    auto it = streams_.find(stream);
    if (it == streams_.end()) it = streams_.emplace(std::string(stream), std::deque<Entry>{}).first;
    const std::size_t size = message->type().size() + wire::header_size + message->payload_size();
    it->second.push_back(Entry{seq, message, size});
    order_.push_back(&it->second);
    ++messages_;
    bytes_ += size;
    evict();
}

void SendWindow::evict() {
    // A single message larger than the byte bound is not kept either.
    while (!order_.empty() && (messages_ > max_messages_ || bytes_ > max_bytes_)) {
        auto* entries = order_.front();
        order_.pop_front();
        --messages_;
        bytes_ -= entries->front().bytes;
        entries->pop_front();
    }
}

void SendWindow::for_each(std::string_view stream, std::uint64_t from, std::uint64_t to,
                          const std::function<void(std::uint64_t, const MessagePtr&)>& each) const {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return;
    const auto& entries = it->second;
    auto at = std::lower_bound(entries.begin(), entries.end(), from,
                               [](const Entry& e, std::uint64_t seq) { return e.seq < seq; });
    for (; at != entries.end() && at->seq <= to; ++at) each(at->seq, at->message);
}

std::uint64_t SendWindow::oldest(std::string_view stream) const {
    auto it = streams_.find(stream);
    return it == streams_.end() || it->second.empty() ? 0 : it->second.front().seq;
}

void SendWindow::forget(std::string_view stream) {
    auto it = streams_.find(stream);
    if (it == streams_.end()) return;
    auto* entries = &it->second;
    std::erase(order_, entries);
    messages_ -= entries->size();
    for (const auto& e : *entries) bytes_ -= e.bytes;
    streams_.erase(it);
}

}  // namespace grav::zmq
