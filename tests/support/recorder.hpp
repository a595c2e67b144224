#pragma once
// Collects the messages a handler sees, for assertions from the test thread.

#include <grav/message.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <vector>

namespace grav::test {

class Inbox {
public:
    void add(const Message& m) {
        std::lock_guard lock(mutex_);
        messages_.push_back(m);
    }
    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return messages_.size();
    }
    [[nodiscard]] std::vector<Message> messages() const {
        std::lock_guard lock(mutex_);
        return messages_;
    }
    [[nodiscard]] std::vector<std::string> payloads() const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        out.reserve(messages_.size());
        for (const auto& m : messages_) out.emplace_back(m.payload_view());
        return out;
    }
    [[nodiscard]] std::vector<std::string> types() const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> out;
        for (const auto& m : messages_) out.push_back(m.type());
        return out;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Message> messages_;
};

}  // namespace grav::test
