#pragma once
// The core of grav: everything needed for an in-process bus, and the
// interfaces a transport and a discovery implement.
#include <grav/bus.hpp>
#include <grav/discovery.hpp>
#include <grav/error.hpp>
#include <grav/handler.hpp>
#include <grav/id.hpp>
#include <grav/message.hpp>
#include <grav/overflow_policy.hpp>
#include <grav/peer.hpp>
#include <grav/pod.hpp>
#include <grav/receipt.hpp>
#include <grav/stats.hpp>
#include <grav/transport.hpp>
