// A program outside the grav tree: one bus, two pods, one request answered.
// Exits 0 when the reply arrives with the expected text.
#include <grav/grav.hpp>

// grav::core is the standalone bus: its headers must not drag ZeroMQ in.
#ifdef ZMQ_VERSION_MAJOR
#error "<grav/grav.hpp> (grav::core) includes ZeroMQ"
#endif

#include <chrono>
#include <cstdio>
#include <string>

int main() {
    grav::Bus bus;
    grav::Pod server = bus.connect();
    const grav::Status handler = server.on_type("greet", [&server](const grav::Message& m) {
        server.reply_to(m, grav::Message("greet.reply", "hey " + std::string(m.payload_view())));
    });
    if (!handler) {
        std::fprintf(stderr, "consumer: on_type: %s\n", handler.error().what().c_str());
        return 1;
    }
    grav::Pod client = bus.connect();
    auto reply = client.send(grav::Message("greet", "joey")).wait_until(std::chrono::seconds(10));
    if (!reply) {
        std::fprintf(stderr, "consumer: no reply: %s\n", reply.error().what().c_str());
        return 1;
    }
    if (reply->payload_view() != "hey joey") {
        std::fprintf(stderr, "consumer: wrong reply '%.*s'\n", static_cast<int>(reply->payload_size()),
                     reply->payload_view().data());
        return 1;
    }
    std::printf("consumer: reply '%s'\n", std::string(reply->payload_view()).c_str());
    return 0;
}
