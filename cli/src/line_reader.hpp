#pragma once
// Reads a file descriptor (pub's stdin) line by line while watching for
// Ctrl-C, in time linear in the bytes read: each byte is scanned for '\n'
// once and moved at most once, however long the line.
//
// A line longer than `max_line` bytes is refused as soon as it passes the
// bound, without reading the rest of it into memory: the reader stops with
// an error that says which line and why.

#include "interrupt.hpp"

#include <grav/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace grav::cli {

class LineReader {
public:
    LineReader(int fd, Interrupt& interrupt, std::size_t max_line);

    // The next line without its '\n' (the last one may lack it). nullopt at
    // the end of input, on Ctrl-C, or on an error (then error() says why).
    std::optional<std::string> next();

    [[nodiscard]] const std::optional<Error>& error() const noexcept { return error_; }
    // Lines returned so far.
    [[nodiscard]] std::uint64_t lines() const noexcept { return lines_; }

private:
    // Appends what one read() gives; false at end of input, on error or Ctrl-C.
    bool fill();

    int fd_;
    Interrupt& interrupt_;
    std::size_t max_line_;
    std::string buffer_;
    std::size_t start_ = 0;    // where the current line begins in buffer_
    std::size_t scanned_ = 0;  // buffer_[start_, scanned_) holds no '\n'
    bool eof_ = false;
    std::uint64_t lines_ = 0;
    std::optional<Error> error_;
};

}  // namespace grav::cli
