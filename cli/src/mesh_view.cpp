#include "mesh_view.hpp"

#include "exit_code.hpp"

#include <algorithm>
#include <cctype>

namespace grav::cli {

bool wait_for_mesh(Node& node, std::chrono::milliseconds wait, std::chrono::milliseconds settle,
                   Interrupt& interrupt, std::vector<NodeId>& not_ready) {
    if (interrupt.sleep_for(wait)) return false;
    return node.peers().wait_until_settled([&node] { return node.bus().discovered(); }, settle, interrupt,
                                           not_ready) != WaitResult::interrupted;
}

namespace {

bool hex_prefix(const std::string& text) {
    return text.size() >= 4 && std::all_of(text.begin(), text.end(),
                                           [](unsigned char c) { return std::isxdigit(c) != 0 || c == '-'; });
}

std::vector<NodeId> matches(Node& node, const std::string& text) {
    std::vector<NodeId> by_name;
    std::vector<NodeId> by_id;
    for (const PeerInfo& p : node.bus().peers()) {
        if (p.name == text) by_name.push_back(p.id);
        std::string lower = text;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (hex_prefix(lower) && p.id.str().starts_with(lower)) by_id.push_back(p.id);
    }
    return by_id.empty() ? by_name : by_id;
}

}  // namespace

NodeId find_node(Node& node, const std::string& text, std::chrono::milliseconds patience,
                 Interrupt& interrupt) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
        auto found = matches(node, text);
        if (found.size() == 1) return found.front();
        if (found.size() > 1) {
            std::string ids;
            for (const auto& id : found) ids += (ids.empty() ? "" : ", ") + id.short_str();
            std::string message = "--node " + text + " names " + std::to_string(found.size()) + " nodes (";
            message += ids;
            message += "): give its id";
            throw CliError(ExitCode::usage, message);
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            throw CliError(ExitCode::no_peer, "no node '" + text + "' in view (" + node.discovery_text() +
                                                  ")" + node.refusal_hint());
        }
        if (interrupt.sleep_for(std::chrono::milliseconds(50)))
            throw CliError(ExitCode::interrupted, "interrupted while looking for node '" + text + "'");
    }
}

std::string node_label(Node& node, const NodeId& id) {
    const std::string name = node.peers().name_of(id);
    return name == id.short_str() ? name : name + " (" + id.short_str() + ")";
}

}  // namespace grav::cli
