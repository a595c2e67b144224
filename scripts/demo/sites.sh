#!/usr/bin/env bash
# The sites demo: two sites, each its own grav mesh (its own beacon port on
# loopback), joined by a NATS cluster of two servers.
#
#   bash scripts/demo/sites.sh BUILD_DIR     (scripts/demo.sh sites builds, then runs this)
#
# What it shows, narrated as it goes: a bridge node per site (`grav bridge`),
# chat lines crossing between the sites, a request made on one site answered
# on the other, one NATS server killed with SIGKILL and traffic going on.
# Every process's output is shown with its name in front. Exits within a minute.
set -euo pipefail

build=${1:?usage: sites.sh BUILD_DIR}
grav=$build/cli/grav
chat=$build/samples/chat/grav-chat
nats_server=$(command -v nats-server || echo /usr/sbin/nats-server)
for program in "$grav" "$chat" "$nats_server"; do
    [[ -x $program ]] || { echo "demo: $program is not there (scripts/setup.sh installs nats-server)" >&2; exit 1; }
done

# Loopback only, ports of our own: never NATS' 4222 (a system service may run there).
base=$((20000 + RANDOM % 20000))
east=(--interface lo --beacon-port "$base")
west=(--interface lo --beacon-port "$((base + 1))")
n1=$((base + 10)) n2=$((base + 11)) r1=$((base + 20)) r2=$((base + 21))
nats=(--nats "nats://127.0.0.1:$n1" --nats "nats://127.0.0.1:$n2" --nats-types 'chat.>' --nats-types 'demo.>')

# shellcheck source=scripts/demo/lib.sh
demo_hide='^grav\.zmq\[|^\[[0-9]+\] '
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# say FD TEXT LABEL: types TEXT on FD until LABEL printed it (the far site's
# interest crosses the NATS route asynchronously; the first line may find none).
say() {
    local fd=$1 text=$2 label=$3
    for _ in $(seq 1 20); do
        echo "$text" >&"$fd"
        for _ in $(seq 1 10); do
            grep -qF -- "$text" "$tmp/$label.log" 2>/dev/null && return 0
            sleep 0.1
        done
    done
    echo "demo: $label never got '$text'" >&2
    return 1
}

printf '%sgrav sites demo%s — two sites, each its own mesh, joined through NATS. Every name below is a process.\n' \
    "$bold" "$plain"
note "site east: ${east[*]}    site west: ${west[*]}    (loopback; beacons never cross sites)"

# ---------------------------------------------------------------- NATS
step "Start a NATS cluster of two servers (nats-server), joined by a route."
for i in 1 2; do
    port_var=n$i route_var=r$i other=$((i == 1 ? r2 : r1))
    cat >"$tmp/nats$i.conf" <<CONF
listen: 127.0.0.1:${!port_var}
server_name: nats-$i
cluster { name: demo, listen: 127.0.0.1:${!route_var}, routes: [nats-route://127.0.0.1:$other] }
CONF
    start "nats-$i" /dev/null "$nats_server" -c "$tmp/nats$i.conf"
    declare "nats${i}_pid=$last_pid"
done
wait_for nats-1 "Server is ready"
wait_for nats-2 "Server is ready"
wait_for nats-1 "Route connection created" 10

# ---------------------------------------------------------------- bridges
step "One bridge node per site: 'grav bridge' joins its LAN's mesh to NATS for the types chat.> and demo.>."
start bridge-e /dev/null "$grav" "${east[@]}" --name bridge-e bridge "${nats[@]}"
start bridge-w /dev/null "$grav" "${west[@]}" --name bridge-w bridge "${nats[@]}"
wait_for bridge-e "connected to NATS"
wait_for bridge-w "connected to NATS"

# ---------------------------------------------------------------- chat
step "alice chats on site east, bob on site west (samples/chat: plain mesh nodes, no NATS of their own)."
mkfifo "$tmp/alice.in" "$tmp/bob.in"
start alice "$tmp/alice.in" "$chat" --name alice "${east[@]}"
alice_pid=$last_pid
start bob "$tmp/bob.in" "$chat" --name bob "${west[@]}"
bob_pid=$last_pid
exec {alice_in}>"$tmp/alice.in" {bob_in}>"$tmp/bob.in"
typing_fds=("$alice_in" "$bob_in")
wait_for alice "* bridge-e joined"
wait_for bob "* bridge-w joined"
note "each sees only its own site's nodes join; the line still crosses:"
say "$alice_in" "hello west, this is east" bob
say "$bob_in" "west here: loud and clear, across NATS" alice

# ---------------------------------------------------------------- request / reply
step "A request made on site east is answered on site west: 'grav reply' runs a command for each request."
start upper-w /dev/null "$grav" "${west[@]}" --name upper-w reply demo.shout --command "tr a-z A-Z"
wait_for upper-w "replying to 'demo.shout'"
note "\$ grav request --broadcast demo.shout 'served on the other site'   (on site east)"
for _ in $(seq 1 10); do
    if "$grav" "${east[@]}" --name request-e request --broadcast demo.shout "served on the other site" \
        --timeout 1000 >"$tmp/request.out" 2>&1; then break; fi
done
sed -u "s/^/    request-e | /" "$tmp/request.out"

# ---------------------------------------------------------------- fault
step "Kill nats-1 with SIGKILL. The bridges move to nats-2 and the sites keep talking."
{ kill -KILL "$nats1_pid" && wait "$nats1_pid"; } 2>/dev/null || true
sleep 1
say "$alice_in" "still there after the crash?" bob
say "$bob_in" "yes: one NATS server is enough" alice

# ---------------------------------------------------------------- leaving
step "Everyone leaves cleanly; each bridge says what it carried."
exec {alice_in}>&- {bob_in}>&-
for pid in "$alice_pid" "$bob_pid"; do wait "$pid" 2>/dev/null || true; done
kill -INT "${pids[@]:2}" 2>/dev/null || true
wait_for bridge-e "bridge stopping"
wait_for bridge-w "bridge stopping"

step "Done. What happened:"
note "- two meshes that cannot see each other (separate beacon ports) became one system through NATS;"
note "- chat lines crossed both ways, once each; a request on east was answered on west;"
note "- a NATS server was SIGKILLed; the bridges reconnected to the other one and traffic went on."
note "Try it: nats-server -p 4333 & then  $grav bridge --nats nats://127.0.0.1:4333  and  $grav sub 'chat.*' --nats nats://127.0.0.1:4333"
kill "$watchdog" 2>/dev/null || true
