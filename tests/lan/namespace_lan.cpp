#include "namespace_lan.hpp"

#include "child_process.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <utility>

namespace grav::testkit {
namespace {

std::string find_program(std::string_view name) {
    for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
        std::string p = dir + std::string(name);
        if (::access(p.c_str(), X_OK) == 0) return p;
    }
    return {};
}

// The pid in a name this harness made ("gsw<pid>", "gn<pid>-<i>"), or 0.
long creator_pid(const std::string& name) {
    std::size_t at = 0;
    if (name.rfind("gsw", 0) == 0) {
        at = 3;
    } else if (name.rfind("gn", 0) == 0) {
        at = 2;
    } else {
        return 0;
    }
    const auto end = name.find_first_not_of("0123456789", at);
    if (end == at) return 0;
    return std::stol(name.substr(at, end == std::string::npos ? std::string::npos : end - at));
}

}  // namespace

// A run killed before its destructor (ctest timeout, SIGKILL) leaves its
// namespaces behind; the next run removes those whose creator is gone.
void NamespaceLan::remove_stale() {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", ec)) {
        const auto name = entry.path().filename().string();
        const long pid = creator_pid(name);
        if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
            run({ip_, "netns", "del", name});
    }
}

NamespaceLan::NamespaceLan()
    : ip_(find_program("ip")), sysctl_(find_program("sysctl")), tag_(std::to_string(::getpid())) {
    if (ip_.empty()) {
        unavailable_ = "the ip(8) program (iproute2) is not installed";
        return;
    }
    if (::geteuid() != 0) {
        unavailable_ = "creating network namespaces needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN)";
        return;
    }
    remove_stale();
    switch_ = "gsw" + tag_;
    if (!run({ip_, "netns", "add", switch_})) {
        unavailable_ = "cannot create a network namespace: " + error_;
        switch_.clear();
    }
}

NamespaceLan::~NamespaceLan() {
    for (const auto& n : nodes_) run({ip_, "netns", "del", n});
    if (!switch_.empty()) run({ip_, "netns", "del", switch_});
}

bool NamespaceLan::run(std::vector<std::string> args) {
    std::string text;
    for (const auto& a : args) text += a + " ";
    ChildProcess p(std::move(args));
    if (!p.started()) {
        error_ = "could not run: " + text;
        return false;
    }
    const auto rc = p.wait_exit(std::chrono::seconds(10));
    if (rc != 0) {
        error_ = "failed (" + (rc ? std::to_string(*rc) : std::string("timeout")) + "): " + text;
        return false;
    }
    return true;
}

bool NamespaceLan::add_nodes(int count) {
    while (static_cast<int>(nodes_.size()) < count) {
        const std::string n = "gn" + tag_ + "-" + std::to_string(nodes_.size());
        if (!run({ip_, "netns", "add", n})) return false;
        nodes_.push_back(n);
        if (!run({ip_, "-n", n, "link", "set", "lo", "up"})) return false;
    }
    return true;
}

bool NamespaceLan::ensure_lan(int lan) {
    if (std::find(lans_.begin(), lans_.end(), lan) != lans_.end()) return true;
    const std::string br = "br" + std::to_string(lan);
    if (!run({ip_, "-n", switch_, "link", "add", br, "type", "bridge"})) return false;
    if (!run({ip_, "-n", switch_, "link", "set", br, "up"})) return false;
    // Where br_netfilter is loaded, bridged frames go through iptables too:
    // a cost per frame that no real switch has. Off in our switch only (the
    // setting is per namespace); without br_netfilter there is nothing to
    // turn off, and the failure is ignored.
    if (!sysctl_.empty()) {
        const std::string saved = error_;
        run({ip_, "netns", "exec", switch_, sysctl_, "-qw", "net.bridge.bridge-nf-call-iptables=0",
             "net.bridge.bridge-nf-call-ip6tables=0", "net.bridge.bridge-nf-call-arptables=0"});
        error_ = saved;
    }
    lans_.push_back(lan);
    return true;
}

std::string NamespaceLan::switch_port(int node, int lan) const {
    return "p" + std::to_string(node) + "l" + std::to_string(lan);
}

std::string NamespaceLan::address(int node, int lan) {
    return "10.77." + std::to_string(lan) + "." + std::to_string(node + 1);
}

std::string NamespaceLan::mac(int node, int lan) {
    char text[18];
    std::snprintf(text, sizeof text, "02:77:%02x:00:%02x:%02x", lan & 0xff, (node >> 8) & 0xff, node & 0xff);
    return text;
}

bool NamespaceLan::attach(int node, int lan) {
    if (!ensure_lan(lan)) return false;
    const std::string& n = ns(node);
    const std::string itf = "eth" + std::to_string(lan);
    const std::string port = switch_port(node, lan);
    // Both ends are created directly in their namespaces: the caller's
    // namespace never holds (nor routes to) anything of this LAN.
    if (!run({ip_, "-n", switch_, "link", "add", port, "type", "veth", "peer", "name", itf, "address",
              mac(node, lan), "netns", n}))
        return false;
    if (!run({ip_, "-n", switch_, "link", "set", port, "master", "br" + std::to_string(lan), "up"}))
        return false;
    if (!run({ip_, "-n", n, "addr", "add", address(node, lan) + "/24", "dev", itf})) return false;
    if (!run({ip_, "-n", n, "link", "set", itf, "up"})) return false;
    attached_.emplace_back(node, lan);
    return true;
}

bool NamespaceLan::pin_neighbours(int lan) {
    std::vector<int> members;
    for (const auto& [node, l] : attached_) {
        if (l == lan) members.push_back(node);
    }
    // One `ip -batch` per node: a hundred nodes take a hundred runs of ip,
    // not ten thousand.
    const std::string file =
        (std::filesystem::temp_directory_path() / ("grav-neigh-" + tag_ + "-" + std::to_string(lan)))
            .string();
    for (int node : members) {
        {
            std::ofstream out(file, std::ios::trunc);
            for (int other : members) {
                if (other == node) continue;
                out << "neigh replace " << address(other, lan) << " lladdr " << mac(other, lan) << " dev eth"
                    << lan << " nud permanent\n";
            }
            if (!out) {
                error_ = "cannot write " + file;
                return false;
            }
        }
        if (!run({ip_, "-n", ns(node), "-batch", file})) {
            std::filesystem::remove(file);
            return false;
        }
    }
    std::filesystem::remove(file);
    return true;
}

bool NamespaceLan::set_link(int node, int lan, bool up) {
    return run({ip_, "-n", switch_, "link", "set", switch_port(node, lan), up ? "up" : "down"});
}

std::vector<std::string> NamespaceLan::exec_in(int node) const { return {ip_, "netns", "exec", ns(node)}; }

}  // namespace grav::testkit
