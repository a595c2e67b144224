#pragma once
// The gtest fixture of the namespace LAN tests: a NamespaceLan (the test is
// skipped, saying why, where namespaces cannot be made), node programs by
// node index, and waits on their output lines.

#include "child_process.hpp"
#include "lan_process.hpp"
#include "namespace_lan.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace grav::testkit {

class LanTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (!lan_.unavailable().empty()) GTEST_SKIP() << "namespace LAN unavailable: " << lan_.unavailable();
    }

    bool build(int count, int lan = 0) { return build_star(lan_, count, lan); }

    // Starts `program` in node's namespace (replacing what ran there before);
    // fails the test if it does not print START.
    LanProcess& launch(int node, const std::string& program, std::vector<std::string> extra = {}) {
        std::string error;
        auto p = launch_in(lan_, node, program, std::move(extra), std::chrono::seconds(5), error);
        EXPECT_TRUE(p) << error;
        procs_[node] = p ? std::move(*p) : LanProcess{};
        return procs_[node];
    }

    [[nodiscard]] ChildProcess& proc(int node) { return *procs_.at(node).process; }
    [[nodiscard]] const std::string& id(int node) const { return procs_.at(node).id; }

    // The words of the first line of `who`, from line `from` on, that starts
    // with "<kind> <id of whom><rest>", waiting up to `timeout`.
    std::optional<std::vector<std::string>> event(int who, const std::string& kind, int whom,
                                                  const std::string& rest, std::chrono::milliseconds timeout,
                                                  std::size_t from = 0) {
        const auto line = proc(who).wait_for_prefix(kind + " " + id(whom) + rest, timeout, from);
        if (!line) return std::nullopt;
        return split(*line);
    }

    // What a node printed, for failure messages; of the periodic lines
    // (`noisy` prefix) only the last few.
    std::string dump(int node, const std::string& noisy = "TICK ") {
        std::string out = "\n--- node " + std::to_string(node) + " (" + id(node) + ") printed:\n";
        if (!procs_.at(node).process) return out;
        const auto& lines = proc(node).lines();
        std::size_t noisy_left = 0;
        for (const auto& l : lines) noisy_left += l.starts_with(noisy) ? 1 : 0;
        for (const auto& l : lines) {
            if (l.starts_with(noisy) && noisy_left-- > 3) continue;
            out += l + "\n";
        }
        return out;
    }

    NamespaceLan lan_;
    std::map<int, LanProcess> procs_;
};

}  // namespace grav::testkit
