#pragma once
// 128-bit random identifiers, and the strong types built on them so that a
// message id can never be passed where a node id is expected.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace grav {

class Uuid {
public:
    using Bytes = std::array<std::uint8_t, 16>;

    constexpr Uuid() = default;  // the nil UUID
    constexpr explicit Uuid(const Bytes& bytes) : bytes_(bytes) {}

    // RFC 4122 version 4 (random); fast thread-local generator seeded from the OS.
    static Uuid random();
    // Parses the canonical 36-character form (8-4-4-4-12 hex digits).
    static std::optional<Uuid> parse(std::string_view text);

    [[nodiscard]] constexpr const Bytes& bytes() const noexcept { return bytes_; }
    [[nodiscard]] constexpr bool is_nil() const noexcept { return bytes_ == Bytes{}; }
    [[nodiscard]] std::string str() const;   // canonical lowercase text
    [[nodiscard]] std::string short_str() const;  // first 8 hex digits, for logs

    constexpr auto operator<=>(const Uuid&) const = default;

private:
    Bytes bytes_{};
};

// Strong id types: same representation, different meaning.
template <class Tag>
class Id {
public:
    constexpr Id() = default;
    constexpr explicit Id(const Uuid& uuid) : uuid_(uuid) {}
    static Id random() { return Id(Uuid::random()); }
    static std::optional<Id> parse(std::string_view text) {
        auto u = Uuid::parse(text);
        if (!u) return std::nullopt;
        return Id(*u);
    }
    [[nodiscard]] constexpr const Uuid& uuid() const noexcept { return uuid_; }
    [[nodiscard]] constexpr bool is_nil() const noexcept { return uuid_.is_nil(); }
    [[nodiscard]] std::string str() const { return uuid_.str(); }
    [[nodiscard]] std::string short_str() const { return uuid_.short_str(); }
    constexpr auto operator<=>(const Id&) const = default;

private:
    Uuid uuid_;
};

using MessageId = Id<struct MessageIdTag>;
using NodeId = Id<struct NodeIdTag>;

struct UuidHash {
    std::size_t operator()(const Uuid& u) const noexcept {
        // Random ids: the first 8 bytes are already uniformly distributed.
        std::uint64_t h = 0;
        for (int i = 0; i < 8; ++i) h = (h << 8) | u.bytes()[static_cast<std::size_t>(i)];
        return static_cast<std::size_t>(h);
    }
};

}  // namespace grav

template <class Tag>
struct std::hash<grav::Id<Tag>> {
    std::size_t operator()(const grav::Id<Tag>& id) const noexcept { return grav::UuidHash{}(id.uuid()); }
};
