#include "line_reader.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace grav::cli {
namespace {

// Large reads: few system calls for a long line; the buffer's growth
// (geometric, by std::string) keeps appends amortised O(1) per byte.
constexpr std::size_t read_size = 64 * 1024;

}  // namespace

LineReader::LineReader(int fd, Interrupt& interrupt, std::size_t max_line)
    : fd_(fd), interrupt_(interrupt), max_line_(max_line) {}

std::optional<std::string> LineReader::next() {
    if (error_) return std::nullopt;
    for (;;) {
        const char* begin = buffer_.data();
        if (const void* found = std::memchr(begin + scanned_, '\n', buffer_.size() - scanned_)) {
            const auto newline = static_cast<std::size_t>(static_cast<const char*>(found) - begin);
            scanned_ = newline;
        } else {
            scanned_ = buffer_.size();
        }
        const std::size_t length = scanned_ - start_;
        if (length > max_line_) {
            error_ = Error(Errc::invalid_argument,
                           "line " + std::to_string(lines_ + 1) + " of standard input is longer than " +
                               std::to_string(max_line_) +
                               " bytes, the transport's maximum message size; it was not sent");
            return std::nullopt;
        }
        if (scanned_ < buffer_.size() || (eof_ && length > 0)) {
            std::string line = buffer_.substr(start_, length);
            start_ = scanned_ < buffer_.size() ? scanned_ + 1 : scanned_;
            scanned_ = start_;
            ++lines_;
            return line;
        }
        if (eof_) return std::nullopt;
        // Only the unfinished line stays: drop what was returned (each byte
        // is moved once, since start_ is 0 until a newline is found).
        if (start_ > 0) {
            buffer_.erase(0, start_);
            scanned_ -= start_;
            start_ = 0;
        }
        if (!fill()) eof_ = true;
        if (error_) return std::nullopt;
    }
}

bool LineReader::fill() {
    for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {interrupt_.fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            error_ =
                Error(Errc::transport_failed, std::string("poll on standard input: ") + std::strerror(errno));
            return false;
        }
        if (interrupt_.requested()) {
            buffer_.clear();  // Ctrl-C: an unfinished line is not published
            start_ = scanned_ = 0;
            return false;
        }
        const std::size_t old_size = buffer_.size();
        buffer_.resize(old_size + read_size);
        const ssize_t n = ::read(fd_, buffer_.data() + old_size, read_size);
        buffer_.resize(old_size + static_cast<std::size_t>(n > 0 ? n : 0));
        if (n > 0) return true;
        if (n == 0) return false;
        if (errno == EINTR || errno == EAGAIN) continue;
        error_ =
            Error(Errc::transport_failed, std::string("cannot read standard input: ") + std::strerror(errno));
        return false;
    }
}

}  // namespace grav::cli
