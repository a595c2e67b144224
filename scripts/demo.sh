#!/usr/bin/env bash
# Sets up the machine, builds grav's tool and samples (build/, shared with
# scripts/test.sh) and runs the live demo: several nodes in separate processes
# on this host discover each other, chat, call RPCs round-robin, one is killed
# and the others notice (scripts/demo/live.sh). Ends by itself within a minute.
#
#   bash scripts/demo.sh          # the LAN demo
#   bash scripts/demo.sh sites    # two sites joined by a NATS cluster (scripts/demo/sites.sh)
set -euo pipefail
case ${1:-lan} in lan | sites) ;; *) echo "demo.sh: unknown demo '$1' (lan, sites)" >&2; exit 2 ;; esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
jobs=${GRAV_JOBS:-$(nproc)}

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
echo "demo: building the grav tool and the samples (build/)"
cmake --build build -j "$jobs" --target grav grav-chat grav-rpc-server grav-rpc-client
case ${1:-lan} in
    lan) exec bash scripts/demo/live.sh build ;;
    sites) exec bash scripts/demo/sites.sh build ;;
    *) echo "demo.sh: unknown demo '$1' (lan, sites)" >&2; exit 2 ;;
esac
