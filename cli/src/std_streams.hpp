#pragma once
// Standard input, output and error as the tool finds them at start-up.
//
// A closed descriptor 0, 1 or 2 would be handed to the first socket or
// signalfd the tool opens; reading "stdin" would then read a socket (pub
// hung forever) and printing would write into one. So each closed one is
// taken by /dev/null before anything else opens: opened for reading only,
// so that a read gives end of input and a write fails (EBADF) as it would
// on the closed descriptor, instead of succeeding into nothing.

namespace grav::cli {

struct StdStreams {
    bool stdin_closed = false;
    bool stdout_closed = false;
};

// Call first in main(), before any thread or descriptor exists.
StdStreams reserve_std_streams() noexcept;

}  // namespace grav::cli
