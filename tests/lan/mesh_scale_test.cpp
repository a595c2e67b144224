// A mesh of 25 full nodes (issue 20), one per network namespace, all on one
// bridge and started together: the full mesh forms (every node reports every
// other ready), and one message from one node reaches every other. Under
// GRAV_TEST_SCALE < 1 (the sanitizer phases) the mesh is smaller:
// 25 * sqrt(scale) nodes, at least 4 (ASan 0.25: 12, TSan 0.1: 8), since a
// sanitized node costs several times the CPU and the whole mesh shares two
// cores. How long it takes is measured in bench/scale, never asserted here;
// the waits are bounds that fail a mesh that does not form at all.

#include "lan_process.hpp"
#include "mesh_lan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#ifndef GRAV_LAN_NODE
#error "GRAV_LAN_NODE must name the node program"
#endif

namespace grav {
namespace {

using namespace std::chrono_literals;

int mesh_size() {
    const double n = std::round(25.0 * std::sqrt(std::min(testkit::test_scale(), 1.0)));
    return std::max(4, static_cast<int>(n));
}

TEST(MeshScale, AFullMeshFormsAndOneMessageReachesEveryNode) {
    testkit::MeshLan mesh(GRAV_LAN_NODE);
    if (!mesh.unavailable().empty()) GTEST_SKIP() << "namespace LAN unavailable: " << mesh.unavailable();
    const int n = mesh_size();
    ASSERT_TRUE(mesh.build(n)) << mesh.error();
    // Idle nodes of a big mesh: one bus worker each.
    ASSERT_TRUE(mesh.start({"--workers", "1"}, 10s)) << mesh.error();
    ASSERT_TRUE(mesh.wait_until([&] { return mesh.full_mesh(); }, 30s))
        << n << " nodes: " << mesh.missing() << mesh.dump(0);

    const auto sent = mesh.send(0, 5s);
    ASSERT_TRUE(sent) << "node 0 did not send" << mesh.dump(0);
    const int seq = sent->first;
    EXPECT_TRUE(mesh.wait_until([&] { return mesh.all_received(0, seq); }, 5s))
        << "the message reached " << mesh.received_count(0, seq) << " of " << n - 1 << " nodes";
    // The nodes are killed and the namespaces deleted as `mesh` goes.
}

}  // namespace
}  // namespace grav
