#!/usr/bin/env bash
# The live demo: several grav nodes, each its own process, on this host.
#
#   bash scripts/demo/live.sh BUILD_DIR     (scripts/demo.sh builds, then runs this)
#
# What it shows, narrated as it goes: nodes find each other with no
# configuration (UDP beacons on loopback), chat lines flow, RPC calls are
# spread round-robin across two servers, one server is killed with SIGKILL and
# the others notice while the client fails over, then everyone leaves cleanly.
# Every node's output is shown with its name in front. Exits within a minute.
set -euo pipefail

build=${1:?usage: live.sh BUILD_DIR}
grav=$build/cli/grav
chat=$build/samples/chat/grav-chat
server=$build/samples/rpc/grav-rpc-server
client=$build/samples/rpc/grav-rpc-client
for program in "$grav" "$chat" "$server" "$client"; do
    [[ -x $program ]] || { echo "demo: $program is not built" >&2; exit 1; }
done

# Loopback only, and a beacon port of our own, so that the demo never meshes
# with other grav nodes on this host or the LAN. No node is told where any
# other node is.
port=$((20000 + RANDOM % 30000))
net=(--interface lo --beacon-port "$port")

# shellcheck source=scripts/demo/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

printf '%sgrav live demo%s — every node below is a separate process on this host.\n' "$bold" "$plain"
note "All nodes use: ${net[*]} (loopback, a port of their own). Nobody is given an address."

# ---------------------------------------------------------------- chat
step "Start two chat nodes, alice and bob (samples/chat). They find each other by UDP beacons."
mkfifo "$tmp/alice.in" "$tmp/bob.in"
start alice "$tmp/alice.in" "$chat" --name alice "${net[@]}"
alice_pid=$last_pid
start bob "$tmp/bob.in" "$chat" --name bob "${net[@]}"
bob_pid=$last_pid
exec {alice_in}>"$tmp/alice.in" {bob_in}>"$tmp/bob.in"  # we type for them
typing_fds=("$alice_in" "$bob_in")
wait_for alice "* bob joined"
wait_for bob "* alice joined"

step "alice types a line; it goes to everyone in the mesh (a typed ChatLine, serialised with cereal)."
echo "hi bob, can you hear me?" >&"$alice_in"
wait_for bob "[alice] hi bob"
echo "loud and clear, no broker in between" >&"$bob_in"
wait_for alice "[bob] loud and clear"

# ---------------------------------------------------------------- rpc
step "Start two RPC servers (samples/rpc). Each advertises the capabilities math.add and text.upper."
start rpc-1 /dev/null "$server" --name rpc-1 "${net[@]}"
rpc1_pid=$last_pid
start rpc-2 /dev/null "$server" --name rpc-2 "${net[@]}"
rpc2_pid=$last_pid
wait_for alice "* rpc-1 joined"
wait_for alice "* rpc-2 joined"

step "'grav peers' (the command-line tool) lists the nodes it sees, with their capabilities:"
"$grav" "${net[@]}" --name peers-cli peers --wait 1000 | sed -u "s/^/    grav     | /"

step "An RPC client calls both capabilities through pod.tunnel(): each call reaches ONE server, round-robin."
start client /dev/null "$client" "${net[@]}" --servers 2 --calls 8 --interval 400 --timeout 500
client_pid=$last_pid
wait_for client "math.add(3, 30)" 15

step "Kill rpc-2 with SIGKILL: no goodbye. The client fails over to rpc-1; the other nodes notice it is gone."
{ kill -KILL "$rpc2_pid" && wait "$rpc2_pid"; } 2>/dev/null || true
wait_for client "math.add(8, 80)" 20
wait "$client_pid" && note "the client finished: every call was answered" || note "the client reported failed calls"
wait_for alice "* rpc-2 left" 10

# ---------------------------------------------------------------- grav tool
step "The grav tool answers requests too: 'grav reply' runs a shell command for each request."
start reply /dev/null "$grav" "${net[@]}" --name upper-cli reply demo.shout --command "tr a-z A-Z"
reply_pid=$last_pid
wait_for reply "replying to 'demo.shout'"
note "\$ grav request demo.shout 'requests travel point to point'"
"$grav" "${net[@]}" --name request-cli request demo.shout "requests travel point to point" --wait-peers 5000 |
    sed -u "s/^/    grav     | /"

# ---------------------------------------------------------------- leaving
step "Everyone leaves cleanly: bob presses Ctrl-D, the others Ctrl-C. Peers are told at once, no timeout."
exec {bob_in}>&-
wait_for alice "* bob left"
kill -INT "$reply_pid" "$rpc1_pid"
wait_for alice "* rpc-1 left"
exec {alice_in}>&-
for pid in "$alice_pid" "$bob_pid" "$rpc1_pid" "$reply_pid"; do wait "$pid" 2>/dev/null || true; done

step "Done. What happened:"
note "- nodes in separate processes found each other with no configuration (UDP beacons on loopback);"
note "- chat lines went to every node (publish/subscribe), RPC calls to exactly one server (tunnel), round-robin;"
note "- a SIGKILLed server was noticed by every node (connection lost); the client's calls went to the other server;"
note "- clean exits (Ctrl-D, Ctrl-C) were announced to the others at once ('left (withdrew)')."
note "Try it yourself in two terminals:  $grav sub 'demo.*'   and   $grav pub demo.hello 'hi'"
kill "$watchdog" 2>/dev/null || true
