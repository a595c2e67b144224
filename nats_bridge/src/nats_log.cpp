#include "nats_log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace grav::nats::detail {
namespace {

int level() {
    static const int value = [] {
        const char* env = std::getenv("GRAV_LOG");
        if (env == nullptr) return 1;
        if (std::strcmp(env, "quiet") == 0) return 0;
        if (std::strcmp(env, "debug") == 0) return 2;
        return 1;
    }();
    return value;
}

void write(std::string_view line) {
    static std::mutex mutex;
    static std::chrono::steady_clock::time_point window{};
    static int lines = 0;
    {
        std::lock_guard lock(mutex);
        const auto now = std::chrono::steady_clock::now();
        if (now - window > std::chrono::seconds(1)) {
            window = now;
            lines = 0;
        }
        if (++lines > 20) return;
    }
    std::fprintf(stderr, "grav.nats: %.*s\n", static_cast<int>(line.size()), line.data());
}

}  // namespace

void log_warning(std::string_view line) {
    if (level() >= 1) write(line);
}

void log_debug(std::string_view line) {
    if (level() >= 2) write(line);
}

}  // namespace grav::nats::detail
