#pragma once
// The exit codes of `grav`, documented in `grav --help` and the README.
// Scripts rely on them: keep the numbers stable.

#include <stdexcept>
#include <string>

namespace grav::cli {

enum class ExitCode : int {
    ok = 0,
    failure = 1,       // something went wrong at run time (see the message)
    usage = 2,         // bad command line: unknown option, missing or empty argument
    bad_address = 3,   // unknown interface, unparsable endpoint or seed
    cannot_start = 4,  // the node could not start: port in use, cannot bind
    timeout = 5,       // no reply (or not enough peers) before the deadline
    no_peer = 6,       // nobody in view offers what was asked for
    bad_key =
        7,  // --secure: key or secret file missing, readable by others, malformed; or keygen cannot write
    undelivered = 8,    // pub: peers had not taken every message when the node stopped
    remote_error = 9,   // the replier answered with an error reply (TYPE.error: its command failed)
    interrupted = 130,  // Ctrl-C while waiting for an answer (128 + SIGINT)
};

// The table printed at the end of `grav --help`.
std::string exit_code_help();

// Thrown inside the tool only, caught in main(): a one-line message and the
// exit code that goes with it. grav itself never throws across the bus.
// The reply conventions between `grav reply` and `grav request`
// (docs/GUIDE.md, "The grav tool"): an answer to a request of TYPE has type
// TYPE.reply; a failure to answer it (the command missing, failing or timed
// out) has type TYPE.error and the reason, UTF-8 text, as its payload.
inline std::string reply_type_of(const std::string& request_type) { return request_type + ".reply"; }
inline std::string error_type_of(const std::string& request_type) { return request_type + ".error"; }

class CliError : public std::runtime_error {
public:
    CliError(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    [[nodiscard]] ExitCode code() const noexcept { return code_; }

private:
    ExitCode code_;
};

}  // namespace grav::cli
