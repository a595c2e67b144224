// Writes the seed corpora of the fuzz targets from real encoded samples, made
// by the same encoders the nodes use (so a seed is what a peer really sends):
//
//   grav_fuzz_seeds fuzz/corpus      # regenerates corpus/beacon and corpus/handshake
//
// Run it again (and commit the result) whenever a format changes. Sealed
// beacons are signed by the fixed key of fuzz_keys.hpp: reproducible.
#include "beacon_codec.hpp"
#include "beacon_seal.hpp"
#include "fuzz_keys.hpp"
#include "wire/wire.hpp"

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace grav;
namespace wire = grav::zmq::wire;

void write(const fs::path& file, std::span<const std::uint8_t> bytes) {
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void write(const fs::path& file, std::string_view bytes) {
    write(file, {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

const NodeId kNode = *NodeId::parse("6f1c2a3b-4d5e-4f60-8172-8394a5b6c7d8");

void beacons(const fs::path& dir) {
    beacon::Beacon b{
        .node = kNode, .direct_port = 40001, .fanout_port = 40002, .group = "lab", .flags = 0, .seal = {}};
    write(dir / "plain", encode(b)->view());
    b.flags = beacon::hello;
    write(dir / "hello", encode(b)->view());
    b.flags = beacon::reply;
    b.group = "*";
    write(dir / "reply_any_group", encode(b)->view());
    b.flags = beacon::leaving;
    b.direct_port = b.fanout_port = 0;
    b.group = "";
    write(dir / "leaving", encode(b)->view());
    b = {.node = kNode,
         .direct_port = 1,
         .fanout_port = 65535,
         .group = std::string(beacon::kMaxGroupSize, 'g'),
         .flags = 0,
         .seal = {}};
    write(dir / "longest_group", encode(b)->view());

    // Sealed (secure mode), by the fuzz cluster's key: authentic to the fuzzer.
    b = {.node = kNode,
         .direct_port = 40001,
         .fanout_port = 40002,
         .group = "lab",
         .flags = beacon::hello,
         .seal = {}};
    write(dir / "sealed_hello", beacon::encode_sealed(b, fuzz::kSeedStamp, fuzz::identity()).view());
    b.flags = beacon::leaving;
    write(dir / "sealed_leaving", beacon::encode_sealed(b, fuzz::kSeedStamp + 1, fuzz::identity()).view());
    b.flags = 0;
    b.group = std::string(beacon::kMaxGroupSize, 'g');
    write(dir / "sealed_longest", beacon::encode_sealed(b, fuzz::kSeedStamp, fuzz::identity()).view());
    // Sealed by a key the fuzz cluster does not admit.
    const auto stranger =
        security::Identity::from_cluster_secret("another fuzz secret, not admitted").value();
    b.group = "lab";
    write(dir / "sealed_stranger", beacon::encode_sealed(b, fuzz::kSeedStamp, stranger).view());
}

// handshake_fuzz input: [u8 options][u8 topic length][topic][body].
void control(const fs::path& file, std::uint8_t options, wire::Control command, std::string_view body) {
    const std::string_view topic = wire::topic_of(command);
    std::string bytes;
    bytes += static_cast<char>(options);
    bytes += static_cast<char>(topic.size());
    bytes += topic;
    bytes += body;
    write(file, bytes);
}

void handshake(const fs::path& dir) {
    wire::Hello h{.protocol = wire::protocol_version,
                  .node = kNode,
                  .name = "sensor-3",
                  .belongs_to = "lab",
                  .interests = {"camera", "tunnel:ssh"},
                  .endpoints = {"tcp://*:40001", "tcp://*:40002"}};
    control(dir / "hello", 1, wire::Control::hello, wire::encode_hello(h));
    control(dir / "hello_wrong_identity", 0, wire::Control::hello, wire::encode_hello(h));
    control(dir / "hello_no_address", 3, wire::Control::hello, wire::encode_hello(h));
    h.belongs_to = "other";
    control(dir / "hello_other_group", 1, wire::Control::hello, wire::encode_hello(h));
    control(dir / "hello_other_group_any", 5, wire::Control::hello, wire::encode_hello(h));
    h.belongs_to = "lab";
    h.endpoints = {"tcp://[::1]:40001", "tcp://192.168.7.9:40002"};
    control(dir / "iam", 1, wire::Control::iam, wire::encode_hello(h));
    h.endpoints = {"tcp://*:40001"};
    control(dir / "hello_one_endpoint", 1, wire::Control::hello, wire::encode_hello(h));
    h.endpoints = {"udp://x", "tcp://host:99999"};
    control(dir / "hello_bad_endpoints", 1, wire::Control::hello, wire::encode_hello(h));
    h.protocol = wire::protocol_version + 1;
    control(dir / "hello_future_protocol", 1, wire::Control::hello, wire::encode_hello(h));
    control(dir / "refuse", 0, wire::Control::refuse,
            wire::encode_reason("group 'other' does not mesh with this node's group 'lab'"));
    control(dir / "welcome", 0, wire::Control::welcome, "");
    control(dir / "ready", 0, wire::Control::ready, "");
    control(dir / "bye", 0, wire::Control::bye, "");
    control(dir / "who", 0, wire::Control::who, "");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <corpus directory>\n", argv[0]);
        return 2;
    }
    const fs::path root(argv[1]);
    beacons(root / "beacon");
    handshake(root / "handshake");
    return 0;
}
