#pragma once
// The grammar of message types and of the patterns that select them, one
// definition for pod handlers (Pod::on_type), the tool (`grav sub`) and the
// bridges. It is the grammar of NATS subjects, so a pattern means the same on
// both sides of a bridge:
//   type     tokens separated by '.', each non-empty, no white space, no
//            '*' or '>' ("chat.line", "orders.eu.new")
//   pattern  tokens like a type's, where a token "*" stands for exactly one
//            token in that position and a last token ">" for one or more
//            ("chat.*" matches "chat.line" but not "chat.line.x"; "chat.>"
//            matches both; "a.*.c"; ">" matches every type)
// A pattern that can match nothing ("chat*", "a..b", "a.>.b", "") is refused
// with the reason, never accepted and left silent. The old prefix form
// "chat*" is refused with a pointer to "chat.*" / "chat.>".

#include <grav/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace grav {

class TypePattern {
public:
    static Result<TypePattern> parse(std::string_view text);

    // A literal pattern is one string comparison (the hot path of exact
    // handlers); a wildcard pattern walks the type's tokens once.
    [[nodiscard]] bool matches(std::string_view type) const noexcept;
    // What a publisher can filter on: the text before the first wildcard
    // ("chat." for "chat.*", "" for ">", the whole type for a literal).
    [[nodiscard]] std::string literal_prefix() const;
    [[nodiscard]] bool is_literal() const noexcept { return literal_; }
    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    enum class Kind : std::uint8_t { literal, one, rest };
    struct Token {
        Kind kind;
        std::string text;  // for Kind::literal
    };
    TypePattern() = default;
    std::string text_;
    std::vector<Token> tokens_;
    bool literal_ = true;
};

// ok when `type` is a valid type (no wildcards), else the reason.
Status check_type(std::string_view type);

}  // namespace grav
