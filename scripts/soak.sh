#!/usr/bin/env bash
# The soak of issue 6 (point 8), not part of CI: 10 nodes on a namespace LAN
# exchange numbered streams while one node is killed and restarted, or cut
# off and put back, every 20 s; reports RSS over time, messages lost and the
# slowest recovery (tests/lan/soak.cpp says exactly what). Memory is RSS
# beside malloc's bytes in use and held (mallinfo2): a leak grows the bytes in
# use, the allocator only RSS and held. Needs root.
#
#   bash scripts/soak.sh                      # 10 minutes, 10 nodes
#   bash scripts/soak.sh --short              # 1 minute, an event every 10 s: a try-out
#   bash scripts/soak.sh --minutes 3 --nodes 6 --rate 100
#   GRAV_SOAK_BUILD=/path/to/build bash scripts/soak.sh   # default: build/
#   GRAV_SOAK_WRAP="env LD_PRELOAD=/usr/lib/heaptrack/libheaptrack_preload.so \
#       DUMP_HEAPTRACK_OUTPUT=/tmp/node0.raw" bash scripts/soak.sh   # heap profile of node 0
#       (then: /usr/lib/heaptrack/libexec/heaptrack_interpret < /tmp/node0.raw | gzip > /tmp/node0.gz;
#        heaptrack_print /tmp/node0.gz; with a wrapper the copies of the programs are kept for
#        the symbols, their directory is printed)
#
# Builds the two programs it needs (RelWithDebInfo) if the build directory
# has no CMake cache yet; any other option goes to grav_lan_soak (--help).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAV_SOAK_BUILD:-$root/build}

args=()
for a in "$@"; do
    case $a in
        --short) args+=(--minutes 1 --every 10 --sample 10) ;;
        *) args+=("$a") ;;
    esac
done

if [[ $(id -u) -ne 0 ]]; then
    echo "soak.sh: needs root (network namespaces)" >&2
    exit 2
fi
if [[ ! -f $build/CMakeCache.txt ]]; then
    cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
ninja -C "$build" grav_lan_soak grav_lan_traffic
# Run copies: a rebuild during a long soak must not mix program versions
# (restarted nodes would run the new one).
bin=$(mktemp -d)
if [[ -z ${GRAV_SOAK_WRAP:-} ]]; then
    trap 'rm -rf "$bin"' EXIT
else
    echo "soak: node 0 runs under: $GRAV_SOAK_WRAP; the programs stay in $bin"
fi
cp "$build/tests/lan/grav_lan_soak" "$build/tests/lan/grav_lan_traffic" "$bin/"

echo "soak: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "soak: grav $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'); node logs (stderr) go to stderr"
"$bin/grav_lan_soak" --traffic "$bin/grav_lan_traffic" "${args[@]}"
echo "soak: done $(date -u '+%H:%M UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
