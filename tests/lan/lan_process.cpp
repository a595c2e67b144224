#include "lan_process.hpp"

#include <cstdlib>
#include <string>

namespace grav::testkit {

std::optional<LanProcess> launch_in(const NamespaceLan& lan, int node, const std::string& program,
                                    std::vector<std::string> extra, std::chrono::milliseconds timeout,
                                    std::string& error) {
    auto argv = lan.exec_in(node);
    argv.push_back(program);
    for (auto& e : extra) argv.push_back(std::move(e));
    LanProcess p;
    p.process = std::make_unique<ChildProcess>(std::move(argv));
    const auto line = p.process->wait_for_prefix("START ", timeout);
    if (!line) {
        error = program + " in node " + std::to_string(node) + " did not start";
        return std::nullopt;
    }
    const auto words = split(*line);
    if (words.size() < 3) {
        error = "bad START line: " + *line;
        return std::nullopt;
    }
    p.id = words[1];
    p.started_ms = std::stod(words[2]);
    return p;
}

bool build_star(NamespaceLan& lan, int count, int lan_index) {
    if (!lan.add_nodes(count)) return false;
    for (int i = 0; i < count; ++i) {
        if (!lan.attach(i, lan_index)) return false;
    }
    return lan.pin_neighbours(lan_index);
}

double test_scale() {
    const char* text = std::getenv("GRAV_TEST_SCALE");
    if (!text) return 1.0;
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    return end != text && v > 0 ? v : 1.0;
}

}  // namespace grav::testkit
