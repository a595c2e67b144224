#pragma once
// Which message types a handler wants: "chat.line" (exact), "chat.*" (any type
// starting "chat."), "*" or nothing (every type).

#include <optional>
#include <string>
#include <string_view>

namespace grav::detail {

class TypeFilter {
public:
    TypeFilter() = default;  // every type
    explicit TypeFilter(const std::optional<std::string>& pattern) {
        if (!pattern || pattern->empty() || *pattern == "*") return;
        if (pattern->back() == '*') {
            kind_ = Kind::prefix;
            text_ = pattern->substr(0, pattern->size() - 1);
        } else {
            kind_ = Kind::exact;
            text_ = *pattern;
        }
    }

    [[nodiscard]] bool matches(std::string_view type) const noexcept {
        switch (kind_) {
            case Kind::all: return true;
            case Kind::exact: return type == text_;
            case Kind::prefix: return type.starts_with(text_);
        }
        return false;
    }

    // The prefix a publisher can filter on for this filter ("" = everything).
    // Exact types subscribe by their full text; the receiver re-checks.
    [[nodiscard]] const std::string& subscription_prefix() const noexcept { return text_; }

private:
    enum class Kind { all, exact, prefix };
    Kind kind_ = Kind::all;
    std::string text_;
};

}  // namespace grav::detail
