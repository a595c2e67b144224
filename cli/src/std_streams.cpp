#include "std_streams.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace grav::cli {
namespace {

// True when `fd` was closed (and is now /dev/null).
bool reserve(int fd) noexcept {
    if (::fcntl(fd, F_GETFD) != -1) return false;
    // open() returns the lowest free descriptor: `fd` itself when the lower
    // ones are open, which reserving in order 0, 1, 2 guarantees.
    const int opened = ::open("/dev/null", O_RDONLY);
    if (opened >= 0 && opened != fd) {
        ::dup2(opened, fd);
        ::close(opened);
    }
    return true;
}

}  // namespace

StdStreams reserve_std_streams() noexcept {
    StdStreams streams;
    streams.stdin_closed = reserve(STDIN_FILENO);
    streams.stdout_closed = reserve(STDOUT_FILENO);
    reserve(STDERR_FILENO);
    return streams;
}

}  // namespace grav::cli
