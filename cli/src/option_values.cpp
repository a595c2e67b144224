#include "option_values.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <utility>

namespace grav::cli {
namespace {

using Nanos = std::int64_t;

struct Unit {
    std::string_view suffix;
    Nanos nanos;
};

constexpr std::array<Unit, 6> units{{
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

constexpr Nanos max_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(max_duration).count();

Error bad_duration(std::string_view text, const std::string& why) {
    return Error(
        Errc::invalid_argument,
        "'" + std::string(text) + "' is not a duration: " + why +
            " (expected a number with an optional unit ns, us, ms, s, m or h, e.g. 500ms, 2s, 1.5m; a plain "
            "number is milliseconds)");
}

// "-n,--count" -> "--count": how error messages name the option.
std::string display_name(const std::string& names) {
    const auto comma = names.rfind(',');
    return comma == std::string::npos ? names : names.substr(comma + 1);
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text, bool allow_zero) {
    // Digits, an optional fraction, an optional unit; nothing else.
    std::size_t i = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    const std::string_view whole = text.substr(0, i);
    std::string_view fraction;
    if (i < text.size() && text[i] == '.') {
        const std::size_t start = ++i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
        fraction = text.substr(start, i - start);
    }
    if (whole.empty() && fraction.empty()) {
        if (!text.empty() && text.front() == '-') return bad_duration(text, "it is negative");
        return bad_duration(text, "it does not start with a number");
    }
    const std::string_view suffix = text.substr(i);
    Nanos unit = 1'000'000;  // plain number: milliseconds
    if (!suffix.empty()) {
        const auto* found =
            std::find_if(units.begin(), units.end(), [&](const Unit& u) { return u.suffix == suffix; });
        if (found == units.end()) return bad_duration(text, "unknown unit '" + std::string(suffix) + "'");
        unit = found->nanos;
    }

    // Whole part, refusing overflow before it happens.
    Nanos count = 0;
    const auto too_long = [&] {
        return bad_duration(text, "longer than the maximum of " + duration_text(max_duration));
    };
    for (const char c : whole) {
        if (count > (max_nanos / unit) / 10 + 1) return too_long();
        count = count * 10 + (c - '0');
    }
    if (count > max_nanos / unit) return too_long();
    Nanos nanos = count * unit;
    // Fraction: digits below one nanosecond do not matter.
    Nanos scale = unit;
    for (const char c : fraction) {
        scale /= 10;
        nanos += (c - '0') * scale;
        if (scale == 0) break;
    }
    if (nanos > max_nanos) return too_long();
    if (nanos == 0 && !allow_zero) return bad_duration(text, "it must be more than 0");
    // Round up: a wait asked for is never shortened to nothing.
    return std::chrono::milliseconds((nanos + 999'999) / 1'000'000);
}

Result<std::uint64_t> parse_count(std::string_view text, std::uint64_t minimum, std::uint64_t maximum) {
    const auto bad = [&](const std::string& why) {
        std::string range = "a whole number";
        if (maximum != std::numeric_limits<std::uint64_t>::max())
            range += " from " + std::to_string(minimum) + " to " + std::to_string(maximum);
        else
            range += " >= " + std::to_string(minimum);
        return Error(Errc::invalid_argument,
                     "'" + std::string(text) + "' " + why + " (expected " + range + ")");
    };
    if (text.empty()) return bad("is empty");
    if (text.front() == '-') return bad("is negative");
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::result_out_of_range) return bad("is too large");
    if (ec != std::errc() || end != text.data() + text.size()) return bad("is not a whole number");
    if (value < minimum) return bad("is less than " + std::to_string(minimum));
    if (value > maximum) return bad("is too large");
    return value;
}

std::string duration_text(std::chrono::milliseconds duration) {
    const auto ms = duration.count();
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

CLI::Option* add_duration_option(CLI::App& app, const std::string& name, std::chrono::milliseconds& target,
                                 const std::string& description, Zero zero) {
    const bool allow_zero = zero == Zero::allowed;
    CLI::Option* option = app.add_option_function<std::string>(
        name,
        [&target, allow_zero, shown = display_name(name)](const std::string& text) {
            auto parsed = parse_duration(text, allow_zero);
            if (!parsed) throw CLI::ValidationError(shown, parsed.error().reason());
            target = *parsed;
        },
        description);
    return option->type_name("DURATION")->default_str(duration_text(target));
}

CLI::Option* add_count_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                              const std::string& description, std::uint64_t minimum) {
    CLI::Option* option = app.add_option_function<std::string>(
        name,
        [&target, minimum, shown = display_name(name)](const std::string& text) {
            auto parsed = parse_count(text, minimum, std::numeric_limits<std::uint64_t>::max());
            if (!parsed) throw CLI::ValidationError(shown, parsed.error().reason());
            target = *parsed;
        },
        description);
    return option->type_name("N")->default_str(std::to_string(target));
}

}  // namespace grav::cli
