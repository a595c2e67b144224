#pragma once
// Which message types a handler wants: every type, or those a TypePattern
// matches (grav/type_pattern.hpp: "chat.line", "chat.*", "chat.>", ">").

#include <grav/type_pattern.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace grav::detail {

class TypeFilter {
public:
    TypeFilter() = default;  // every type
    explicit TypeFilter(TypePattern pattern)
        : prefix_(pattern.literal_prefix()), pattern_(std::move(pattern)) {}

    [[nodiscard]] bool matches(std::string_view type) const noexcept {
        return !pattern_ || pattern_->matches(type);
    }

    // The prefix a publisher can filter on ("" = everything): the pattern's
    // text before its first wildcard; a literal subscribes by its full text.
    // Either way the receiver re-checks with matches().
    [[nodiscard]] const std::string& subscription_prefix() const noexcept { return prefix_; }

private:
    std::string prefix_;
    std::optional<TypePattern> pattern_;
};

}  // namespace grav::detail
