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
    //
    // Publishes travel in vectors that trade places: an empty `publishes`
    // leaves its capacity here for the publishers to fill, so neither thread
    // allocates for the queue once both have grown (a deque allocated a
    // block every 32 publishes on the publisher's thread and freed it on this
    // one, across threads: see give_back for what that costs).
    void take(std::deque<Command>& commands, std::vector<MessagePtr>& publishes, std::size_t max);

    // Transport thread: publishes it has sent, handed back so that the next
    // publish() drops them on the publisher's thread (empties `spent`).
    //
    // Why: a message freed on another thread than the one that allocated it
    // goes back to the allocating thread's malloc arena under that arena's
    // lock, while the publisher allocates under the same lock. At a million
    // publishes a second that lock was contended on most messages, and each
    // contended lock costs two futex(2) calls (~1.5 µs each on these virtual
    // machines): publishing cost 2-3x what it costs with the messages made
    // beforehand. Freed by the thread that made them, they go through that
    // thread's own malloc cache, and its next messages reuse them.
    //
    // Hand-backs add up until a publish() collects them, to at most
    // `max_returned` messages (freeing 8,192 with 64 B payloads took 219 µs
    // on the 2-vCPU VM, the longest that publish() then pauses): beyond
    // that, or once nobody has published for a timer turn
    // (drop_uncollected), the transport thread drops them itself.
    void give_back(std::vector<MessagePtr>& spent);
    static constexpr std::size_t max_returned = 8192;
    // What publish() does with handed-back messages, for a publisher that
    // sends on its own thread instead (node_inline.cpp): moves them into
    // `into`, which the caller drops after its unlocks.
    void collect(std::vector<MessagePtr>& into);
    // Transport thread, once per timer turn: drops what was handed back
    // before the previous call and is still there (the publisher went quiet).
    void drop_uncollected();
    std::uint64_t blocked_publishes() const;

private:
    void wake_locked();
    void collect_locked(std::vector<MessagePtr>& into);

    const std::size_t max_publishes_;
    mutable std::mutex mutex_;
    std::condition_variable not_full_;
    std::deque<Command> commands_;
    std::vector<MessagePtr> publishes_;
    std::vector<MessagePtr> returned_;  // give_back(): for the next publish() to drop
    std::uint64_t returns_ = 0;         // give_back() calls that returned something
    std::uint64_t returns_seen_ = 0;    // returns_ at the last drop_uncollected()
    bool woken_ = false;
    bool stop_ = false;
    bool closed_ = false;
    std::uint64_t blocked_ = 0;
    EventFd wake_;
};

}  // namespace grav::zmq
