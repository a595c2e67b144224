#pragma once
// What `grav peers` and `grav stats` see of the mesh they join: wait for
// discovery to find the nodes and for them to be ready, and find one by id
// or name.

#include "interrupt.hpp"
#include "node.hpp"

#include <chrono>
#include <string>
#include <vector>

namespace grav::cli {

// Listens `wait` for beacons (or for --connect peers to join), then gives
// every node heard up to `settle` to be ready. False on Ctrl-C.
// `not_ready` gets the nodes heard but still not ready.
bool wait_for_mesh(Node& node, std::chrono::milliseconds wait, std::chrono::milliseconds settle,
                   Interrupt& interrupt, std::vector<NodeId>& not_ready);

// The ready peer `text` names: its id (full, or a prefix of at least 4
// hex digits, e.g. the 8 that tables show) or its name; waits up to
// `patience` for it to appear. Throws CliError: no_peer when none,
// usage when several match; interrupted on Ctrl-C.
NodeId find_node(Node& node, const std::string& text, std::chrono::milliseconds patience,
                 Interrupt& interrupt);

// "alice (3fa2b1c0)", or the short id when the name is unknown.
std::string node_label(Node& node, const NodeId& id);

}  // namespace grav::cli
