#pragma once
// A LAN made of Linux network namespaces, for tests and benchmarks that need
// real separate hosts: every node is a namespace with its own loopback and
// one veth per LAN it is on; each LAN is a bridge inside a "switch"
// namespace of its own. Nothing is created in the caller's namespace, every
// name carries the creator's pid, and the destructor deletes all of it
// (deleting a namespace deletes its veth ends and bridges with it).
//
// Addresses: node i (0-based) on LAN b has 10.77.b.(i+1)/24 (so at most
// 254 nodes per LAN) and the MAC address mac(i, b).

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace grav::testkit {

class NamespaceLan {
public:
    NamespaceLan();
    ~NamespaceLan();
    NamespaceLan(const NamespaceLan&) = delete;
    NamespaceLan& operator=(const NamespaceLan&) = delete;

    // Empty when namespaces can be created here; otherwise why not (for a skip).
    [[nodiscard]] const std::string& unavailable() const noexcept { return unavailable_; }

    // Adds node namespaces until there are `count`; false on failure (see error()).
    bool add_nodes(int count);
    // Puts node `node` on LAN `lan` (creating the LAN's bridge on first use).
    bool attach(int node, int lan = 0);
    // Gives every node on LAN `lan` a permanent neighbour (ARP) entry for
    // every other node there, so that no unicast needs ARP. Needed beyond
    // ~30 nodes: the kernel's neighbour table is one for all namespaces,
    // capped at net.ipv4.neigh.default.gc_thresh3 (1024) entries, and a full
    // mesh of N namespaces needs N*(N-1); past the cap new entries fail
    // ("neighbour table overflow"), sends to unresolved peers are dropped,
    // and the mesh never forms, however well the nodes behave. Permanent
    // entries do not count against the cap. Call after the last attach.
    bool pin_neighbours(int lan = 0);
    // Takes node's cable on that LAN out of the switch, or puts it back.
    bool set_link(int node, int lan, bool up);

    [[nodiscard]] static std::string address(int node, int lan = 0);
    [[nodiscard]] static std::string mac(int node, int lan = 0);
    [[nodiscard]] int node_count() const noexcept { return static_cast<int>(nodes_.size()); }
    [[nodiscard]] const std::string& ns(int node) const { return nodes_.at(static_cast<std::size_t>(node)); }
    // argv prefix that runs a program inside node's namespace.
    [[nodiscard]] std::vector<std::string> exec_in(int node) const;
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

private:
    bool run(std::vector<std::string> args);
    void remove_stale();
    bool ensure_lan(int lan);
    [[nodiscard]] std::string switch_port(int node, int lan) const;

    std::string ip_;      // path of the ip(8) program
    std::string sysctl_;  // path of sysctl(8), if installed
    std::string tag_;     // unique per process: the pid
    std::string switch_;  // the switch namespace
    std::vector<std::string> nodes_;
    std::vector<int> lans_;
    std::vector<std::pair<int, int>> attached_;  // (node, lan)
    std::string unavailable_;
    std::string error_;
};

}  // namespace grav::testkit
