// The baseline for the discovery benchmark: what joining a known peer costs
// with raw libzmq and nothing else — a DEALER dials a ROUTER at a known
// address and gets one reply. No discovery, no handshake protocol.
//   raw_zmq_ping server <endpoint>   prints "UP", echoes every message
//   raw_zmq_ping client <endpoint>   prints "START <ms>" then "DONE <ms>"

#include "child_process.hpp"

#include <zmq.hpp>

#include <csignal>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s server|client <endpoint>\n", argv[0]);
        return 2;
    }
    const std::string mode = argv[1];
    if (mode == "client") std::printf("START %.3f\n", grav::testkit::monotonic_ms());
    ::zmq::context_t context;
    if (mode == "server") {
        ::zmq::socket_t router(context, ::zmq::socket_type::router);
        router.bind(argv[2]);
        std::printf("UP\n");
        std::fflush(stdout);
        while (true) {
            ::zmq::message_t id;
            ::zmq::message_t body;
            if (!router.recv(id) || !router.recv(body)) break;
            router.send(id, ::zmq::send_flags::sndmore);
            router.send(body, ::zmq::send_flags::none);
        }
        return 0;
    }
    ::zmq::socket_t dealer(context, ::zmq::socket_type::dealer);
    dealer.set(::zmq::sockopt::linger, 0);
    dealer.connect(argv[2]);
    dealer.send(::zmq::str_buffer("ping"), ::zmq::send_flags::none);
    ::zmq::message_t reply;
    if (!dealer.recv(reply)) return 1;
    std::printf("DONE %.3f\n", grav::testkit::monotonic_ms());
    std::fflush(stdout);
    return 0;
}
