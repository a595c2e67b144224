#pragma once
// Runs a shell command with some bytes on its stdin and collects its stdout:
// what `grav reply --command CMD` does for each request.

#include <grav/error.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace grav::cli {

struct CommandOutput {
    std::string out;      // its stdout
    int exit_status = 0;  // exit code, or 128 + signal
};

// `/bin/sh -c command`, stdin = `input`, stderr inherited. Killed (SIGKILL)
// when it runs longer than `timeout`; then an Error(timeout).
Result<CommandOutput> run_command(const std::string& command, std::string_view input,
                                  std::chrono::milliseconds timeout);

}  // namespace grav::cli
