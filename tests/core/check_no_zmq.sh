#!/usr/bin/env bash
# Proves grav::core stands alone: no ZeroMQ symbol in the built library, no
# ZeroMQ header included (directly or through another header), and no ZeroMQ
# library in its link interface. Fails as soon as someone adds zmq to core.
#
#   check_no_zmq.sh <libgrav_core.a> <core source dir> <c++ compiler> "<link libraries>"
set -uo pipefail

lib=$1 core_dir=$2 cxx=$3 link_libs=${4:-}
fail=0

# Matches C symbols (zmq_msg_send), cppzmq's namespace once demangled
# (zmq::socket_t) and mangled (_ZN3zmq...).
pattern='(^|[^A-Za-z0-9_])zmq_[a-z]|zmq::|_ZN3zmq'

# 0. The detector itself must see ZeroMQ where it is (else this test proves nothing).
for so in /usr/lib/*/libzmq.so /usr/lib/libzmq.so; do
    if [[ -e $so ]]; then
        # (no grep -q on a pipe: with pipefail, nm's SIGPIPE would read as failure)
        if [[ -z $(nm -D "$so" | grep -E "$pattern") ]]; then
            echo "FAIL: the symbol pattern does not even match $so"; fail=1
        fi
        break
    fi
done

# 1. Symbols of the static library, defined or undefined.
[[ -f $lib ]] || { echo "FAIL: no library at $lib"; exit 1; }
hits=$(nm -A "$lib" 2>/dev/null | grep -E "$pattern"; nm -AC "$lib" 2>/dev/null | grep -E "$pattern")
if [[ -n $hits ]]; then
    echo "FAIL: ZeroMQ symbols in $lib:"; echo "$hits" | head -20; fail=1
fi

# 2. Source and headers of core: no ZeroMQ include.
hits=$(grep -rEn '#[[:space:]]*include[[:space:]]*[<"](zmq|zmq_addon|zmq\.hpp|czmq)' "$core_dir" 2>/dev/null)
if [[ -n $hits ]]; then
    echo "FAIL: core includes ZeroMQ:"; echo "$hits"; fail=1
fi

# 3. What the public headers pull in, transitively (the compiler's own view).
for header in "$core_dir"/include/grav/*.hpp; do
    deps=$("$cxx" -std=c++20 -M -I "$core_dir/include" "$header" 2>&1) || {
        echo "FAIL: $header does not compile on its own:"; echo "$deps" | head -5; fail=1; continue; }
    if grep -Eq '(^|[/ ])(zmq\.h|zmq\.hpp|zmq_addon\.hpp|czmq\.h)' <<<"$deps"; then
        echo "FAIL: $header pulls in a ZeroMQ header"; fail=1
    fi
done

# 4. The target's link interface.
if grep -Eiq 'zmq' <<<"$link_libs"; then
    echo "FAIL: grav_core links ZeroMQ: $link_libs"; fail=1
fi

((fail)) && exit 1
echo "ok: grav::core has no ZeroMQ symbol, include or link dependency"
