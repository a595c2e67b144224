#pragma once
// Minimal diagnostics: the library logs only what an operator needs to know
// (refused peers, undeliverable replies) to stderr, one line each.
// GRAV_LOG=quiet silences it; GRAV_LOG=debug adds detail.

#include <string_view>

namespace grav::detail {

void log_warning(std::string_view line);
void log_debug(std::string_view line);

}  // namespace grav::detail
