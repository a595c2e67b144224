#pragma once
// BeaconOptions::seeds: "host:port" texts resolved to IPv4 endpoints.

#include <grav/error.hpp>

#include <netinet/in.h>

#include <string>
#include <vector>

namespace grav::beacon {

// Resolves every seed (numeric addresses or names, through getaddrinfo); the
// first one that does not parse or resolve fails the whole list, with its text.
Result<std::vector<sockaddr_in>> resolve_seeds(const std::vector<std::string>& seeds);

}  // namespace grav::beacon
