#pragma once
// How other threads hand work to the transport thread: two queues under one
// mutex, and an eventfd that the transport thread polls in the same poll(2)
// as its sockets (SocketPoller). Publishes are bounded (publish() blocks
// while the queue is full: backpressure); commands are few and never block.

#include <grav/transport.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace grav::zmq {

namespace command {
struct SendTo {
    NodeId peer;
    MessagePtr message;
    SendDone done;
};
struct Dial {
    std::string endpoint;
};
struct DialContact {
    Contact contact;
    NodeId expected;
};
struct Drop {
    NodeId peer;
};
struct Subscribe {
    std::vector<std::string> prefixes;
};
}  // namespace command

using Command =
    std::variant<command::SendTo, command::Dial, command::DialContact, command::Drop, command::Subscribe>;

// A file descriptor closed on destruction.
class EventFd {
public:
    EventFd();
    ~EventFd();
    EventFd(const EventFd&) = delete;
    EventFd& operator=(const EventFd&) = delete;
    [[nodiscard]] int fd() const noexcept { return fd_; }
    void signal() const noexcept;
    void clear() const noexcept;

private:
    int fd_;
};

class Inbox {
public:
    explicit Inbox(std::size_t max_publishes) : max_publishes_(max_publishes) {}

    // False once closed (the message is not queued).
    bool publish(MessagePtr message);
    // False once closed (the command is handed back untouched in `rejected`).
    bool push(Command command, Command* rejected = nullptr);
    // Stops the transport thread at its next turn; wakes blocked publishers.
    void request_stop();
    void close();

    [[nodiscard]] int wake_fd() const noexcept { return wake_.fd(); }
    // Makes the transport thread take a turn (node_inline.cpp).
    void wake();
    // Whether work waits to be taken: what is sent inline must not overtake it.
    [[nodiscard]] bool has_commands() const;
    [[nodiscard]] bool has_publishes() const;
    [[nodiscard]] bool stop_requested() const;

    // Transport thread: takes what is queued. `max` bounds the publishes
    // taken (0 = none, when the thread is itself held back).
    void take(std::deque<Command>& commands, std::deque<MessagePtr>& publishes, std::size_t max);
    std::uint64_t blocked_publishes() const;

private:
    void wake_locked();

    const std::size_t max_publishes_;
    mutable std::mutex mutex_;
    std::condition_variable not_full_;
    std::deque<Command> commands_;
    std::deque<MessagePtr> publishes_;
    bool woken_ = false;
    bool stop_ = false;
    bool closed_ = false;
    std::uint64_t blocked_ = 0;
    EventFd wake_;
};

}  // namespace grav::zmq
