#pragma once
// Whether this thread runs the transport's loop while it waits for a reply
// (ReplySlot::serve_for_arrival, Transport::serve_until). Messages from
// peers that such a thread hands to pods never wait for mailbox room, as
// from a handler: the thread waits for its reply, may hold locks a handler
// needs, and must not be held up by pods; the transport's own thread, back
// in charge after the wait, waits for room again (docs/GUIDE.md).

namespace grav::detail {

[[nodiscard]] bool serving_a_wait() noexcept;

// Marks this thread as serving for its lifetime.
class ServingAWait {
public:
    ServingAWait() noexcept;
    ~ServingAWait();
    ServingAWait(const ServingAWait&) = delete;
    ServingAWait& operator=(const ServingAWait&) = delete;

private:
    bool previous_;
};

}  // namespace grav::detail
