// The in-process demo that scripts/demo.sh runs until the multi-node demo
// lands: one bus, three pods, a broadcast, a typed request and its reply.
#include <grav/grav.hpp>

#include <chrono>
#include <cstdio>
#include <string>

namespace {

// A typed payload: cereal serialises it (Message::of / Message::as).
struct Sum {
    int a = 0;
    int b = 0;
    template <class Archive>
    void serialize(Archive& archive) {
        archive(a, b);
    }
};

void say(const char* who, const std::string& what) { std::printf("%-8s %s\n", who, what.c_str()); }

}  // namespace

int main() {
    using namespace std::chrono_literals;
    grav::Bus bus;  // standalone: no network
    say("bus", "node " + bus.node_id().str() + " up");

    // A pod that serves "math.add": decodes the typed request and replies.
    grav::Pod math = bus.connect();
    const grav::Status serving = math.on_type("math.add", [&math](const grav::Message& m) -> grav::Status {
        auto sum = m.as<Sum>();
        if (!sum) return sum.error();  // a failure the bus counts (and redelivers once we succeed)
        say("math", "adding " + std::to_string(sum->a) + " + " + std::to_string(sum->b));
        math.reply_to(m, grav::Message::of("math.result", sum->a + sum->b));
        return grav::success();
    });

    // A pod that prints every chat line; it never sees messages it sent itself.
    grav::Pod log = bus.connect();
    const grav::Status logging = log.on_type("chat.*", [](const grav::Message& m) {
        say("log", "heard '" + std::string(m.payload_view()) + "'");
    });
    if (!serving || !logging) {
        say("app", "cannot set a handler: " + (serving ? logging : serving).error().what());
        return 1;
    }

    grav::Pod app = bus.connect();
    app.send(grav::Message("chat.line", "hello, everyone"));

    // Request/reply: the receipt catches the reply even if it comes before we wait.
    auto reply = app.send(grav::Message::of("math.add", Sum{40, 2})).wait_until(2s);
    if (!reply) {
        say("app", "no answer: " + reply.error().what());
        return 1;
    }
    auto result = reply->as<int>();
    if (!result || *result != 42) {
        say("app", "wrong answer");
        return 1;
    }
    say("app", "40 + 2 = " + std::to_string(*result));

    bus.stop();  // drains queued messages, disconnects the pods
    auto stats = bus.stats();
    say("bus", "sent " + std::to_string(stats.sent) + ", delivered " + std::to_string(stats.delivered) +
                   ", dropped " + std::to_string(stats.dropped));
    return 0;
}
