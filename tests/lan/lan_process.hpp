#pragma once
// A node program running inside one namespace of a NamespaceLan: the set-up
// every LAN test and the soak share. Every such program prints
// "START <node-id> <ms>" first; launch() waits for it.

#include "child_process.hpp"
#include "namespace_lan.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace grav::testkit {

struct LanProcess {
    std::unique_ptr<ChildProcess> process;
    std::string id;         // the node id it printed
    double started_ms = 0;  // when it printed START
};

// Runs `program extra...` in node's namespace; nullopt (and why, in `error`)
// when it does not print START within `timeout`.
std::optional<LanProcess> launch_in(const NamespaceLan& lan, int node, const std::string& program,
                                    std::vector<std::string> extra, std::chrono::milliseconds timeout,
                                    std::string& error);

// Adds `count` nodes, all on LAN `lan`, with their neighbours pinned
// (NamespaceLan::pin_neighbours); false on failure (see lan.error()).
bool build_star(NamespaceLan& lan, int count, int lan_index = 0);

// GRAV_TEST_SCALE (default 1): heavy tests shrink their traffic by it.
double test_scale();

}  // namespace grav::testkit
