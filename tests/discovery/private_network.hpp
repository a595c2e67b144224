#pragma once
// Discovery tests run in a network namespace of their own when they can
// (root, or CAP_SYS_ADMIN): only loopback exists there, exactly the "one host,
// no network" case, and default options cannot beacon on the host's real
// interfaces nor meet another test run. Without the privilege they stay in
// the host's namespace and restrict themselves to loopback.

#include <cstdint>

namespace grav::testkit {

// Call first thing in main(), while the process has a single thread.
void enter_private_network();
[[nodiscard]] bool in_private_network() noexcept;
// A beacon port for this test process: the default one in a private
// namespace, one derived from the pid otherwise (parallel test runs).
[[nodiscard]] std::uint16_t test_port(std::uint16_t offset = 0) noexcept;

}  // namespace grav::testkit
