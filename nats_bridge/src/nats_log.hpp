#pragma once
// The bridge's diagnostics: one line each to stderr as "grav.nats: ...",
// at most about 20 a second (a flapping server must not flood the log);
// GRAV_LOG=quiet silences them, GRAV_LOG=debug adds the debug lines.

#include <string_view>

namespace grav::nats::detail {

void log_warning(std::string_view line);
void log_debug(std::string_view line);

}  // namespace grav::nats::detail
