#include "nats_cluster.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "loopback.hpp"
#include "server_config.hpp"
#include "server_process.hpp"

namespace grav::natstest {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Start attempts on fresh ports when a port was taken between choosing and binding.
constexpr int kStartAttempts = 5;
// Restart attempts on the same ports (one may be briefly held by another socket).
constexpr int kRestartAttempts = 8;
constexpr auto kProbeTimeout = 250ms;  // a miss only means "poll again"
constexpr auto kPollInterval = 20ms;
constexpr std::size_t kLogTail = 8192;

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::runtime_error("cannot write " + path);
}

std::string make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/grav-nats-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + " failed");
    return pattern;
}

// `"key": <integer>` in a JSON text, or -1.
long json_int(const std::string& json, const std::string& key) {
    const auto at = json.find('"' + key + "\":");
    if (at == std::string::npos) return -1;
    return std::strtol(json.c_str() + at + key.size() + 3, nullptr, 10);
}

// Every `"key": "<string>"` value in a JSON text.
std::set<std::string> json_strings(const std::string& json, const std::string& key) {
    std::set<std::string> values;
    const std::string needle = '"' + key + "\": \"";
    for (auto at = json.find(needle); at != std::string::npos; at = json.find(needle, at + 1)) {
        const auto begin = at + needle.size();
        const auto end = json.find('"', begin);
        if (end == std::string::npos) break;
        values.insert(json.substr(begin, end - begin));
    }
    return values;
}

}  // namespace

struct NatsCluster::Server {
    ServerPorts ports;
    std::string config_path, log_path, store_path;
    int runs = 0;
    std::unique_ptr<ServerProcess> process;
};

std::optional<std::string> nats_server_binary() {
    if (const char* env = std::getenv("GRAV_NATS_SERVER"); env != nullptr && *env != '\0') {
        // Named explicitly: used as is, so a wrong path fails loudly in start().
        return std::string(env);
    }
    if (executable("/usr/sbin/nats-server")) return std::string("/usr/sbin/nats-server");
    if (const char* path = std::getenv("PATH"); path != nullptr) {
        std::istringstream dirs(path);
        for (std::string dir; std::getline(dirs, dir, ':');) {
            if (dir.empty()) continue;
            const std::string candidate = dir + "/nats-server";
            if (executable(candidate)) return candidate;
        }
    }
    return std::nullopt;
}

std::unique_ptr<NatsCluster> NatsCluster::start(std::size_t n, NatsServerOptions options) {
    if (n == 0) throw std::invalid_argument("NatsCluster::start: needs at least one server");
    validate(options);
    const auto binary = nats_server_binary();
    if (!binary) {
        throw std::runtime_error("no nats-server binary: set GRAV_NATS_SERVER, or install nats-server");
    }
    if (!executable(*binary))
        throw std::runtime_error("nats-server binary " + *binary + " is not executable");
    // Owned before any process starts: a throw below kills them all.
    auto cluster = std::make_unique<NatsCluster>(Passkey{}, *binary, n, std::move(options));
    for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
        cluster->make_configs();
        if (cluster->launch_all() == Launch::ready) return cluster;
    }
    throw std::runtime_error("NatsCluster::start: ports taken by others on " +
                             std::to_string(kStartAttempts) + " attempts; last log of server 0:\n" +
                             cluster->log(0));
}

NatsCluster::NatsCluster(Passkey, std::string binary, std::size_t n, NatsServerOptions options)
    : binary_(std::move(binary)), options_(std::move(options)), dir_(make_temp_dir()) {
    if (options_.jetstream) store_dir_ = dir_ + "/jetstream";
    for (std::size_t i = 0; i < n; ++i) {
        auto server = std::make_unique<Server>();
        const std::string name = dir_ + "/server-" + std::to_string(i);
        server->config_path = name + ".conf";
        server->log_path = name + ".log";
        if (options_.jetstream) server->store_path = store_dir_ + "/server-" + std::to_string(i);
        servers_.push_back(std::move(server));
    }
}

NatsCluster::~NatsCluster() {
    servers_.clear();  // kills and reaps every server before their files go
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
}

void NatsCluster::make_configs() {
    const auto ports = free_loopback_ports(3 * servers_.size());
    std::vector<ServerPorts> all;
    for (std::size_t i = 0; i < servers_.size(); ++i)
        all.push_back({ports[3 * i], ports[3 * i + 1], ports[3 * i + 2]});
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        servers_[i]->ports = all[i];
        write_file(servers_[i]->config_path, server_config(i, all, options_, servers_[i]->store_path));
    }
}

NatsCluster::Launch NatsCluster::launch_all() {
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        launch(i);
        all.push_back(i);
    }
    const Launch result = wait_ready(all);
    if (result == Launch::port_taken) {
        for (auto& s : servers_) s->process.reset();
    }
    return result;
}

void NatsCluster::launch(std::size_t i) {
    Server& s = at(i);
    s.process.reset();
    {
        std::ofstream log(s.log_path, std::ios::app);
        log << "----- grav NATS harness: run " << ++s.runs << " of server " << i << " (client port "
            << s.ports.client << ", monitoring " << s.ports.http << ", routes " << s.ports.cluster
            << ") -----\n";
    }
    s.process = std::make_unique<ServerProcess>(binary_, s.config_path, s.log_path);
}

NatsCluster::Launch NatsCluster::wait_ready(const std::vector<std::size_t>& which) {
    const auto deadline = Clock::now() + kReadyTimeout;
    while (true) {
        for (const std::size_t i : which) {
            const auto ended = at(i).process->exit_description();
            if (!ended) continue;
            const std::string log_text = log(i);
            // The run's own lines: after the harness' last marker.
            const auto run_start = log_text.rfind("----- grav NATS harness: run");
            if (log_text.find("address already in use", run_start == std::string::npos ? 0 : run_start) !=
                std::string::npos) {
                return Launch::port_taken;
            }
            throw std::runtime_error(
                "nats-server " + std::to_string(i) + " " + *ended + " while starting; log:\n" +
                log_text.substr(log_text.size() > kLogTail ? log_text.size() - kLogTail : 0));
        }
        const std::size_t routes = running_count() - 1;
        bool all_ready = true;
        for (std::size_t i = 0; i < servers_.size() && all_ready; ++i) {
            if (running(i)) all_ready = ready(i, routes);
        }
        if (all_ready) return Launch::ready;
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(kPollInterval);
    }
    std::string why =
        "NatsCluster: servers not ready within " + std::to_string(kReadyTimeout.count()) + " s:";
    for (std::size_t i = 0; i < servers_.size(); ++i) {
        if (!running(i)) continue;
        const std::string reason = not_ready_reason(i);
        if (reason.empty()) continue;
        const std::string log_text = log(i);
        why += "\n  server " + std::to_string(i) + ": " + reason + "; log:\n" +
               log_text.substr(log_text.size() > kLogTail ? log_text.size() - kLogTail : 0);
    }
    throw std::runtime_error(why);
}

bool NatsCluster::ready(std::size_t i, std::size_t routes) const {
    const ServerPorts& p = at(i).ports;
    if (!nats_greets(p.client, kProbeTimeout)) return false;
    const auto health = http_get(p.http, "/healthz", kProbeTimeout);
    if (!health || health->status != 200) return false;
    if (servers_.size() == 1) return true;
    const auto routez = http_get(p.http, "/routez", kProbeTimeout);
    // Exactly one route to each other running server: while two servers
    // still resolve a duplicate pair of routes, num_routes alone could
    // match with a peer missing.
    return routez && routez->status == 200 &&
           json_int(routez->body, "num_routes") == static_cast<long>(routes) &&
           json_strings(routez->body, "remote_id").size() == routes;
}

std::string NatsCluster::not_ready_reason(std::size_t i) const {
    const ServerPorts& p = at(i).ports;
    if (!nats_greets(p.client, kProbeTimeout)) {
        return "no NATS greeting on client port " + std::to_string(p.client);
    }
    const auto health = http_get(p.http, "/healthz", kProbeTimeout);
    if (!health) return "no answer from /healthz on port " + std::to_string(p.http);
    if (health->status != 200) return "/healthz: " + std::to_string(health->status) + " " + health->body;
    if (servers_.size() == 1) return "";
    const std::size_t routes = running_count() - 1;
    const auto routez = http_get(p.http, "/routez", kProbeTimeout);
    if (!routez || routez->status != 200) return "no answer from /routez on port " + std::to_string(p.http);
    const long have = json_int(routez->body, "num_routes");
    const std::size_t peers = json_strings(routez->body, "remote_id").size();
    if (have == static_cast<long>(routes) && peers == routes) return "";
    return "/routez: num_routes " + std::to_string(have) + " to " + std::to_string(peers) +
           " servers, want " + std::to_string(routes);
}

std::size_t NatsCluster::running_count() const {
    std::size_t count = 0;
    for (std::size_t i = 0; i < servers_.size(); ++i) count += running(i) ? 1 : 0;
    return count;
}

std::size_t NatsCluster::size() const { return servers_.size(); }

std::string NatsCluster::url(std::size_t i) const {
    return "nats://127.0.0.1:" + std::to_string(at(i).ports.client);
}

std::vector<std::string> NatsCluster::urls() const {
    std::vector<std::string> all;
    for (std::size_t i = 0; i < servers_.size(); ++i) all.push_back(url(i));
    return all;
}

void NatsCluster::kill(std::size_t i) {
    if (auto& p = at(i).process) p->kill();
}

void NatsCluster::restart(std::size_t i) {
    if (running(i))
        throw std::logic_error("NatsCluster::restart: server " + std::to_string(i) + " is running");
    for (int attempt = 0; attempt < kRestartAttempts; ++attempt) {
        launch(i);
        try {
            if (wait_ready({i}) == Launch::ready) return;
        } catch (...) {
            at(i).process->kill();
            throw;
        }
        at(i).process->kill();
        std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("NatsCluster::restart: a port of server " + std::to_string(i) +
                             " stayed taken; log:\n" + log(i));
}

bool NatsCluster::running(std::size_t i) const {
    const auto& p = at(i).process;
    return p && p->alive();
}

pid_t NatsCluster::pid(std::size_t i) const { return running(i) ? at(i).process->pid() : -1; }

std::uint16_t NatsCluster::monitoring_port(std::size_t i) const { return at(i).ports.http; }

std::string NatsCluster::log(std::size_t i) const { return read_file(at(i).log_path); }

const std::string& NatsCluster::store_dir() const { return store_dir_; }

const NatsCluster::Server& NatsCluster::at(std::size_t i) const {
    if (i >= servers_.size()) {
        throw std::out_of_range("NatsCluster: server " + std::to_string(i) + " of " +
                                std::to_string(servers_.size()));
    }
    return *servers_[i];
}

NatsCluster::Server& NatsCluster::at(std::size_t i) {
    return const_cast<Server&>(static_cast<const NatsCluster&>(*this).at(i));
}

}  // namespace grav::natstest
