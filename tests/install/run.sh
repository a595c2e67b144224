#!/usr/bin/env bash
# Called by ctest (install.consumer):
#   run.sh BUILD_DIR WORK_DIR CONSUMER_DIR GENERATOR CXX "MODULES"
# 1. cmake --install BUILD_DIR into WORK_DIR/prefix
# 2. the installed libgrav_core has no ZeroMQ symbol, grav.pc names no ZeroMQ
# 3. the consumer project configures with find_package(grav), builds and runs
# 4. the same program compiles with `pkg-config --cflags --libs grav` and runs
# 5. each installed module's pkg-config file (grav-zmq.pc, ...) resolves, and a
#    program using the module (network.cpp) builds with it and runs
set -euo pipefail

build=$1 work=$2 consumer=$3 generator=$4 cxx=$5
read -r -a modules <<<"${6//;/ }"

fail() { echo "install test: FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

rm -rf "$work"
mkdir -p "$work"
prefix="$work/prefix"

step "cmake --install into $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }

config=$(find "$prefix" -path '*/cmake/grav/gravConfig.cmake' | head -1)
[[ -n "$config" ]] || fail "no gravConfig.cmake installed"
[[ -f "$prefix/include/grav/grav.hpp" ]] || fail "no include/grav/grav.hpp installed"
pcdir=$(dirname "$(find "$prefix" -name grav.pc | head -1)")
[[ -f "$pcdir/grav.pc" ]] || fail "no grav.pc installed"
core_lib=$(find "$prefix" -name 'libgrav_core.*' | head -1)
[[ -n "$core_lib" ]] || fail "no libgrav_core installed"

step "grav::core is free of ZeroMQ"
if nm -C "$core_lib" 2>/dev/null | grep -E '\b(zmq_[a-z_]+|zmq::)' | head -5 | grep .; then
    fail "$core_lib refers to ZeroMQ symbols (core must not link ZeroMQ)"
fi
export PKG_CONFIG_PATH="$pcdir"
if pkg-config --libs --static grav | grep -q zmq; then
    fail "grav.pc pulls in ZeroMQ: $(pkg-config --libs --static grav)"
fi

step "find_package(grav) consumer (modules: ${modules[*]:-none})"
modules_arg=$(IFS=';'; echo "${modules[*]:-}")
cmake -S "$consumer" -B "$work/consumer" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$prefix" -DGRAV_MODULES="$modules_arg" -DCMAKE_BUILD_TYPE=Release \
    >"$work/consumer-configure.log" 2>&1 || { cat "$work/consumer-configure.log"; fail "consumer configure"; }
cmake --build "$work/consumer" || fail "consumer build"
"$work/consumer/grav_consumer" || fail "consumer (find_package) run"
for m in "${modules[@]}"; do
    "$work/consumer/grav_consumer_$m" || fail "consumer linked with grav::$m run"
done

step "pkg-config consumer"
read -r -a flags <<<"$(pkg-config --cflags --libs grav)"
"$cxx" -Wall -Wextra -Werror "$consumer/main.cpp" "${flags[@]}" -o "$work/pc_consumer" ||
    fail "compile with pkg-config --cflags --libs grav: ${flags[*]}"
"$work/pc_consumer" || fail "pkg-config consumer run"

for m in "${modules[@]}"; do
    step "pkg-config grav-$m"
    pkg-config --exists --print-errors "grav-$m" || fail "grav-$m.pc missing or unresolvable"
    read -r -a flags <<<"$(pkg-config --cflags --libs "grav-$m")"
    "$cxx" -Wall -Wextra -Werror "-DGRAV_CONSUMER_${m^^}" "$consumer/network.cpp" "${flags[@]}" \
        -o "$work/pc_consumer_$m" ||
        fail "compile with pkg-config --cflags --libs grav-$m: ${flags[*]}"
    "$work/pc_consumer_$m" || fail "pkg-config grav-$m consumer run"
done

echo "install test: ok"
