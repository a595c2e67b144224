#pragma once
// The numbers on grav's command line: durations and counts. One parser for
// each, so that every option refuses the same bad input with the same kind
// of message (a usage error, exit 2) instead of wrapping a negative number
// into a huge unsigned one.
//
// Durations: a number with an optional unit, "500ms", "2s", "1.5m"; ns, us,
// ms, s, m, h. A plain number keeps the option's historical unit (ms), so
// scripts written before units existed keep working. Resolution is 1 ms,
// rounded up: "1us" waits 1 ms, never 0 (0 only when 0 was given).

#include <grav/error.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace grav::cli {

// Longer durations are refused: beyond them steady_clock arithmetic would
// overflow, and no wait of the tool needs more.
inline constexpr std::chrono::milliseconds max_duration = std::chrono::hours(24 * 30);

// Error(invalid_argument) with a reason naming the bad text.
Result<std::chrono::milliseconds> parse_duration(std::string_view text, bool allow_zero);
// A whole number in [minimum, maximum]; no sign, no fraction, no blanks.
Result<std::uint64_t> parse_count(std::string_view text, std::uint64_t minimum, std::uint64_t maximum);

// "1500 ms" -> "1500ms", "2000ms" -> "2s": how the tool prints a duration.
std::string duration_text(std::chrono::milliseconds duration);

enum class Zero : bool { refused, allowed };

// Options whose value goes through the parsers above; a bad value is a
// CLI::ValidationError (usage, exit 2) naming the option.
CLI::Option* add_duration_option(CLI::App& app, const std::string& name, std::chrono::milliseconds& target,
                                 const std::string& description, Zero zero);
CLI::Option* add_count_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                              const std::string& description, std::uint64_t minimum);

}  // namespace grav::cli
