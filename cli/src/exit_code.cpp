#include "exit_code.hpp"

namespace grav::cli {

std::string exit_code_help() {
    return "Exit codes:\n"
           "  0    success (also when Ctrl-C ends sub, reply, peers --watch or pub from stdin)\n"
           "  1    run-time failure (the message says why)\n"
           "  2    usage: unknown command or option, missing or empty argument, bad number or duration\n"
           "  3    bad address: unknown interface, unparsable endpoint or seed\n"
           "  4    cannot start: port in use, cannot bind\n"
           "  5    timeout: no reply in time (request); a node did not answer (stats)\n"
           "  6    no peer offers the requested type (request), no bench server (bench --remote); no node "
           "in\n"
           "       view, or no node --node names (stats, peers --node)\n"
           "  7    bad key: key or secret file missing, readable by others or malformed; keygen cannot "
           "write\n"
           "  8    undelivered (pub): a peer had not received every message when pub stopped\n"
           "  9    the replier failed to answer (request: its --command missing, failing or timed out)\n"
           "  130  interrupted (Ctrl-C) while waiting for a reply\n";
}

}  // namespace grav::cli
