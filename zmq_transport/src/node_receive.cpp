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
    // A leader whose reply came stops here: the rest waits for the next
    // turn (the socket stays asked), its caller's next request does not.
    for (int n = 0; n < receive_batch && !leader_satisfied() && receive(*router_, frames); ++n) {
        // Behind the routing id: control = [topic][header][body], data = [type][data frame].
        if (frames.overflow || frames.count < 3) {
            malformed("direct message of " + std::to_string(frames.count) + (frames.overflow ? "+" : "") +
                      " frames (expected identity + 2 or 3)");
            continue;
        }
        const std::string_view identity = frames.text(0);
        const std::string_view topic = frames.text(1);
        auto control = wire::parse_control(topic);
        if (control && !*control) {
            malformed(control->error().reason());
            continue;
        }
        const std::size_t expected = control ? 4 : 3;
        if (frames.count != expected) {
            malformed(std::string(control ? "control" : "data") + " message of " +
                      std::to_string(frames.count) + " frames on the ROUTER (expected " +
                      std::to_string(expected) + ")");
            continue;
        }
        // WHO comes from anonymous probes; everything else names its sender.
        if (control && **control == wire::Control::who) {
            if (auto h = wire::decode_control_header(frames.bytes(2), **control, NodeId{}); !h) {
                malformed("WHO: " + h.error().reason());
                continue;
            }
            send_control(*router_, wire::Control::iam, wire::encode_hello(hello_of_self()), identity);
            continue;
        }
        auto sender = wire::parse_routing_id(identity);
        if (!sender) {
            malformed("direct message from a connection that is not a grav node");
            continue;
        }
        PeerLink* known = find(*sender);  // its last sign of life: once from_bound_key vouches for it
        wire::Header control_header;
        // RESENT carries the resent message's own header (on_resent checks it).
        if (control && **control != wire::Control::resent) {
            auto h = wire::decode_control_header(frames.bytes(2), **control, *sender);
            if (!h) {
                malformed(std::string(topic.substr(1)) + " from " + sender->short_str() + ": " +
                          h.error().reason());
                continue;
            }
            control_header = *h;
        }
        if (!control) {
            PeerLink* link = known;
            if (!link || !link->admitted) {
                bump(counters_.unknown_sender);
                log("dropped a direct message from " + sender->short_str() + ", which is no peer");
                continue;
            }
            if (!from_bound_key(*link, frames.part[1])) continue;
            on_data(*link, topic, frames.bytes(2), frames.part[1].size() + frames.part[2].size(), true);
            continue;
        }
        switch (**control) {
            case wire::Control::hello: {
                if (stopping_) break;  // no new peers while saying goodbye
                auto hello = wire::decode_hello(frames.bytes(3));
                if (!hello) {
                    malformed(hello.error().reason());
                    continue;
                }
                std::string address;
                std::string member_key;  // secure mode: set by our ZAP handler
                try {
                    if (const char* a = frames.part[1].gets("Peer-Address")) address = a;
                    if (secure()) {
                        if (const char* k = frames.part[1].gets("User-Id")) member_key = k;
                    }
                } catch (const ::zmq::error_t&) {}
                // The header's id is the sender's incarnation (nil: none).
                on_hello(identity, *hello, address, control_header.id, member_key);
                break;
            }
            case wire::Control::ready:
                if (PeerLink* link = find(*sender);
                    link && link->admitted && from_bound_key(*link, frames.part[1])) {
                    link->ready_from_peer = true;
                    on_announcement(*link, frames.bytes(3));
                    check_joined(*link);
                }
                break;
            case wire::Control::resend:
                if (PeerLink* link = find(*sender);
                    link && link->admitted && from_bound_key(*link, frames.part[1]))
                    on_resend_request(*link, frames.bytes(3));
                break;
            case wire::Control::resent:
                if (PeerLink* link = find(*sender);
                    link && link->admitted && !link->bye_fanout && from_bound_key(*link, frames.part[1])) {
                    on_resent(*link, frames.bytes(2), frames.bytes(3));
                }
                break;
            case wire::Control::bye:
                if (PeerLink* link = find(*sender); link && from_bound_key(*link, frames.part[1])) {
                    link->bye_direct = true;
                    set_live(link->id, false);  // leaving: no longer a sign of life
                    if (frames.part[3].size() > 0) on_bye_tails(*link, frames.bytes(3));
                    // Both stopping: this node reads no more fan-out, so what
                    // it took is final. Said now, not when its own stop ends,
                    // or each side waited the whole stop_flush_timeout for the
                    // other's GOT.
                    if (stopping_ && link->tails_announced) {
                        send_got(*link);
                        link->tails_announced = false;  // said: not again at remove_peer
                    }
                    if (link->bye_fanout || !link->sub) {
                        remove_peer(link->id, LeaveReason::withdrew, "said goodbye");
                    } else {
                        // Its tail still on the way (a slow SUB): wait for it
                        // as long as a stopping node waits for ours.
                        const bool tail = tail_pending(*link);
                        const auto wait =
                            tail ? std::max<milliseconds>(leave_wait, options_.stop_flush_timeout)
                                 : leave_wait;
                        if (!link->leave_deadline || tail) {
                            link->leave_deadline = SteadyClock::now() + wait;
                            arm_timers(*link->leave_deadline);
                        }
                    }
                }
                break;
            case wire::Control::ping:
                if (PeerLink* link = find(*sender);
                    link && link->admitted && from_bound_key(*link, frames.part[1])) {
                    if (auto token = wire::decode_echo(frames.bytes(3)); token) {
                        send_control(*router_, wire::Control::pong, wire::encode_echo(*token), identity);
                    } else {
                        malformed("PING from " + sender->short_str() + ": " + token.error().reason());
                    }
                }
                break;
            case wire::Control::got:
                if (PeerLink* link = find(*sender); link && from_bound_key(*link, frames.part[1])) {
                    on_got(*link, frames.bytes(3));
                }
                break;
            default: malformed("control " + std::string(topic.substr(1)) + " is not for a ROUTER"); break;
        }
    }
}

void Node::on_sub(PeerLink& link) {
    Frames frames;
    const NodeId id = link.id;
    for (int n = 0; n < receive_batch; ++n) {
        PeerLink* current = find(id);
        if (!current || !current->sub) return;
        if (!events_.has_room()) {
            hold_subscriptions();
            return;
        }
        if (!receive(*current->sub, frames)) return;
        current->traffic->seen();
        auto control = frames.count > 0 ? wire::parse_control(frames.text(0)) : std::nullopt;
        const std::size_t expected = control ? 3 : 2;  // control: topic, header, body; data: type, data frame
        if (frames.overflow || frames.count != expected) {
            malformed("fan-out message from " + id.short_str() + " of " + std::to_string(frames.count) +
                      (frames.overflow ? "+" : "") + " frames (expected " + std::to_string(expected) + ")");
            continue;
        }
        if (!control) {
            on_data(*current, frames.text(0), frames.bytes(1), frames.total_size(), false);
            continue;
        }
        if (*control && **control == wire::Control::bye) {
            if (auto h = wire::decode_control_header(frames.bytes(1), **control, id); !h) {
                malformed("BYE on the fan-out link from " + id.short_str() + ": " + h.error().reason());
                continue;
            }
            current->bye_fanout = true;
            set_live(id, false);  // leaving: no longer a sign of life
            if (current->bye_direct) {
                remove_peer(id, LeaveReason::withdrew, "said goodbye");
                return;
            }
            if (!current->leave_deadline) {
                current->leave_deadline = SteadyClock::now() + leave_wait;
                arm_timers(*current->leave_deadline);
            }
            continue;
        }
        // The SYNC subscription may match nothing we publish; other control
        // topics on the fan-out link are not ours to act on.
    }
}

void Node::hold_subscriptions() {
    if (subs_held_) return;
    subs_held_ = true;
    poll_dirty_ = true;
    next_keepalive_ = SteadyClock::now() + options_.heartbeat_interval;
}

void Node::keep_held_subscriptions(SteadyTime now) {
    if (events_.has_room()) {
        subs_held_ = false;
        poll_dirty_ = true;  // a rebuilt set asks every SUB: nothing is missed
        return;
    }
    if (now < next_keepalive_) return;
    next_keepalive_ = now + options_.heartbeat_interval;
    const std::string sync = wire::sync_topic(self_.id);
    for (auto& [id, link] : peers_) {
        // Not to a peer that said goodbye: a write after its close gets a
        // reset, and a reset discards what its connection still holds.
        // Unless its announced tail is still to come: then it is still there.
        if (!link->sub || link->bye_fanout || (link->bye_direct && !tail_pending(*link))) continue;
        try {
            link->sub->set(::zmq::sockopt::subscribe, sync);  // the publisher ignores a repeat
        } catch (const ::zmq::error_t& e) {
            log("cannot keep the subscription to " + id.short_str() + " alive: " + e.what());
        }
    }
}

void Node::on_data(PeerLink& link, std::string_view type, std::span<const std::byte> frame,
                   std::size_t wire_bytes, bool direct) {
    if (!link.admitted || link.bye_fanout) {
        bump(counters_.unknown_sender);
        return;
    }
    if (auto ok = wire::check_type(type); !ok) {
        malformed("message from " + link.id.short_str() + ": " + ok.error().reason());
        return;
    }
    // A malformed batch is rejected whole: nothing of it is delivered.
    if (auto ok = wire::decode_batch(frame, records_); !ok) {
        malformed("message from " + link.id.short_str() + ": " + ok.error().reason());
        return;
    }
    // Sequence numbers: one stream per type on the fan-out link (a
    // subscriber sees only the types it wants), one for direct messages.
    // A gap is asked for again and what follows it held (node_resend.cpp).
    const auto kind = direct ? wire::StreamKind::direct : wire::StreamKind::fanout;
    StreamIn& stream = *stream_in(link, kind, type, true);
    bump(counters_.bytes_received, wire_bytes);
    bump(link.traffic->bytes_received, wire_bytes);
    for (const auto& record : records_) {
        accept(link, kind, type, stream, record.header.seq,
               wire::message_of(type, record.header, record.payload), false);
    }
}

}  // namespace grav::zmq
