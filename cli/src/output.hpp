#pragma once
// Lines to stdout/stderr from several threads (pod handlers run on the bus's
// workers, peer events on the network thread) without interleaving, flushed
// at once so that pipes see every line as it happens.

#include <grav/message.hpp>

#include <string>
#include <string_view>

namespace grav::cli {

// Writes one line (a '\n' is added). False once a write failed.
bool print_line(std::string_view line);
// Writes `bytes` to stdout and flushes. Error(closed) when the reader is gone
// (EPIPE: `grav sub | head -1`, an ordinary end); any other error
// (transport_failed: ENOSPC on /dev/full, EBADF on a closed stdout) means
// the output is lost and the command fails.
Status write_stdout(std::string_view bytes);
// "grav: <text>" on stderr.
void print_note(std::string_view text);
void print_warning(std::string_view text);
void print_error(std::string_view text);

// "21:04:05.123", local time.
std::string clock_text(Clock::time_point when);
// The payload as text when it is printable UTF-8, else "<N bytes>"; never
// more than `limit` characters.
std::string payload_text(const Message& message, std::size_t limit = 4096);

}  // namespace grav::cli
