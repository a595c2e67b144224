#include "output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace grav::cli {
namespace {

std::mutex& output_mutex() {
    static std::mutex m;
    return m;
}

void write_stderr(std::string_view prefix, std::string_view text) {
    const std::lock_guard lock(output_mutex());
    std::fprintf(stderr, "grav: %.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
                 static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
}

// True when every byte sequence is valid UTF-8 and there are no control
// characters but tab.
bool printable_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        std::size_t extra = 0;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t') return false;
            if (c == 0x7f) return false;
        } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            extra = 1;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            extra = 3;
        } else {
            return false;
        }
        if (i + extra >= s.size() && extra > 0) return false;  // truncated sequence
        for (std::size_t k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        i += extra + 1;
    }
    return true;
}

}  // namespace

bool print_line(std::string_view line) {
    std::string text;
    text.reserve(line.size() + 1);
    text.append(line).push_back('\n');
    return static_cast<bool>(write_stdout(text));
}

Status write_stdout(std::string_view bytes) {
    const std::lock_guard lock(output_mutex());
    errno = 0;
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    if (std::fflush(stdout) == 0 && std::ferror(stdout) == 0) return success();
    const int error = errno;
    std::clearerr(stdout);  // the next write reports its own error, not this one
    if (error == EPIPE) return Error(Errc::closed, "standard output is closed (broken pipe)");
    return Error(Errc::transport_failed, std::string("cannot write to standard output: ") +
                                             (error != 0 ? std::strerror(error) : "write error"));
}

void print_note(std::string_view text) { write_stderr("", text); }
void print_warning(std::string_view text) { write_stderr("warning: ", text); }
void print_error(std::string_view text) { write_stderr("error: ", text); }

std::string clock_text(Clock::time_point when) {
    const std::time_t seconds = Clock::to_time_t(when);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() % 1000;
    char text[32];
    std::snprintf(text, sizeof text, "%02d:%02d:%02d.%03d", local.tm_hour, local.tm_min, local.tm_sec,
                  static_cast<int>(millis));
    return text;
}

std::string payload_text(const Message& message, std::size_t limit) {
    std::string_view payload = message.payload_view();
    while (!payload.empty() && (payload.back() == '\n' || payload.back() == '\r')) payload.remove_suffix(1);
    if (!printable_utf8(payload)) return "<" + std::to_string(message.payload_size()) + " bytes>";
    if (payload.size() > limit) return std::string(payload.substr(0, limit)) + "...";
    return std::string(payload);
}

}  // namespace grav::cli
