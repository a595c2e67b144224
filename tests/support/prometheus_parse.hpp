#pragma once
// A strict reader of the Prometheus text exposition format 0.0.4, for the
// tests: it turns /metrics text back into families and says what is wrong
// with it (a sample before its HELP/TYPE, an invalid name, a bad escape).

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grav::test {

struct ParsedSample {
    std::string name;
    std::map<std::string, std::string> labels;  // unescaped values
    double value = 0;
};

struct ParsedFamily {
    std::string help;  // unescaped
    std::string type;  // counter, gauge, untyped...
    std::vector<ParsedSample> samples;
};

struct ParsedText {
    std::map<std::string, ParsedFamily> families;
    std::vector<std::string> errors;  // empty when the text is valid

    // The value of `name` (with exactly these labels), if present.
    [[nodiscard]] std::optional<double> value(const std::string& name,
                                              const std::map<std::string, std::string>& labels = {}) const;
};

[[nodiscard]] bool valid_metric_name(std::string_view name);
[[nodiscard]] bool valid_label_name(std::string_view name);
[[nodiscard]] ParsedText parse_prometheus_text(std::string_view text);

}  // namespace grav::test
