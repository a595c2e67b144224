#include "prometheus_server.hpp"

#include "support/loopback.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace grav::mtest {
namespace {

std::string make_temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/grav-prometheus-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr)
        throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
    return buffer.data();
}

// "%20" and friends for a query string.
std::string url_encode(const std::string& text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (const unsigned char c : text) {
        if (std::isalnum(c) != 0 || c == '_' || c == '-' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

}  // namespace

PrometheusServer::PrometheusServer(const std::string& binary, std::uint16_t target_port)
    : dir_(make_temp_dir()), port_(test::free_loopback_port()) {
    try {
        std::ofstream config(dir_ + "/prometheus.yml");
        config << "global:\n"
                  "  scrape_interval: 1s\n"
                  "  scrape_timeout: 1s\n"
                  "  evaluation_interval: 1s\n"
                  "scrape_configs:\n"
                  "  - job_name: grav\n"
                  "    static_configs:\n"
                  "      - targets: ['127.0.0.1:"
               << target_port << "']\n";
        if (!config.flush()) throw std::runtime_error("cannot write " + dir_ + "/prometheus.yml");
    } catch (...) {
        std::filesystem::remove_all(dir_);
        throw;
    }
    const std::vector<std::string> args{
        binary, "--config.file=" + dir_ + "/prometheus.yml", "--storage.tsdb.path=" + dir_ + "/data",
        "--web.listen-address=127.0.0.1:" + std::to_string(port_), "--log.level=warn"};
    const std::string log_path = dir_ + "/prometheus.log";
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        std::filesystem::remove_all(dir_);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
        const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (log >= 0) {
            ::dup2(log, STDOUT_FILENO);
            ::dup2(log, STDERR_FILENO);
        }
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
}

PrometheusServer::~PrometheusServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {}
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

bool PrometheusServer::wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;  // reaped: it exited
            return false;
        }
        const auto response = test::http_get(port_, "/-/ready", std::chrono::milliseconds(1000));
        if (response && response->status == 200) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

std::optional<double> PrometheusServer::query(const std::string& promql) const {
    const auto response =
        test::http_get(port_, "/api/v1/query?query=" + url_encode(promql), std::chrono::seconds(5));
    if (!response || response->status != 200) return std::nullopt;
    // {"status":"success","data":{"resultType":"vector","result":[{"metric":{...},"value":[1712.3,"42"]}]}}
    const std::string& body = response->body;
    if (body.find("\"status\":\"success\"") == std::string::npos) return std::nullopt;
    const auto value = body.find("\"value\":[");
    if (value == std::string::npos) return std::nullopt;
    const auto comma = body.find(",\"", value);
    const auto end = comma == std::string::npos ? std::string::npos : body.find('"', comma + 2);
    if (end == std::string::npos) return std::nullopt;
    const std::string number = body.substr(comma + 2, end - comma - 2);
    char* stop = nullptr;
    const double v = std::strtod(number.c_str(), &stop);
    if (stop != number.c_str() + number.size()) return std::nullopt;
    return v;
}

std::string PrometheusServer::log() const {
    std::ifstream in(dir_ + "/prometheus.log");
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace grav::mtest
