// The HELLO admission checks (zmq_transport/src/admission.cpp), without
// sockets: every refusal has its reason, and an admitted peer is dialable.
#include "admission.hpp"

#include <gtest/gtest.h>

namespace grav::zmq {
namespace {

const LocalNode self{.id = *NodeId::parse("00112233-4455-6677-8899-aabbccddeeff"),
                     .name = "me",
                     .belongs_to = "lab",
                     .interests = {}};

wire::Hello good_hello() {
    return wire::Hello{.protocol = wire::protocol_version,
                       .node = *NodeId::parse("6f1c2a3b-4d5e-4f60-8172-8394a5b6c7d8"),
                       .name = "peer",
                       .belongs_to = "lab",
                       .interests = {"camera"},
                       .endpoints = {"tcp://*:40001", "tcp://10.9.9.9:40002"}};
}

HelloVerdict vet(const wire::Hello& h, std::string_view address = "10.1.2.3") {
    return vet_hello(h, wire::routing_id(h.node), address, self);
}

TEST(Admission, AGoodHelloIsAdmittedWithWildcardHostsReplacedByItsAddress) {
    const auto v = vet(good_hello());
    ASSERT_EQ(v.kind, HelloVerdict::Kind::admit) << v.reason;
    EXPECT_EQ(v.peer.endpoints, (std::vector<std::string>{"tcp://10.1.2.3:40001", "tcp://10.9.9.9:40002"}));
    EXPECT_EQ(v.peer.address, "10.1.2.3");
    EXPECT_EQ(v.peer.interests, std::vector<std::string>{"camera"});
    EXPECT_EQ(vet(good_hello(), "").peer.endpoints[0], "tcp://127.0.0.1:40001");  // address unknown: local
}

TEST(Admission, EachBadHelloIsRefusedWithItsReason) {
    auto h = good_hello();
    h.protocol = wire::protocol_version + 1;
    auto v = vet(h);
    EXPECT_EQ(v.kind, HelloVerdict::Kind::refuse);
    EXPECT_NE(v.reason.find("unsupported protocol version"), std::string::npos) << v.reason;

    h = good_hello();
    h.node = self.id;
    v = vet(h);
    EXPECT_EQ(v.kind, HelloVerdict::Kind::refuse);
    EXPECT_NE(v.reason.find("own node id"), std::string::npos) << v.reason;

    h = good_hello();
    h.endpoints.pop_back();
    v = vet(h);
    EXPECT_EQ(v.kind, HelloVerdict::Kind::refuse);
    EXPECT_NE(v.reason.find("needs ROUTER and XPUB"), std::string::npos) << v.reason;

    h = good_hello();
    h.endpoints[1] = "ipc:///tmp/x";
    v = vet(h);
    EXPECT_EQ(v.kind, HelloVerdict::Kind::refuse);
    EXPECT_NE(v.reason.find("is not tcp://host:port"), std::string::npos) << v.reason;

    h = good_hello();
    h.belongs_to = "other";
    v = vet(h);
    EXPECT_EQ(v.kind, HelloVerdict::Kind::refuse_group);
    EXPECT_NE(v.reason.find("does not mesh"), std::string::npos) << v.reason;
    h.belongs_to = "*";
    EXPECT_EQ(vet(h).kind, HelloVerdict::Kind::admit);
}

TEST(Admission, AHelloWhoseRoutingIdIsNotItsNodeIdIsMalformed) {
    const auto v = vet_hello(good_hello(), wire::routing_id(self.id), "10.1.2.3", self);
    EXPECT_EQ(v.kind, HelloVerdict::Kind::malformed);
    EXPECT_FALSE(v.reason.empty());
}

}  // namespace
}  // namespace grav::zmq
