#include "namespace_lan.hpp"

#include "child_process.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

namespace grav::testkit {
namespace {

std::string find_ip() {
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
        if (::access(p, X_OK) == 0) return p;
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

NamespaceLan::NamespaceLan() : ip_(find_ip()), tag_(std::to_string(::getpid())) {
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
    lans_.push_back(lan);
    return true;
}

std::string NamespaceLan::switch_port(int node, int lan) const {
    return "p" + std::to_string(node) + "l" + std::to_string(lan);
}

std::string NamespaceLan::address(int node, int lan) {
    return "10.77." + std::to_string(lan) + "." + std::to_string(node + 1);
}

bool NamespaceLan::attach(int node, int lan) {
    if (!ensure_lan(lan)) return false;
    const std::string& n = ns(node);
    const std::string itf = "eth" + std::to_string(lan);
    const std::string port = switch_port(node, lan);
    // Both ends are created directly in their namespaces: the caller's
    // namespace never holds (nor routes to) anything of this LAN.
    if (!run({ip_, "-n", switch_, "link", "add", port, "type", "veth", "peer", "name", itf, "netns", n}))
        return false;
    if (!run({ip_, "-n", switch_, "link", "set", port, "master", "br" + std::to_string(lan), "up"}))
        return false;
    if (!run({ip_, "-n", n, "addr", "add", address(node, lan) + "/24", "dev", itf})) return false;
    return run({ip_, "-n", n, "link", "set", itf, "up"});
}

bool NamespaceLan::set_link(int node, int lan, bool up) {
    return run({ip_, "-n", switch_, "link", "set", switch_port(node, lan), up ? "up" : "down"});
}

std::vector<std::string> NamespaceLan::exec_in(int node) const { return {ip_, "netns", "exec", ns(node)}; }

}  // namespace grav::testkit
