// Policy: the set of member keys, looked up by Ed25519 key (beacons) or by
// X25519 key (the ZAP handler sees only the CURVE key of a client).
#include <grav/security.hpp>

#include <algorithm>

namespace grav::security {

Policy::Policy(Mode mode, Identity identity, std::vector<Member> members)
    : mode_(mode), identity_(std::move(identity)), members_(std::move(members)) {}

Result<std::shared_ptr<const Policy>> Policy::allow_list(Identity self, std::vector<PublicKey> allowed) {
    allowed.push_back(self.public_key());
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    std::vector<Member> members;
    members.reserve(allowed.size());
    for (const PublicKey& key : allowed) {
        auto curve = key.curve();
        if (!curve) {
            return Error{Errc::invalid_argument,
                         "allow-list key " + key.text() + ": " + curve.error().reason()};
        }
        members.push_back(Member{key, *curve});
    }
    return std::make_shared<const Policy>(Mode::allow_list, std::move(self), std::move(members));
}

Result<std::shared_ptr<const Policy>> Policy::cluster_secret(std::string_view secret) {
    auto identity = Identity::from_cluster_secret(secret);
    if (!identity) return identity.error();
    std::vector<Member> members{Member{identity->public_key(), identity->curve_public()}};
    return std::make_shared<const Policy>(Mode::cluster_secret, std::move(*identity), std::move(members));
}

bool Policy::admits(const PublicKey& key) const {
    if (key.empty()) return false;
    const auto it = std::lower_bound(members_.begin(), members_.end(), key,
                                     [](const Member& m, const PublicKey& k) { return m.key < k; });
    return it != members_.end() && it->key == key;
}

PublicKey Policy::member_for_curve(std::span<const std::uint8_t, curve_key_bytes> curve_public) const {
    // Linear: allow-lists are small, and this runs once per CURVE handshake.
    const auto it = std::find_if(members_.begin(), members_.end(), [&](const Member& m) {
        return std::equal(m.curve.begin(), m.curve.end(), curve_public.begin());
    });
    return it == members_.end() ? PublicKey{} : it->key;
}

bool Policy::admits_curve(std::span<const std::uint8_t, curve_key_bytes> curve_public) const {
    return !member_for_curve(curve_public).empty();
}

}  // namespace grav::security
