#!/usr/bin/env bash
# Sets up the machine, builds grav (build/, shared with scripts/test.sh) and
# runs the demo.
#
# When the build defines a `demo` target (the multi-node live demo), this runs
# it. Until then it runs scripts/demo/inproc.cpp: one in-process bus, three
# pods, a broadcast and a typed request/reply.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh
jobs=${GRAV_JOBS:-$(nproc)}

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if ninja -C build -t targets all 2>/dev/null | grep -q '^demo:'; then
    exec cmake --build build -j "$jobs" --target demo
fi

cmake --build build -j "$jobs" --target grav_core
core_lib=$(find build/core -maxdepth 1 -name 'libgrav_core.*' | head -1)
c++ -std=c++20 -O2 -Wall -Wextra -Werror -I core/include scripts/demo/inproc.cpp "$core_lib" -pthread \
    -o build/grav-inproc-demo
echo "--- running the in-process demo (build/grav-inproc-demo)"
exec build/grav-inproc-demo
