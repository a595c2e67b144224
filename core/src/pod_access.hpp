#pragma once
#include <grav/message.hpp>

namespace grav {

// The one place allowed to stamp a message's origin and reply linkage as it
// is sent (Message is otherwise immutable to users once built).
class PodAccess {
public:
    static void stamp_origin(Message& m, const NodeId& origin) { m.header_.origin = origin; }
    static void make_reply(Message& reply, const Message& request) {
        reply.header_.reply_to = request.id();
        reply.header_.parent_id = request.id();
    }
};

}  // namespace grav
