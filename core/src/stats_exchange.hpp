#pragma once
// grav.sys.stats: one node asks another for its counters, point to point;
// the other answers grav.sys.stats.reply (reply_to = the request's id) with
// a NodeReport, cereal portable binary (docs/PROTOCOL.md, "Node
// statistics"). The asker matches answers to its pending requests here.

#include "system_types.hpp"

#include <grav/error.hpp>
#include <grav/message.hpp>
#include <grav/node_report.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace grav::detail {

inline constexpr std::string_view kStatsType = "grav.sys.stats";
inline constexpr std::string_view kStatsReplyType = "grav.sys.stats.reply";

MessagePtr stats_request(const NodeId& self);
MessagePtr stats_reply(const Message& request, const NodeReport& report);
std::string encode_report(const NodeReport& report);
// Never throws; bounded: a hostile count or length is an Error, not an allocation.
Result<NodeReport> decode_report(std::span<const std::byte> bytes);

// The asker's side: requests in flight, each answered at most once.
class StatsRequests {
public:
    // Registers requests before they are sent.
    void expect(const std::vector<MessageId>& ids);
    // An answer came: false when nobody waits for it (late, or unasked).
    bool answer(const Message& reply);
    // Waits until every id is answered or `deadline`; then forgets them.
    // An unanswered one is Errc::timeout.
    std::vector<Result<NodeReport>> collect(const std::vector<MessageId>& ids,
                                            std::chrono::steady_clock::time_point deadline);

private:
    std::mutex mutex_;
    std::condition_variable answered_;
    std::map<MessageId, std::optional<Result<NodeReport>>> pending_;
};

}  // namespace grav::detail
