#include "mesh_lan.hpp"

#include "lan_process.hpp"

#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace grav::testkit {

std::optional<ProcessUsage> usage_of(pid_t pid) {
    namespace fs = std::filesystem;
    const fs::path proc = "/proc/" + std::to_string(pid);
    ProcessUsage u;
    {
        std::ifstream status(proc / "status");
        if (!status) return std::nullopt;
        for (std::string line; std::getline(status, line);) {
            if (line.starts_with("VmRSS:")) u.rss_kib = std::stol(line.substr(6));
        }
    }
    std::error_code ec;
    for (auto it = fs::directory_iterator(proc / "fd", ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        ++u.fds;
    for (auto it = fs::directory_iterator(proc / "task", ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        std::ifstream stat(it->path() / "schedstat");
        std::uint64_t run_ns = 0;
        if (stat >> run_ns) {
            u.cpu_ns += run_ns;
            ++u.threads;
        }
    }
    return u;
}

MeshLan::MeshLan(std::string program, std::string log_dir)
    : program_(std::move(program)), log_dir_(std::move(log_dir)) {}

bool MeshLan::build(int count) {
    if (!build_star(lan_, count)) {
        error_ = "cannot build the LAN: " + lan_.error();
        return false;
    }
    return true;
}

bool MeshLan::start(const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
    return start([&](int) { return args; }, timeout);
}

bool MeshLan::start(const std::function<std::vector<std::string>(int node)>& args_of,
                    std::chrono::milliseconds timeout) {
    const int count = lan_.node_count();
    nodes_.clear();
    nodes_.resize(static_cast<std::size_t>(count));
    // All spawned before any START is awaited: they come up together.
    for (int i = 0; i < count; ++i) {
        auto argv = lan_.exec_in(i);
        argv.push_back(program_);
        const auto args = args_of(i);
        argv.insert(argv.end(), args.begin(), args.end());
        const std::string log =
            log_dir_.empty() ? std::string{} : log_dir_ + "/node-" + std::to_string(i) + ".stderr";
        nodes_[static_cast<std::size_t>(i)].process = std::make_unique<ChildProcess>(std::move(argv), log);
        if (!nodes_[static_cast<std::size_t>(i)].process->started()) {
            error_ = "cannot run " + program_;
            return false;
        }
    }
    const bool all = wait_until(
        [&] {
            return std::all_of(nodes_.begin(), nodes_.end(), [](const Node& n) { return !n.id.empty(); });
        },
        timeout);
    if (!all) {
        for (int i = 0; i < count; ++i) {
            if (nodes_[static_cast<std::size_t>(i)].id.empty()) {
                error_ = "node " + std::to_string(i) + " did not print START" + dump(i);
                break;
            }
        }
    }
    return all;
}

double MeshLan::first_start_ms() const {
    double first = nodes_.empty() ? 0 : nodes_.front().started_ms;
    for (const auto& n : nodes_) first = std::min(first, n.started_ms);
    return first;
}

double MeshLan::last_start_ms() const {
    double last = 0;
    for (const auto& n : nodes_) last = std::max(last, n.started_ms);
    return last;
}

void MeshLan::pump(std::chrono::milliseconds timeout) {
    std::vector<pollfd> fds;
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (!nodes_[i].process) continue;
        const int fd = nodes_[i].process->output_fd();
        if (fd < 0) continue;
        fds.push_back(pollfd{fd, POLLIN, 0});
        which.push_back(i);
    }
    if (fds.empty()) return;
    if (::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(timeout.count(), 0))) <= 0)
        return;
    for (std::size_t k = 0; k < fds.size(); ++k) {
        if (fds[k].revents == 0) continue;
        Node& n = nodes_[which[k]];
        n.process->read_available();
        parse(n);
    }
}

bool MeshLan::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done()) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return done();
        pump(std::min(left, std::chrono::milliseconds(100)));
    }
    return true;
}

void MeshLan::parse(Node& node) {
    const auto& lines = node.process->lines();
    for (; node.parsed < lines.size(); ++node.parsed) {
        const auto w = split(lines[node.parsed]);
        if (w.empty()) continue;
        const auto stamp = [&](std::size_t at) { return w.size() > at ? std::stod(w[at]) : 0.0; };
        if (w[0] == "START" && w.size() >= 3) {
            node.id = w[1];
            node.started_ms = stamp(2);
        } else if (w[0] == "READY" && w.size() >= 4) {
            node.ready[w[1]] = stamp(3);
            node.left.erase(w[1]);
        } else if (w[0] == "LEFT" && w.size() >= 4) {
            node.ready.erase(w[1]);
            node.left[w[1]] = stamp(3);
        } else if (w[0] == "RECV" && w.size() >= 4) {
            node.received[{w[1], std::stoi(w[2])}] = stamp(3);
        } else if (w[0] == "SENT" && w.size() >= 3) {
            node.sent[std::stoi(w[1])] = stamp(2);
        } else if (w[0] == "STAT" && w.size() >= 3) {
            node.stats[w[1]] = std::stoull(w[2]);
        }
    }
}

bool MeshLan::live(int node) const {
    const auto& n = nodes_.at(static_cast<std::size_t>(node));
    return n.process && !n.killed;
}

bool MeshLan::reports_ready(const Node& node, int peer) const {
    return node.ready.contains(nodes_.at(static_cast<std::size_t>(peer)).id);
}

bool MeshLan::full_mesh() const {
    int live_count = 0;
    for (int i = 0; i < size(); ++i) live_count += live(i) ? 1 : 0;
    return ready_pairs() == live_count * (live_count - 1);
}

int MeshLan::ready_pairs() const {
    int pairs = 0;
    for (int i = 0; i < size(); ++i) {
        if (!live(i)) continue;
        for (int j = 0; j < size(); ++j) {
            if (i != j && live(j) && reports_ready(nodes_[static_cast<std::size_t>(i)], j)) ++pairs;
        }
    }
    return pairs;
}

double MeshLan::last_ready_ms() const {
    double last = 0;
    for (int i = 0; i < size(); ++i) {
        if (!live(i)) continue;
        for (int j = 0; j < size(); ++j) {
            if (i == j || !live(j)) continue;
            const auto& ready = nodes_[static_cast<std::size_t>(i)].ready;
            if (auto it = ready.find(nodes_[static_cast<std::size_t>(j)].id); it != ready.end())
                last = std::max(last, it->second);
        }
    }
    return last;
}

std::string MeshLan::missing(std::size_t max) const {
    std::ostringstream out;
    std::size_t shown = 0;
    std::size_t total = 0;
    for (int i = 0; i < size(); ++i) {
        if (!live(i)) continue;
        for (int j = 0; j < size(); ++j) {
            if (i == j || !live(j) || reports_ready(nodes_[static_cast<std::size_t>(i)], j)) continue;
            if (shown++ < max) out << " " << i << "->" << j;
            ++total;
        }
    }
    return total == 0 ? std::string("none") : std::to_string(total) + " pairs not ready:" + out.str();
}

void MeshLan::kill(int node) {
    auto& n = nodes_.at(static_cast<std::size_t>(node));
    if (!n.process) return;
    n.process->signal(SIGKILL);
    n.process->wait_exit(std::chrono::seconds(5));
    n.killed = true;
}

bool MeshLan::all_saw_left(int gone) const {
    const auto& id = nodes_.at(static_cast<std::size_t>(gone)).id;
    for (int i = 0; i < size(); ++i) {
        if (i != gone && live(i) && !nodes_[static_cast<std::size_t>(i)].left.contains(id)) return false;
    }
    return true;
}

double MeshLan::last_left_ms(int gone) const {
    const auto& id = nodes_.at(static_cast<std::size_t>(gone)).id;
    double last = 0;
    for (int i = 0; i < size(); ++i) {
        if (i == gone || !live(i)) continue;
        const auto& left = nodes_[static_cast<std::size_t>(i)].left;
        if (auto it = left.find(id); it != left.end()) last = std::max(last, it->second);
    }
    return last;
}

std::optional<std::pair<int, double>> MeshLan::send(int from, std::chrono::milliseconds timeout) {
    auto& n = nodes_.at(static_cast<std::size_t>(from));
    const int seq = n.sent.empty() ? 1 : n.sent.rbegin()->first + 1;
    n.process->signal(SIGUSR1);
    if (!wait_until([&] { return n.sent.contains(seq); }, timeout)) return std::nullopt;
    return std::pair{seq, n.sent.at(seq)};
}

int MeshLan::received_count(int from, int seq) const {
    const std::pair key{nodes_.at(static_cast<std::size_t>(from)).id, seq};
    int count = 0;
    for (int i = 0; i < size(); ++i) {
        if (i != from && live(i) && nodes_[static_cast<std::size_t>(i)].received.contains(key)) ++count;
    }
    return count;
}

bool MeshLan::all_received(int from, int seq) const {
    int live_others = 0;
    for (int i = 0; i < size(); ++i) live_others += i != from && live(i) ? 1 : 0;
    return received_count(from, seq) == live_others;
}

double MeshLan::last_received_ms(int from, int seq) const {
    const std::pair key{nodes_.at(static_cast<std::size_t>(from)).id, seq};
    double last = 0;
    for (int i = 0; i < size(); ++i) {
        if (i == from || !live(i)) continue;
        const auto& received = nodes_[static_cast<std::size_t>(i)].received;
        if (auto it = received.find(key); it != received.end()) last = std::max(last, it->second);
    }
    return last;
}

bool MeshLan::stop_all(std::chrono::milliseconds timeout) {
    for (int i = 0; i < size(); ++i) {
        if (live(i)) nodes_[static_cast<std::size_t>(i)].process->signal(SIGTERM);
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool all = true;
    for (int i = 0; i < size(); ++i) {
        if (!live(i)) continue;
        auto& n = nodes_[static_cast<std::size_t>(i)];
        // Keep reading: a node blocked on a full pipe would never exit.
        bool exited = n.process->wait_exit(std::chrono::milliseconds(0)).has_value();
        while (!exited && std::chrono::steady_clock::now() < deadline) {
            pump(std::chrono::milliseconds(10));
            exited = n.process->wait_exit(std::chrono::milliseconds(0)).has_value();
        }
        all = all && exited;
        n.killed = true;
    }
    return all;
}

std::uint64_t MeshLan::stat_total(const std::string& name) const {
    std::uint64_t total = 0;
    for (const auto& n : nodes_) {
        if (auto it = n.stats.find(name); it != n.stats.end()) total += it->second;
    }
    return total;
}

pid_t MeshLan::pid(int node) const { return nodes_.at(static_cast<std::size_t>(node)).process->pid(); }

std::string MeshLan::dump(int node, std::size_t lines) const {
    const auto& n = nodes_.at(static_cast<std::size_t>(node));
    std::string out = "\n--- node " + std::to_string(node) + " (" + n.id + ") printed:\n";
    if (!n.process) return out;
    const auto& all = n.process->lines();
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        out += all[i] + "\n";
    return out;
}

}  // namespace grav::testkit
