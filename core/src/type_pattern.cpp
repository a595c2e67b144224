#include <grav/type_pattern.hpp>

#include <algorithm>

namespace grav {
namespace {

bool bad_char(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }

std::vector<std::string_view> split(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const auto dot = text.find('.', start);
        out.push_back(text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
        if (dot == std::string_view::npos) return out;
        start = dot + 1;
    }
}

// Checks the shape every type and pattern shares; `wildcards` allows "*" and a last ">".
Status check_tokens(std::string_view text, bool wildcards, const char* what) {
    auto fail = [&](const std::string& why) {
        return Error(Errc::invalid_argument, std::string(what) + " '" + std::string(text) + "' " + why);
    };
    if (text.empty()) return fail("is empty");
    if (std::any_of(text.begin(), text.end(), bad_char)) return fail("contains white space");
    // Token by token, without a vector: this runs for every message that may cross a bridge.
    for (std::size_t start = 0;;) {
        const auto dot = text.find('.', start);
        const bool last = dot == std::string_view::npos;
        const auto t = text.substr(start, last ? std::string_view::npos : dot - start);
        if (t.empty()) return fail("has an empty token (a leading, trailing or double '.')");
        const bool star = t == "*";
        const bool rest = t == ">";
        if (!wildcards && t.find_first_of("*>") != std::string_view::npos)
            return fail("contains a wildcard ('*' or '>'); a type cannot");
        if (rest && !last) return fail("has '>' before its last token ('>' stands for the rest)");
        if (!star && !rest && t.find_first_of("*>") != std::string_view::npos) {
            // The old prefix form "chat*" (a last token ending in '*'): say what it is written as now.
            const auto stem = t.substr(0, t.size() - 1);
            if (last && t.size() > 1 && t.back() == '*' && stem.find_first_of("*>") == t.npos) {
                const std::string under(text.substr(0, text.size() - 1));
                return fail("is the old prefix form: '*' and '>' must stand alone as a token now ('" + under +
                            ".*' for one more token, '" + under + ".>' for one or more)");
            }
            return fail("has '" + std::string(t) +
                        "': '*' and '>' must stand alone as a token (\"chat.*\", \"chat.>\")");
        }
        if (last) break;
        start = dot + 1;
    }
    return success();
}

}  // namespace

Status check_type(std::string_view type) { return check_tokens(type, false, "type"); }

Result<TypePattern> TypePattern::parse(std::string_view text) {
    if (auto s = check_tokens(text, true, "pattern"); !s) return s.error();
    TypePattern p;
    p.text_ = std::string(text);
    for (auto t : split(text)) {
        if (t == "*") {
            p.tokens_.push_back(Token{Kind::one, {}});
        } else if (t == ">") {
            p.tokens_.push_back(Token{Kind::rest, {}});
        } else {
            p.tokens_.push_back(Token{Kind::literal, std::string(t)});
            continue;
        }
        p.literal_ = false;
    }
    return p;
}

bool TypePattern::matches(std::string_view type) const noexcept {
    if (literal_) return type == text_;
    std::size_t start = 0;
    for (const Token& want : tokens_) {
        if (start > type.size()) return false;  // the type has fewer tokens
        if (want.kind == Kind::rest) return start < type.size();
        auto dot = type.find('.', start);
        if (dot == std::string_view::npos) dot = type.size();
        const auto token = type.substr(start, dot - start);
        if (token.empty()) return false;
        if (want.kind == Kind::literal && token != want.text) return false;
        start = dot + 1;
    }
    return start == type.size() + 1;  // every token of the type was matched
}

std::string TypePattern::literal_prefix() const {
    if (literal_) return text_;  // the whole type
    std::string out;
    for (const Token& t : tokens_) {
        if (t.kind != Kind::literal) break;
        out += t.text;
        out += '.';
    }
    return out;
}

}  // namespace grav
