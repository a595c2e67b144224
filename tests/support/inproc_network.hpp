#pragma once
// The in-process network's shared state (private to inproc_transport.cpp and
// inproc_transport_messages.cpp): a transport's queue, the network's
// directory of queues and broken links, and the "inproc-net://<n>" endpoints.

#include "support/inproc_transport.hpp"

#include <charconv>
#include <condition_variable>
#include <deque>
#include <functional>
#include <set>
#include <utility>

namespace grav::test::detail {

// One transport's queue. Work runs on the owning transport's thread with
// `live` false once the transport is stopping, so that queued work can still
// keep its promises (a send_to's `done` is always called).
class Mailbox {
public:
    using Work = std::function<void(InprocTransport&, bool live)>;

    bool post(Work work) {
        {
            std::lock_guard lock(mutex_);
            if (closed_) return false;
            queue_.push_back(std::move(work));
        }
        ready_.notify_one();
        return true;
    }
    // Blocks for work; false once closed and empty.
    bool take(Work& out) {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return false;
        out = std::move(queue_.front());
        queue_.pop_front();
        return true;
    }
    void close() {
        {
            std::lock_guard lock(mutex_);
            closed_ = true;
        }
        ready_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<Work> queue_;
    bool closed_ = false;
};

struct NetworkState {
    std::mutex mutex;
    int next_number = 1;
    std::map<int, std::shared_ptr<Mailbox>> by_number;
    std::map<NodeId, std::shared_ptr<Mailbox>> by_id;
    std::set<std::pair<NodeId, NodeId>> broken;

    std::shared_ptr<Mailbox> find(int number) {
        std::lock_guard lock(mutex);
        auto it = by_number.find(number);
        return it == by_number.end() ? nullptr : it->second;
    }
    std::shared_ptr<Mailbox> find(const NodeId& id) {
        std::lock_guard lock(mutex);
        auto it = by_id.find(id);
        return it == by_id.end() ? nullptr : it->second;
    }
    bool post(const NodeId& to, Mailbox::Work work) {
        auto box = find(to);
        return box && box->post(std::move(work));
    }
    bool link_broken(const NodeId& from, const NodeId& to) {
        std::lock_guard lock(mutex);
        return broken.count({from, to}) != 0;
    }
};

inline constexpr std::string_view kScheme = "inproc-net://";

inline std::string endpoint_of(int number) { return std::string(kScheme) + std::to_string(number); }

inline std::optional<int> parse_endpoint(std::string_view endpoint) {
    if (!endpoint.starts_with(kScheme)) return std::nullopt;
    endpoint.remove_prefix(kScheme.size());
    int number = 0;
    auto [end, ec] = std::from_chars(endpoint.data(), endpoint.data() + endpoint.size(), number);
    if (ec != std::errc{} || end != endpoint.data() + endpoint.size() || number <= 0) return std::nullopt;
    return number;
}

}  // namespace grav::test::detail
