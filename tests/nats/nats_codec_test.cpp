// The bridge's codec alone (no server): a message through encode() and
// decode() comes back field for field and byte for byte, as docs/PROTOCOL.md
// ("NATS mapping") lays it out; encoded_size() is what nats.c counts against
// max_payload; what a plain client may leave out, and what it may not get
// wrong.
#include "nats_codec.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>

namespace grav::nats::detail {
namespace {

// natsMsg needs the library open (its garbage collector), as a connection opens it.
class NatsCodec : public ::testing::Test {
protected:
    static void SetUpTestSuite() { ASSERT_EQ(nats_Open(-1), NATS_OK); }
};

MessagePtr message_with(std::string type, std::string payload, bool parent, bool reply_to) {
    MessageHeader h{.id = MessageId::random(),
                    .parent_id = parent ? MessageId::random() : MessageId{},
                    .reply_to = reply_to ? MessageId::random() : MessageId{},
                    .type = std::move(type),
                    .timestamp = Clock::now(),
                    .origin = NodeId::random()};
    return std::make_shared<const Message>(std::move(h), std::move(payload));
}

// What nats.c puts on the wire before the body: "NATS/1.0\r\n", a
// "key: value\r\n" per header, "\r\n" (the HPUB's header size).
std::size_t header_bytes(natsMsg* msg) {
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return 0;
    std::size_t size = 10 + 2;
    for (int i = 0; i < count; ++i) {
        const char* value = nullptr;
        EXPECT_EQ(natsMsgHeader_Get(msg, keys[i], &value), NATS_OK);
        size += std::string(keys[i]).size() + 2 + std::string(value).size() + 2;
    }
    free(static_cast<void*>(keys));  // nats.c's allocation: its docs say free()
    return size;
}

int header_count(natsMsg* msg) {
    const char** keys = nullptr;
    int count = 0;
    if (natsMsgHeader_Keys(msg, &keys, &count) != NATS_OK) return 0;
    free(static_cast<void*>(keys));
    return count;
}

MsgPtr plain(const char* subject, std::initializer_list<std::pair<const char*, const char*>> headers) {
    natsMsg* raw = nullptr;
    EXPECT_EQ(natsMsg_Create(&raw, subject, nullptr, "body", 4), NATS_OK);
    MsgPtr msg(raw);
    for (const auto& [key, value] : headers) EXPECT_EQ(natsMsgHeader_Set(msg.get(), key, value), NATS_OK);
    return msg;
}

void expect_same(const Message& a, const Message& b) {
    EXPECT_EQ(a.id(), b.id());
    EXPECT_EQ(a.type(), b.type());
    EXPECT_EQ(a.origin(), b.origin());
    EXPECT_EQ(a.parent_id(), b.parent_id());
    EXPECT_EQ(a.reply_to(), b.reply_to());
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::nanoseconds>(a.timestamp().time_since_epoch()),
              std::chrono::duration_cast<std::chrono::nanoseconds>(b.timestamp().time_since_epoch()));
    EXPECT_EQ(a.payload_view(), b.payload_view());
}

TEST_F(NatsCodec, APublishedMessageIsOneGravHeaderAndItsBodyAndComesBackWhole) {
    const auto m = message_with("chat.line", std::string("bytes\0and\xff more", 15), false, false);
    const Envelope e{NodeId::random(), 42, ""};
    auto msg = encode("grav.g.msg.chat.line", nullptr, *m, e, false);
    ASSERT_TRUE(msg);
    EXPECT_EQ(header_count(msg.get()), 1) << "the subject names the type; nothing else is set";
    const char* grav = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(msg.get(), "Grav", &grav), NATS_OK);
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(m->timestamp().time_since_epoch()).count();
    EXPECT_EQ(std::string(grav), m->id().str() + " " + m->origin().str() + " " + std::to_string(ns) + " " +
                                     e.bridge.str() + " 42");
    auto back = decode(msg.get(), "chat.line");
    ASSERT_TRUE(back) << back.error().what();
    expect_same(*back->message, *m);
    EXPECT_EQ(back->envelope.bridge, e.bridge);
    EXPECT_EQ(back->envelope.seq, 42u);
    EXPECT_EQ(back->envelope.site, "");
}

TEST_F(NatsCodec, AReplyCarriesItsTypeParentAndRequestAndDurableItsSite) {
    const auto m = message_with("rpc.answer", "42", true, true);
    const Envelope e{NodeId::random(), 0, "site-a"};
    auto msg = encode("grav.g.node.x", nullptr, *m, e, true);
    ASSERT_TRUE(msg);
    const char* value = nullptr;
    ASSERT_EQ(natsMsgHeader_Get(msg.get(), "Grav-Type", &value), NATS_OK);
    EXPECT_STREQ(value, "rpc.answer");
    ASSERT_EQ(natsMsgHeader_Get(msg.get(), "Grav-Reply-To", &value), NATS_OK);
    EXPECT_EQ(std::string(value), m->reply_to().str());
    ASSERT_EQ(natsMsgHeader_Get(msg.get(), "Nats-Msg-Id", &value), NATS_OK);
    EXPECT_EQ(std::string(value), m->id().str());
    auto back = decode(msg.get(), "");
    ASSERT_TRUE(back) << back.error().what();
    expect_same(*back->message, *m);
    EXPECT_EQ(back->envelope.site, "site-a");
    EXPECT_EQ(back->envelope.seq, 0u);
}

TEST_F(NatsCodec, EncodedSizeIsWhatNatsCountsWithTheWidestCount) {
    for (const bool typed : {false, true}) {
        for (const bool extras : {false, true}) {
            for (const std::string site : {"", "the-consumer"}) {
                const auto m = message_with("a.b.c", std::string(1000, 'x'), extras, extras);
                const auto want = encoded_size(*m, typed, site);
                const Envelope widest{NodeId::random(), std::numeric_limits<std::uint64_t>::max(), site};
                auto msg = encode("s", nullptr, *m, widest, typed);
                ASSERT_TRUE(msg);
                EXPECT_EQ(want, header_bytes(msg.get()) + m->payload_size())
                    << "typed " << typed << ", parent and reply-to " << extras << ", site '" << site << "'";
                auto first = encode("s", nullptr, *m, Envelope{widest.bridge, 1, site}, typed);
                EXPECT_LT(header_bytes(first.get()) + m->payload_size(), want);
            }
        }
    }
}

TEST_F(NatsCodec, APlainClientMayLeaveOutAnyTrailingGravField) {
    auto none = decode(plain("grav.g.msg.t.x", {}).get(), "t.x");
    ASSERT_TRUE(none) << none.error().what();
    EXPECT_EQ(none->message->type(), "t.x");
    EXPECT_FALSE(none->message->id().is_nil()) << "a new id";
    EXPECT_TRUE(none->message->origin().is_nil());
    EXPECT_EQ(none->envelope.seq, 0u);

    const auto id = MessageId::random();
    auto only_id = decode(plain("grav.g.msg.t.x", {{"Grav", id.str().c_str()}}).get(), "t.x");
    ASSERT_TRUE(only_id) << only_id.error().what();
    EXPECT_EQ(only_id->message->id(), id);
    EXPECT_TRUE(only_id->message->origin().is_nil());
    const auto age = Clock::now() - only_id->message->timestamp();
    EXPECT_LT(age, std::chrono::seconds(60)) << "no time: the time of arrival";

    auto typed = decode(plain("grav.g.node.n", {{"Grav-Type", "rpc.ask"}}).get(), "");
    ASSERT_TRUE(typed) << typed.error().what();
    EXPECT_EQ(typed->message->type(), "rpc.ask");
    EXPECT_FALSE(decode(plain("grav.g.node.n", {}).get(), "")) << "no type from the subject, none given";
}

TEST_F(NatsCodec, BadGravFieldsAreRefusedWithTheReason) {
    const std::string id = MessageId::random().str();
    const struct {
        std::string grav;
        std::string reason;
    } cases[] = {
        {"not-a-uuid", "Grav id"},
        {id + " nope", "Grav origin"},
        {id + " " + id + " 12x", "Grav time"},
        {id + " " + id + " 12 bad", "Grav bridge"},
        {id + " " + id + " 12 " + id + " -1", "Grav seq"},
        {id + " " + id + " 12 " + id + " 1 extra", "more than 5"},
    };
    for (const auto& c : cases) {
        auto got = decode(plain("grav.g.msg.t.x", {{"Grav", c.grav.c_str()}}).get(), "t.x");
        ASSERT_FALSE(got) << c.grav;
        EXPECT_EQ(got.error().code(), Errc::decode_failed);
        EXPECT_NE(got.error().reason().find(c.reason), std::string::npos) << got.error().reason();
    }
}

}  // namespace
}  // namespace grav::nats::detail
