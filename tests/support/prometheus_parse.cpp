#include "prometheus_parse.hpp"

#include <cstdlib>
#include <cstring>

namespace grav::test {
namespace {

bool name_char(char c, bool first, bool colon) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
    return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, colon)) return false;
    return true;
}

// Unescapes `\\`, `\n` and (in label values) `\"`; false on another escape.
bool unescape(std::string_view in, bool quotes, std::string& out) {
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '\\') {
            out += in[i];
            continue;
        }
        if (++i == in.size()) return false;
        if (in[i] == '\\')
            out += '\\';
        else if (in[i] == 'n')
            out += '\n';
        else if (quotes && in[i] == '"')
            out += '"';
        else
            return false;
    }
    return true;
}

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }
bool valid_label_name(std::string_view name) { return valid_name(name, false); }

std::optional<double> ParsedText::value(const std::string& name,
                                        const std::map<std::string, std::string>& labels) const {
    const auto it = families.find(name);
    if (it == families.end()) return std::nullopt;
    for (const auto& s : it->second.samples)
        if (s.labels == labels) return s.value;
    return std::nullopt;
}

ParsedText parse_prometheus_text(std::string_view text) {
    ParsedText out;
    std::map<std::string, bool> has_help, has_type;
    auto error = [&out](std::string what, std::string_view line) {
        out.errors.push_back(std::move(what) + ": '" + std::string(line) + "'");
    };
    while (!text.empty()) {
        const auto eol = text.find('\n');
        if (eol == std::string_view::npos) {
            error("the last line has no newline", text);
            break;
        }
        const std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol + 1);
        if (line.empty()) continue;
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            const std::string_view rest = line.substr(7);
            const auto space = rest.find(' ');
            const std::string name(rest.substr(0, space));
            const std::string_view arg = space == std::string_view::npos ? "" : rest.substr(space + 1);
            if (!valid_metric_name(name)) error("invalid metric name", line);
            auto& family = out.families[name];
            if (line[2] == 'H') {
                if (has_help[name]) error("a second HELP", line);
                has_help[name] = true;
                if (!unescape(arg, false, family.help)) error("bad escape in HELP", line);
            } else {
                if (has_type[name]) error("a second TYPE", line);
                if (!family.samples.empty()) error("TYPE after samples", line);
                has_type[name] = true;
                family.type = std::string(arg);
                if (arg != "counter" && arg != "gauge" && arg != "untyped" && arg != "summary" &&
                    arg != "histogram")
                    error("unknown TYPE", line);
            }
            continue;
        }
        if (line.front() == '#') continue;  // a comment
        ParsedSample sample;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
        sample.name = std::string(line.substr(0, i));
        if (!valid_metric_name(sample.name)) error("invalid metric name", line);
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const auto eq = line.find('=', i);
                if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
                    error("bad label", line);
                    break;
                }
                const std::string label(line.substr(i, eq - i));
                if (!valid_label_name(label)) error("invalid label name", line);
                std::size_t end = eq + 2;
                while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
                if (end >= line.size()) {
                    error("unterminated label value", line);
                    break;
                }
                std::string value;
                if (!unescape(line.substr(eq + 2, end - eq - 2), true, value))
                    error("bad escape in label", line);
                if (sample.labels.contains(label)) error("a label twice", line);
                sample.labels[label] = std::move(value);
                i = end + 1;
                if (i < line.size() && line[i] == ',') ++i;
            }
            ++i;  // the '}'
        }
        if (i >= line.size() || line[i] != ' ') {
            error("no value", line);
            continue;
        }
        const std::string value_text(line.substr(i + 1));
        char* end = nullptr;
        sample.value = std::strtod(value_text.c_str(), &end);
        if (value_text.empty() || end != value_text.c_str() + value_text.size()) error("bad value", line);
        // Counters and gauges: the sample's name is the family's; a
        // summary's or histogram's samples add _sum, _count or _bucket.
        std::string family = sample.name;
        if (!has_type[family]) {
            for (const char* suffix : {"_sum", "_count", "_bucket"}) {
                const std::string base = family.substr(0, family.size() - std::strlen(suffix));
                if (family.ends_with(suffix) && has_type[base] &&
                    (out.families[base].type == "summary" || out.families[base].type == "histogram")) {
                    family = base;
                    break;
                }
            }
        }
        if (!has_help[family] || !has_type[family]) error("a sample without HELP and TYPE", line);
        out.families[family].samples.push_back(std::move(sample));
    }
    return out;
}

}  // namespace grav::test
