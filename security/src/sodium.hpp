#pragma once
// libsodium must be initialised once before any other call; every entry point
// of grav::security calls this (thread-safe, cheap after the first time).

namespace grav::security::detail {

void ensure_sodium();

}  // namespace grav::security::detail
