#pragma once
// A mesh of N full nodes on one namespace LAN: the harness of the scale
// test and the scale benchmark (issue 20). Every node is a grav_lan_node
// (tests/lan/lan_node.cpp) in a namespace of its own, all on one bridge,
// neighbours pinned (NamespaceLan::pin_neighbours). They are started
// together, as a dial storm, and what they print is read from all of them
// at once (one poll(2) over every pipe), so that no node blocks on a full
// pipe while the harness waits on another.
//
// The node's lines it understands: START, READY, LEFT, SENT, RECV (see
// lan_node.cpp). Times are the nodes' own CLOCK_MONOTONIC stamps.

#include "child_process.hpp"
#include "namespace_lan.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace grav::testkit {

// What a process costs now, from /proc: resident memory (VmRSS), open file
// descriptors (entries of /proc/PID/fd), threads, and the CPU time of its
// threads so far (the run time of /proc/PID/task/*/schedstat, exact to the
// nanosecond, unlike the tick-sampled utime+stime of /proc/PID/stat).
struct ProcessUsage {
    long rss_kib = 0;
    int fds = 0;
    int threads = 0;
    std::uint64_t cpu_ns = 0;
};
std::optional<ProcessUsage> usage_of(pid_t pid);

class MeshLan {
public:
    // `log_dir`: where node i's stderr goes (file node-<i>.stderr); empty:
    // to ours.
    explicit MeshLan(std::string program, std::string log_dir = {});
    MeshLan(const MeshLan&) = delete;
    MeshLan& operator=(const MeshLan&) = delete;

    // Empty when namespaces can be made here; otherwise why not.
    [[nodiscard]] const std::string& unavailable() const noexcept { return lan_.unavailable(); }
    [[nodiscard]] const std::string& error() const noexcept { return error_; }

    // `count` namespaces on one LAN, neighbours pinned.
    bool build(int count);
    // Starts the program in every node at once, each with `args`, and waits
    // until every one printed START.
    bool start(const std::vector<std::string>& args, std::chrono::milliseconds timeout);
    // The same, with arguments of its own for each node (`args_of(node)`).
    bool start(const std::function<std::vector<std::string>(int node)>& args_of,
               std::chrono::milliseconds timeout);
    [[nodiscard]] int size() const noexcept { return static_cast<int>(nodes_.size()); }
    // When the first and the last node printed START.
    [[nodiscard]] double first_start_ms() const;
    [[nodiscard]] double last_start_ms() const;

    // Reads what the nodes printed, waiting up to `timeout` for the first
    // new output.
    void pump(std::chrono::milliseconds timeout);
    // Pumps until `done()` holds or the timeout passes; done()'s last value.
    bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);

    // Every live node reports every other live node ready (joined).
    [[nodiscard]] bool full_mesh() const;
    // Ordered pairs (i, j), both live, where i reports j ready.
    [[nodiscard]] int ready_pairs() const;
    // The latest READY stamp of the mesh (meaningful once full_mesh()).
    [[nodiscard]] double last_ready_ms() const;
    // Which pairs are missing, for failure messages (at most `max`).
    [[nodiscard]] std::string missing(std::size_t max = 12) const;

    // SIGKILL: the node is dead from now on.
    void kill(int node);
    // Every other live node reported node `gone` left.
    [[nodiscard]] bool all_saw_left(int gone) const;
    [[nodiscard]] double last_left_ms(int gone) const;

    // Makes node `from` send one lan.ping (SIGUSR1); its sequence number and
    // the SENT stamp, once it printed SENT (within `timeout`).
    std::optional<std::pair<int, double>> send(int from, std::chrono::milliseconds timeout);
    // Every other live node printed RECV of that message of `from`.
    [[nodiscard]] bool all_received(int from, int seq) const;
    [[nodiscard]] double last_received_ms(int from, int seq) const;
    [[nodiscard]] int received_count(int from, int seq) const;

    // SIGTERM to every live node, then waits (all within `timeout`) for
    // their exits; false if one did not exit in time (the destructor kills it).
    bool stop_all(std::chrono::milliseconds timeout);

    // The sum over all nodes of a counter their STAT lines gave (after
    // stop_all: a node prints its counters as it stops).
    [[nodiscard]] std::uint64_t stat_total(const std::string& name) const;

    [[nodiscard]] pid_t pid(int node) const;
    [[nodiscard]] bool live(int node) const;
    // What a node printed (the last `lines`), for failure messages.
    [[nodiscard]] std::string dump(int node, std::size_t lines = 20) const;

private:
    struct Node {
        std::unique_ptr<ChildProcess> process;
        std::string id;
        double started_ms = 0;
        bool killed = false;
        std::size_t parsed = 0;                                  // lines of process->lines() looked at
        std::unordered_map<std::string, double> ready;           // peer id -> READY stamp
        std::unordered_map<std::string, double> left;            // peer id -> LEFT stamp
        std::map<std::pair<std::string, int>, double> received;  // (origin id, seq) -> RECV stamp
        std::map<int, double> sent;                              // seq -> SENT stamp
        std::map<std::string, std::uint64_t> stats;              // STAT lines (after a clean stop)
    };
    void parse(Node& node);
    [[nodiscard]] bool reports_ready(const Node& node, int peer) const;

    std::string program_;
    std::string log_dir_;
    NamespaceLan lan_;
    std::vector<Node> nodes_;
    std::string error_;
};

}  // namespace grav::testkit
