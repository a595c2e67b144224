#pragma once
// Line output shared by the LAN node programs: one event per line, flushed at
// once (a test reads it through a pipe while the node runs), never two lines
// interleaved by the bus's threads.

#include <grav/peer.hpp>

#include <cstdio>
#include <mutex>

namespace grav::testkit {

inline std::mutex& output_mutex() {
    static std::mutex m;
    return m;
}

template <class... Args>
void emit(const char* format, Args... args) {
    const std::lock_guard lock(output_mutex());
    std::printf(format, args...);
    std::fflush(stdout);
}

inline const char* reason_word(grav::LeaveReason r) {
    switch (r) {
        case grav::LeaveReason::withdrew: return "withdrew";
        case grav::LeaveReason::timed_out: return "timed_out";
        case grav::LeaveReason::refused: return "refused";
        case grav::LeaveReason::replaced: return "replaced";
        case grav::LeaveReason::local_stop: return "local_stop";
    }
    return "unknown";
}

}  // namespace grav::testkit
