#pragma once
// The one place that maps grav to NATS and back (docs/PROTOCOL.md, "NATS
// mapping"): the subjects of a group, and a message as headers and a body.
//
//   grav.<group>.msg.<type>           a published message (any site may want it)
//   grav.<group>.node.<node id>       a message for one node (a reply)
//   grav.<group>.tunnel.<capability>  a tunnel request, queue group of the same name
//   _INBOX.grav.<node id>.<msg id>    where the server says no one offers a capability
//
// Headers (NATS/1.0): `Grav: <id> <origin> <time> <bridge> <seq>` on every
// message (time in ns since the Unix epoch; bridge: the bridge node that
// sent it; seq: its count of the subject, from 1, 0 when not counted), then
// only what is set: Grav-Type (where the subject does not name the type:
// node and tunnel subjects), Grav-Parent, Grav-Reply-To, and in durable mode
// Nats-Msg-Id (the message id, for the stream's duplicate check) and
// Grav-Site (the site's durable consumer, so that the site drops its own
// messages when the stream gives them back). One header for the fields every
// message has: nats.c costs about as much per header as for the whole rest
// of a publish (docs/BENCHMARKS.md, "NATS bridge"). The body is the payload,
// byte for byte. A plain NATS client may publish with no headers at all: the
// type is then the subject's, the id new and the origin nil.

#include "nats_handles.hpp"

#include <grav/error.hpp>
#include <grav/message.hpp>
#include <grav/type_pattern.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace grav::nats::detail {

class Subjects {
public:
    // The group's token: itself, or "_" for "*" (any group); refused when it
    // cannot be one subject token.
    static Result<Subjects> for_group(std::string_view group);

    [[nodiscard]] std::string message(std::string_view type) const {
        std::string out;
        message_into(out, type);
        return out;
    }
    // The same into `out`, reusing its buffer (a publish makes no allocation for it).
    void message_into(std::string& out, std::string_view type) const {
        out.assign(prefix_).append("msg.").append(type);
    }
    [[nodiscard]] std::string message_pattern(const TypePattern& p) const { return message(p.text()); }
    // Every published message of the group: what the durable stream keeps.
    [[nodiscard]] std::string all_messages() const { return prefix_ + "msg.>"; }
    // The group as one subject token ("_" for "*").
    [[nodiscard]] std::string token() const { return prefix_.substr(5, prefix_.size() - 6); }
    [[nodiscard]] std::string node(const NodeId& id) const { return prefix_ + "node." + id.str(); }
    [[nodiscard]] std::string tunnel(std::string_view capability) const {
        return prefix_ + "tunnel." + std::string(capability);
    }
    static std::string inbox_pattern(const NodeId& self) { return "_INBOX.grav." + self.str() + ".*"; }
    static std::string inbox(const NodeId& self, const MessageId& m) {
        return "_INBOX.grav." + self.str() + "." + m.str();
    }

    enum class Kind { message, node, tunnel, inbox, unknown };
    struct Parsed {
        Kind kind = Kind::unknown;
        std::string rest;  // the type, node id, capability or message id
    };
    [[nodiscard]] Parsed parse(std::string_view subject) const;

private:
    std::string prefix_;  // "grav.<group>."
};

// What travels with a message besides its own fields.
struct Envelope {
    NodeId bridge;          // the bridge node that put it on NATS
    std::uint64_t seq = 0;  // its count on that subject; 0: not counted
    std::string site;       // durable mode: the sending site's consumer; "" otherwise
};

struct Decoded {
    MessagePtr message;
    Envelope envelope;
};

// `typed`: the subject does not name the message's type (node, tunnel), so
// Grav-Type goes with it. nullptr when nats.c cannot make the message.
MsgPtr encode(const char* subject, const char* reply, const Message& message, const Envelope& envelope,
              bool typed);
// The size NATS counts against max_payload (headers and body) of what
// encode() makes with the widest count, and the durable headers when `site`
// is set; counted, nothing is built.
std::size_t encoded_size(const Message& message, bool typed, std::string_view site = {});
// `subject_type`: the type a message subject names, used when the
// Grav-Type header is missing ("" for other subjects).
Result<Decoded> decode(natsMsg* msg, std::string_view subject_type);

}  // namespace grav::nats::detail
