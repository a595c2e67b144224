#include "log.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace grav::detail {
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

void write(const char* tag, std::string_view line) {
    // One fprintf per line keeps lines whole when threads log at once.
    std::fprintf(stderr, "grav %s: %.*s\n", tag, static_cast<int>(line.size()), line.data());
}

}  // namespace

void log_warning(std::string_view line) {
    if (level() >= 1) write("warning", line);
}

void log_debug(std::string_view line) {
    if (level() >= 2) write("debug", line);
}

}  // namespace grav::detail
