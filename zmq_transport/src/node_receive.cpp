// Node: what comes in — the ROUTER, the SUBs, data messages and their sequence numbers.
#include "node.hpp"

#include "endpoint.hpp"
#include "frames.hpp"
#include "node_tuning.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace grav::zmq {

using namespace tuning;
using std::chrono::milliseconds;

void Node::on_router() {
    Frames frames;
    for (int n = 0; n < receive_batch && receive(*router_, frames); ++n) {
        if (frames.overflow || frames.count != 4) {
            malformed("direct message of " + std::to_string(frames.count) + (frames.overflow ? "+" : "") +
                      " frames (expected identity + 3)");
            continue;
        }
        const std::string_view identity = frames.text(0);
        const std::string_view topic = frames.text(1);
        auto control = wire::parse_control(topic);
        if (control && !*control) {
            malformed(control->error().reason());
            continue;
        }
        // WHO comes from anonymous probes; everything else names its sender.
        if (control && **control == wire::Control::who) {
            send_control(*router_, wire::Control::iam, wire::encode_hello(hello_of_self()), identity);
            continue;
        }
        auto sender = wire::parse_routing_id(identity);
        if (!sender) {
            malformed("direct message from a connection that is not a grav node");
            continue;
        }
        if (!control) {
            PeerLink* link = find(*sender);
            if (!link || !link->admitted) {
                bump(counters_.unknown_sender);
                log("dropped a direct message from " + sender->short_str() + ", which is no peer");
                continue;
            }
            Frames data;  // the three grav frames without the identity
            data.count = 3;
            for (std::size_t i = 0; i < 3; ++i) data.part[i].move(frames.part[i + 1]);
            on_data(*link, data, true);
            continue;
        }
        switch (**control) {
            case wire::Control::hello: {
                auto hello = wire::decode_hello(frames.bytes(3));
                if (!hello) {
                    malformed(hello.error().reason());
                    continue;
                }
                std::string address;
                try {
                    if (const char* a = frames.part[1].gets("Peer-Address")) address = a;
                } catch (const ::zmq::error_t&) {
                }
                on_hello(identity, *hello, address);
                break;
            }
            case wire::Control::ready:
                if (PeerLink* link = find(*sender); link && link->admitted) {
                    link->ready_from_peer = true;
                    check_joined(*link);
                }
                break;
            case wire::Control::bye:
                if (PeerLink* link = find(*sender)) {
                    link->bye_direct = true;
                    if (link->bye_fanout || !link->sub) {
                        remove_peer(link->id, LeaveReason::withdrew, "said goodbye");
                    } else if (!link->leave_deadline) {
                        link->leave_deadline = SteadyClock::now() + leave_wait;
                    }
                }
                break;
            default:
                malformed("control " + std::string(topic.substr(1)) + " is not for a ROUTER");
                break;
        }
    }
}

void Node::on_sub(PeerLink& link) {
    Frames frames;
    const NodeId id = link.id;
    for (int n = 0; n < receive_batch; ++n) {
        PeerLink* current = find(id);
        if (!current || !current->sub || !receive(*current->sub, frames)) return;
        if (frames.overflow || frames.count != 3) {
            malformed("fan-out message from " + id.short_str() + " of " + std::to_string(frames.count) +
                      " frames (expected 3)");
            continue;
        }
        auto control = wire::parse_control(frames.text(0));
        if (!control) {
            on_data(*current, frames, false);
            continue;
        }
        if (*control && **control == wire::Control::bye) {
            current->bye_fanout = true;
            if (current->bye_direct) {
                remove_peer(id, LeaveReason::withdrew, "said goodbye");
                return;
            }
            if (!current->leave_deadline) current->leave_deadline = SteadyClock::now() + leave_wait;
            continue;
        }
        // The SYNC subscription may match nothing we publish; other control
        // topics on the fan-out link are not ours to act on.
    }
}

void Node::on_data(PeerLink& link, const Frames& frames, bool direct) {
    if (!link.admitted || link.bye_fanout) {
        bump(counters_.unknown_sender);
        return;
    }
    if (auto ok = wire::check_type(frames.text(0)); !ok) {
        malformed("message from " + link.id.short_str() + ": " + ok.error().reason());
        return;
    }
    auto header = wire::decode_header(frames.bytes(1));
    if (!header) {
        malformed("message from " + link.id.short_str() + ": " + header.error().reason());
        return;
    }
    // Sequence numbers: one stream per type on the fan-out link (a
    // subscriber sees only the types it wants), one for direct messages.
    SequenceTracker* tracker = &link.direct_in;
    if (!direct) {
        const std::string_view type = frames.text(0);
        auto it = link.fanout_in.find(type);
        if (it == link.fanout_in.end()) it = link.fanout_in.emplace(std::string(type), SequenceTracker{}).first;
        tracker = &it->second;
    }
    const auto check = tracker->accept(header->seq);
    if (check.verdict == SequenceCheck::Verdict::duplicate) {
        bump(counters_.duplicates);
        return;
    }
    if (check.verdict == SequenceCheck::Verdict::gap) {
        bump(counters_.gaps);
        bump(counters_.missing, check.missing);
        log(std::to_string(check.missing) + " message(s) of '" + std::string(frames.text(0)) + "' from " +
            link.id.short_str() + " never arrived");
    }
    bump(counters_.messages_received);
    bump(counters_.bytes_received, frames.total_size());
    if (direct) bump(counters_.direct_received);
    events_.on_message(link.id, wire::message_of(frames.text(0), *header, frames.bytes(2)));
}

}  // namespace grav::zmq
