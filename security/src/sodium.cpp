#include "sodium.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>

namespace grav::security::detail {

void ensure_sodium() {
    // sodium_init() is itself idempotent and thread-safe; the static only
    // spares the call. It fails only when the OS has no usable RNG, where no
    // key could be generated safely: stop rather than run insecurely.
    static const bool ready = [] {
        if (sodium_init() < 0) {
            std::fputs("grav::security: libsodium failed to initialise (no random source)\n", stderr);
            std::abort();
        }
        return true;
    }();
    (void)ready;
}

}  // namespace grav::security::detail
