#pragma once
// A grav::zmq transport with its recorder, as the tests in tests/zmq drive
// it (no Bus): fast heartbeats on 127.0.0.1, plus the two steps nearly every
// test takes: make a message, join two nodes.

#include "recording_events.hpp"

#include "support/test_util.hpp"

#include <grav/zmq.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

namespace grav::ztest {

// One transport and its recorder, bound on 127.0.0.1, not yet started.
inline zmq::Options fast_options() {
    zmq::Options o;
    o.bind = "tcp://127.0.0.1:0";
    o.heartbeat_interval = std::chrono::milliseconds(200);
    o.heartbeat_timeout = std::chrono::milliseconds(1000);
    o.handshake_timeout = std::chrono::milliseconds(1500);
    o.linger = std::chrono::milliseconds(500);
    // Quiet unless GRAV_TEST_LOG is set: keeps test output readable.
    if (std::getenv("GRAV_TEST_LOG") == nullptr) o.log = [](std::string_view) {};
    return o;
}

struct TestNode {
    LocalNode self;
    RecordingEvents events;
    std::unique_ptr<Transport> transport;  // last: stopped before events go

    explicit TestNode(std::string name, zmq::Options options = fast_options(), std::string group = "*") {
        self.id = NodeId::random();
        self.name = std::move(name);
        self.belongs_to = std::move(group);
        transport = zmq::transport(std::move(options));
    }
    Status start() { return transport->start(self, events); }
    const NodeId& id() const { return self.id; }
};

// A message of `type` from `origin`, as a bus would hand it to the transport.
inline MessagePtr make(const std::string& type, const std::string& payload, const NodeId& origin) {
    MessageHeader h{.id = MessageId::random(),
                    .parent_id = {},
                    .reply_to = {},
                    .type = type,
                    .timestamp = Clock::now(),
                    .origin = origin};
    return std::make_shared<const Message>(std::move(h), payload);
}

// b dials a; returns once each has reported the other joined (fails the test after 10 s).
inline void join(TestNode& a, TestNode& b) {
    using namespace std::chrono_literals;
    ASSERT_TRUE(b.transport->connect(a.transport->endpoint()).ok());
    ASSERT_TRUE(grav::test::eventually(
        [&] { return a.events.has_joined(b.id()) && b.events.has_joined(a.id()); }, 10s))
        << "no join: a refused " << a.events.refused().size() << ", b refused " << b.events.refused().size();
}

}  // namespace grav::ztest
