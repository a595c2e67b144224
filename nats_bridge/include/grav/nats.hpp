#pragma once
// grav::nats — a bridge that joins this bus's site to other sites through a
// NATS cluster (grav/bridge.hpp says what the core makes of it):
//
//   grav::BusOptions o;
//   o.transport = grav::zmq::transport();
//   o.discovery = grav::beacon_discovery();
//   o.bridge = grav::nats::bridge({.servers = {"nats://hub-a:4222", "nats://hub-b:4222"},
//                                  .types = {"orders.*", "chat.*"}});
//   grav::Bus bus(std::move(o));
//
// The subjects, headers and queue groups on NATS are in docs/PROTOCOL.md
// ("NATS mapping"); docs/GUIDE.md ("Beyond the LAN") explains the semantics.

#include <grav/bridge.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace grav::nats {

struct Tls {
    bool enabled = false;     // also implied by a tls:// server URL
    std::string ca_file;      // PEM file of the CA(s) the servers' certificates chain to
    std::string cert_file;    // client certificate (PEM), with key_file, when the servers ask for one
    std::string key_file;
};

// Durable mode: what crosses between sites is kept in a JetStream stream,
// so that a site whose bridge was away (stopped, restarted, cut off) for
// less than `max_age` gets what it missed when one of its bridges is back.
struct Durable {
    bool enabled = false;
    // The group's stream (default "GRAV_<group token>"); every durable site of
    // the group uses the same one. Created, or its limits updated, by each
    // bridge when it connects.
    std::string stream;
    // The site's durable consumer: required, stable across restarts and the
    // same on every bridge node of the site (say "site-a"): it is where the
    // stream remembers what this site has had.
    std::string consumer;
    // How long the stream keeps a message: a site away longer misses what
    // expired (counted and reported as lost).
    std::chrono::seconds max_age{3600};
    // How long the stream remembers a message id (Nats-Msg-Id) to drop a copy.
    std::chrono::seconds duplicate_window{120};
    // How long a bridge that becomes its site's active one (at start, or on
    // taking over) waits before it reads the stream, so that its mesh and
    // its pods are in place: a pod that is not there yet misses what is
    // handed over meanwhile (as it would on the mesh).
    std::chrono::milliseconds settle{1000};
};

struct Options {
    // "nats://host:port" of one or more servers of one cluster; the client
    // moves between them (and to servers the cluster tells it of).
    std::vector<std::string> servers;
    // Try the servers in a random order (spreads bridges over a cluster);
    // false: in the order given.
    bool randomize_servers = true;
    // Patterns of the types that cross between sites (grav/type_pattern.hpp:
    // "chat.*", "orders.>"): the same grammar as NATS subjects.
    std::vector<std::string> types;
    // Credentials: user and password, or a token; empty: none.
    std::string user;
    std::string password;
    std::string token;
    Tls tls{};
    // Messages from NATS waiting for this site's pods; more are dropped and
    // counted (nats.queue_overflow), never waited for inside a NATS callback.
    std::size_t queue_capacity = 65536;
    // How long to wait between attempts to reach a server (forever: a bridge
    // whose NATS is down keeps trying while the bus serves its site).
    std::chrono::milliseconds reconnect_wait{250};
    // stop(): how long what is still buffered may take to reach the server.
    std::chrono::milliseconds flush_timeout{2000};
    // Write each message to the socket at once (lower latency, more system
    // calls) instead of letting the client batch writes.
    bool send_asap = true;
    // The connection's name as the servers show it (default: the node's name).
    std::string name;
    // Off by default: plain NATS subscriptions, nothing kept while a site is away.
    Durable durable{};
};

// Checks the options (an unusable pattern or an empty server list is an
// error when the bus starts, with the reason) and makes the bridge.
std::unique_ptr<Bridge> bridge(Options options);

}  // namespace grav::nats
