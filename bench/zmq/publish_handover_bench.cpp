// Why publishes are encoded on the publishing thread
// (zmq_transport/src/fanout_queue.hpp): the hand-over from a publishing
// thread to the transport thread, alone, no sockets. A producer makes 64 B
// messages as fast as it can; a consumer takes what is queued, in turns
// about 30 µs apart, as the transport thread does.
//
//   pointers: the producer queues the message itself; the consumer reads it
//             (as encoding it would) and hands it back to be freed by the
//             producer (the design before 35df9e6: Inbox::give_back)
//   encoded:  the producer encodes the message into the FanoutQueue and drops
//             it; the consumer takes the encoded frames and returns their
//             buffers for reuse (the design since)
//
// Prints each thread's CPU time per message (CLOCK_THREAD_CPUTIME_ID).
//
//   publish_handover_bench [--count N] [--runs R]
#include "bench_message.hpp"
#include "fanout_queue.hpp"

#include <grav/message.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using grav::Message;
using grav::MessagePtr;
using grav::zmq::FanoutQueue;

double thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

struct Result {
    double producer_ns = 0;
    double consumer_ns = 0;
    double wall_ns = 0;
};

// The consumer's turns: take, work, sleep ~30 µs when the turn found little.
constexpr auto turn_gap = std::chrono::microseconds(30);

// Calls `publish(message)` for `count` fresh messages on this thread while
// another runs `turn(done)` until it returns false (`done`, read under
// `mutex`, says the producer has finished); the CPU time of both, per message.
template <class Publish, class Turn>
Result measure(long count, std::mutex& mutex, Publish publish, Turn turn) {
    bool done = false;
    double consumer_ns = 0;
    std::thread consumer([&] {
        const double c0 = thread_cpu_ns();
        while (turn(static_cast<const bool&>(done))) {}
        consumer_ns = thread_cpu_ns() - c0;
    });
    const auto origin = grav::NodeId::random();
    const std::string payload(64, 'x');
    const auto t0 = Clock::now();
    const double p0 = thread_cpu_ns();
    for (long i = 0; i < count; ++i) publish(grav::bench::message(origin, payload));
    const double producer_ns = thread_cpu_ns() - p0;
    {
        std::lock_guard lock(mutex);
        done = true;
    }
    consumer.join();
    const double wall = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    const auto n = static_cast<double>(count);
    return {producer_ns / n, consumer_ns / n, wall / n};
}

Result pointers(long count) {
    std::mutex mutex;
    std::vector<MessagePtr> queue, returned;
    std::vector<MessagePtr> taken, spent;
    std::vector<std::byte> frame(8192);
    const auto publish = [&](MessagePtr m) {
        std::vector<MessagePtr> to_free;  // freed after the unlock, on this thread
        std::lock_guard lock(mutex);
        to_free.swap(returned);
        queue.push_back(std::move(m));
    };
    const auto turn = [&](const bool& done) {
        {
            std::lock_guard lock(mutex);
            taken.swap(queue);
            if (taken.empty() && done) return false;
        }
        std::size_t at = 0;
        for (const auto& m : taken) {  // read it, as encoding it would
            const auto payload = m->payload();
            if (at + 64 + payload.size() > frame.size()) at = 0;
            std::memcpy(&frame[at], &m->header().id, sizeof m->header().id);
            std::memcpy(&frame[at + 64], payload.data(), payload.size());
            at += 64 + payload.size();
        }
        std::move(taken.begin(), taken.end(), std::back_inserter(spent));
        const bool little = taken.size() < 64;
        taken.clear();
        {
            std::lock_guard lock(mutex);
            std::move(spent.begin(), spent.end(), std::back_inserter(returned));
        }
        spent.clear();
        if (little) std::this_thread::sleep_for(turn_gap);
        return true;
    };
    return measure(count, mutex, publish, turn);
}

Result encoded(long count) {
    std::mutex mutex;
    FanoutQueue queue;
    std::deque<FanoutQueue::Batch> taken;
    std::vector<std::vector<std::byte>> spent;
    const auto publish = [&](const MessagePtr& m) {
        std::lock_guard lock(mutex);
        queue.push(*m);
    };
    const auto turn = [&](const bool& done) {
        {
            std::lock_guard lock(mutex);
            queue.recycle(spent);
            queue.take(taken);
            if (taken.empty() && done) return false;
        }
        spent.clear();
        for (auto& batch : taken) spent.push_back(std::move(batch.frame));
        const bool little = taken.size() < 2;
        taken.clear();
        if (little) std::this_thread::sleep_for(turn_gap);
        return true;
    };
    return measure(count, mutex, publish, turn);
}

}  // namespace

int main(int argc, char** argv) {
    long count = 4000000;
    int runs = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::string(argv[i]) == "--count") count = std::stol(argv[i + 1]);
        if (std::string(argv[i]) == "--runs") runs = std::stoi(argv[i + 1]);
    }
    std::printf("hand-over of %ld publishes of 64 B, producer -> consumer, ns per message (CPU time)\n",
                count);
    std::printf("%-10s %10s %10s %10s\n", "design", "producer", "consumer", "wall");
    for (int r = 0; r < runs; ++r) {
        const Result p = pointers(count);
        std::printf("%-10s %10.0f %10.0f %10.0f\n", "pointers", p.producer_ns, p.consumer_ns, p.wall_ns);
        const Result e = encoded(count);
        std::printf("%-10s %10.0f %10.0f %10.0f\n", "encoded", e.producer_ns, e.consumer_ns, e.wall_ns);
    }
    return 0;
}
