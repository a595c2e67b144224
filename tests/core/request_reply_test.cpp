// Request/reply: synchronous (wait_until), asynchronous (on_reply), the
// future-style request, replies that arrive before anyone waits, and requests
// nobody answers.
#include <grav/grav.hpp>

#include "support/recorder.hpp"
#include "support/test_util.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace grav::test {
namespace {

// The example, verbatim in spirit.
TEST(RequestReply, SynchronousWaitUntilGetsTheReply) {
    Bus bus;
    Pod server = bus.connect();
    const Status server_handler = server.on_type("greet", [&](const Message& m) {
        server.reply_to(m, Message("greet.reply", "hey " + std::string(m.payload_view())));
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = bus.connect();
    const Message request("greet", "joey");
    auto receipt = client.send(request);
    ASSERT_TRUE(receipt.status().ok());
    Result<Message> reply = receipt.wait_until(2s);
    ASSERT_TRUE(reply.ok()) << reply.error().what();
    EXPECT_EQ(reply->payload_view(), "hey joey");
    EXPECT_EQ(reply->type(), "greet.reply");
    EXPECT_EQ(reply->reply_to(), request.id());
    EXPECT_EQ(reply->parent_id(), request.id());
}

TEST(RequestReply, WaitUntilWithAHandlerSkipsUnwantedReplies) {
    // State the handlers touch, declared first so it outlives every pod.
    std::vector<std::string> seen;
    Bus bus;
    Pod server = bus.connect();
    const Status server_handler = server.on_type("count", [&](const Message& m) {
        for (int i = 1; i <= 3; ++i) server.reply_to(m, Message("count.reply", std::to_string(i)));
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = bus.connect();
    auto receipt = client.send(Message("count"));
    Status s = receipt.wait_until(2s, [&](const Message& r) -> Status {
        seen.emplace_back(r.payload_view());
        return r.payload_view() == "3" ? success() : Status(not_wanted());
    });
    ASSERT_TRUE(s.ok()) << s.error().what();
    EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "3"}));
}

TEST(RequestReply, AsynchronousOnReplyIsCalledForEachReply) {
    // State the handlers touch, declared first so it outlives every pod.
    Inbox replies;
    Bus bus;
    Pod server = bus.connect();
    const Status server_handler = server.on_type("ask", [&](const Message& m) {
        server.reply_to(m, Message("ask.reply", "one"));
        server.reply_to(m, Message("ask.reply", "two"));
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = bus.connect();
    auto receipt = client.send(Message("ask"));
    receipt.on_reply([&](const Message& m) { replies.add(m); });
    ASSERT_TRUE(eventually([&] { return replies.size() == 2; }));
    EXPECT_EQ(replies.payloads(), (std::vector<std::string>{"one", "two"}));
}

TEST(RequestReply, OnReplySetLateStillGetsRepliesThatAlreadyArrived) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<int> answered{0};
    Inbox replies;
    Bus bus;
    Pod server = bus.connect();
    const Status server_handler = server.on_type("ask", [&](const Message& m) {
        server.reply_to(m, Message("ask.reply", "early"));
        ++answered;
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = bus.connect();
    auto receipt = client.send(Message("ask"));
    ASSERT_TRUE(eventually([&] { return answered == 1; }));
    std::this_thread::sleep_for(10ms);
    receipt.on_reply([&](const Message& m) { replies.add(m); });
    ASSERT_TRUE(eventually([&] { return replies.size() == 1; }));
    EXPECT_EQ(replies.payloads()[0], "early");
}

TEST(RequestReply, FutureStyleRequest) {
    Bus bus;
    Pod server = bus.connect();
    const Status server_handler = server.on_type("sum", [&](const Message& m) {
        auto v = m.as<int>();
        server.reply_to(m, Message::of("sum.reply", v ? *v + 1 : -1));
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = bus.connect();
    auto future = client.request(Message::of("sum", 41), 2s);
    ASSERT_EQ(future.wait_for(5s), std::future_status::ready);
    Result<Message> reply = future.get();
    ASSERT_TRUE(reply.ok()) << reply.error().what();
    EXPECT_EQ(*reply->as<int>(), 42);
}

// The Go original loses about 1 in 20,000 replies that arrive before the
// requester waits. Here every request waits only after its reply is known to
// have been sent, the worst case, and every reply must be there.
TEST(RequestReply, AReplyThatArrivesBeforeTheWaitIsNeverLost) {
    // State the handlers touch, declared first so it outlives every pod.
    std::atomic<std::uint64_t> replied{0};
    BusOptions options;
    Bus bus(std::move(options));
    Pod server = bus.connect();
    const Status server_handler = server.on_type("ping", [&](const Message& m) {
        server.reply_to(m, Message("pong", m.payload_view()));
        replied.fetch_add(1, std::memory_order_release);
    });
    ASSERT_TRUE(server_handler.ok()) << server_handler.error().what();
    Pod client = bus.connect();
    const std::size_t n = scaled(20000, 500);
    std::size_t lost = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::string payload = std::to_string(i);
        auto receipt = client.send(Message("ping", payload));
        if (i % 2 == 0) {
            // Wait for the server to have replied before we start waiting.
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            while (replied.load(std::memory_order_acquire) <= i && std::chrono::steady_clock::now() < deadline)
                std::this_thread::yield();
        }
        auto reply = receipt.wait_until(5s);
        if (!reply.ok() || reply->payload_view() != payload) {
            ++lost;
            ADD_FAILURE() << "request " << i << ": " << (reply.ok() ? "wrong reply" : reply.error().what());
            if (lost > 3) break;
        }
    }
    EXPECT_EQ(lost, 0U);
}

TEST(RequestReply, ARequestNobodyAnswersFailsAtItsTimeout) {
    Bus bus;
    Pod client = bus.connect();
    Pod deaf = bus.connect();
    deaf.on([](const Message&) {});  // receives, never replies
    auto t0 = std::chrono::steady_clock::now();
    Result<Message> reply = client.send(Message("ask")).wait_until(200ms);
    auto elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code(), Errc::timeout);
    EXPECT_FALSE(reply.error().reason().empty());
    EXPECT_GE(elapsed, 200ms);
    EXPECT_LT(elapsed, 2s);

    t0 = std::chrono::steady_clock::now();
    auto future = client.request(Message("ask"), 200ms);
    ASSERT_EQ(future.wait_for(5s), std::future_status::ready) << "request future never resolved";
    reply = future.get();
    elapsed = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(reply.ok());
    EXPECT_EQ(reply.error().code(), Errc::timeout);
    EXPECT_GE(elapsed, 200ms);
    EXPECT_LT(elapsed, 2s);
}

TEST(RequestReply, ManyUnansweredRequestsAllTimeOut) {
    Bus bus;
    Pod client = bus.connect();
    std::vector<std::future<Result<Message>>> futures;
    for (int i = 0; i < 1000; ++i) futures.push_back(client.request(Message("void"), 100ms));
    for (auto& f : futures) {
        ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
        auto r = f.get();
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code(), Errc::timeout);
    }
}

TEST(RequestReply, AnEmptyReceiptFailsInsteadOfWaiting) {
    Receipt empty;
    const auto t0 = std::chrono::steady_clock::now();
    auto r = empty.wait_until(2s);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::invalid_argument);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST(RequestReply, WaitingForAReplyEndsWhenTheBusStops) {
    auto bus = std::make_unique<Bus>();
    Pod client = bus->connect();
    auto receipt = client.send(Message("ask"));
    std::thread stopper([&] {
        std::this_thread::sleep_for(50ms);
        bus->stop();
    });
    const auto t0 = std::chrono::steady_clock::now();
    Status s = receipt.wait_on([](const Message&) { return success(); });
    stopper.join();
    ASSERT_FALSE(s.ok());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

}  // namespace
}  // namespace grav::test
