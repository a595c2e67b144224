// A peer written only from docs/PROTOCOL.md (tests/zmq/python_peer.py, plain
// pyzmq) joins a real node, receives its broadcast and answers it; the
// answer reaches the sending pod's receipt.
#include "child_process.hpp"

#include "support/test_util.hpp"

#include <grav/grav.hpp>
#include <grav/zmq.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

namespace grav::ztest {
namespace {

using namespace std::chrono_literals;
using grav::test::eventually;

TEST(ZmqPythonPeer, JoinsReceivesABroadcastAndRepliesToAReceipt) {
    if (!std::filesystem::exists(GRAV_PYTHON)) GTEST_SKIP() << GRAV_PYTHON << " not found";
    BusOptions o;
    o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0"});
    o.name = "cpp";
    Bus bus(std::move(o));
    Pod pod = bus.connect();
    pod.on([](const Message&) {});

    testkit::ChildProcess peer({GRAV_PYTHON, GRAV_PYTHON_PEER, bus.endpoint()});
    ASSERT_TRUE(peer.wait_for_prefix("joined " + bus.node_id().str(), 10s)) << [&] {
        std::string out;
        for (const auto& l : peer.lines()) out += l + "\n";
        return out;
    }();
    ASSERT_TRUE(eventually(
        [&] {
            auto peers = bus.peers();
            return peers.size() == 1 && peers.front().name == "python";
        },
        5s));

    Receipt receipt = pod.send(Message("req.python", "hello"));
    auto reply = receipt.wait_until(10s);
    ASSERT_TRUE(reply.ok()) << reply.error().what();
    EXPECT_EQ(reply->type(), "rep.python");
    EXPECT_EQ(reply->payload_view(), "python:hello");
    EXPECT_EQ(reply->reply_to(), receipt.id());
    EXPECT_EQ(reply->origin(), bus.peers().front().id);
    EXPECT_TRUE(peer.wait_for_prefix("got req.python hello", 1s));

    // It says goodbye, and leaves the node clean.
    EXPECT_EQ(peer.wait_exit(10s), 0);
    ASSERT_TRUE(eventually([&] { return bus.peers().empty(); }, 5s));
    const auto stats = bus.stats().network;
    EXPECT_EQ(stats.at("zmq.malformed"), 0u);
    EXPECT_EQ(stats.at("zmq.gaps"), 0u);
}

TEST(ZmqPythonPeer, ABatchFromAnotherProcessArrivesInOrderAndAMalformedOneIsRejectedWhole) {
    if (!std::filesystem::exists(GRAV_PYTHON)) GTEST_SKIP() << GRAV_PYTHON << " not found";
    BusOptions o;
    o.transport = zmq::transport({.bind = "tcp://127.0.0.1:0"});
    Bus bus(std::move(o));
    Pod pod = bus.connect();
    std::mutex mutex;
    std::vector<std::string> replies;
    const Status pod_handler = pod.on_type("rep.python", [&](const Message& m) {
        std::lock_guard lock(mutex);
        replies.emplace_back(m.payload_view());
    });
    ASSERT_TRUE(pod_handler.ok()) << pod_handler.error().what();

    testkit::ChildProcess peer({GRAV_PYTHON, GRAV_PYTHON_PEER, bus.endpoint(), "--batch"});
    ASSERT_TRUE(peer.wait_for_prefix("joined " + bus.node_id().str(), 10s));
    ASSERT_TRUE(eventually([&] { return bus.peers().size() == 1; }, 5s));
    // The peer answers with a junk frame (two records claimed, one there),
    // then with one frame holding two records.
    Receipt receipt = pod.send(Message("req.python", "hi"));
    auto reply = receipt.wait_until(10s);
    ASSERT_TRUE(reply.ok()) << reply.error().what();
    EXPECT_EQ(reply->payload_view(), "python:hi");
    EXPECT_TRUE(peer.wait_for_prefix("sent junk", 1s));
    ASSERT_TRUE(eventually([&] { return bus.stats().network.at("zmq.direct_received") == 2; }, 5s));
    const auto stats = bus.stats().network;
    EXPECT_EQ(stats.at("zmq.malformed"), 1u);  // the junk, rejected whole: none of it delivered
    EXPECT_EQ(stats.at("zmq.gaps"), 0u);       // its sequence numbers never counted
    EXPECT_EQ(stats.at("zmq.duplicates"), 0u);
    // The record after the one the receipt took reached the pod, in order.
    ASSERT_TRUE(eventually(
        [&] {
            std::lock_guard lock(mutex);
            return !replies.empty() && replies.back() == "python:again";
        },
        5s));
    EXPECT_EQ(peer.wait_exit(10s), 0);
}

}  // namespace
}  // namespace grav::ztest
