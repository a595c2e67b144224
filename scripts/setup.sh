#!/usr/bin/env bash
# Installs the Debian packages grav needs to build, test, fuzz and run its demo.
# Idempotent and non-interactive: when every package is already installed it
# does not touch apt at all, so re-runs take well under a second.
#
#   bash scripts/setup.sh          # as root, or as a user with sudo
set -euo pipefail

packages=(
    build-essential g++ cmake ninja-build pkgconf git  # toolchain
    clang libclang-rt-dev clang-format clang-tidy      # libFuzzer, sanitizers' runtime, lint
    libzmq3-dev cppzmq-dev                             # ZeroMQ transport
    libcereal-dev                                      # message payloads, wire header
    libgtest-dev libgmock-dev libbenchmark-dev         # tests, benchmarks
    libcli11-dev                                       # the grav tool, samples
    libsodium-dev                                      # grav::security (keys, signatures)
    tshark                                             # security tests: no plaintext on the wire
    python3 python3-zmq                                # protocol interop tests
    iproute2 util-linux                                # ip netns for LAN tests; setarch
    nats-server libnats-dev openssl                    # NATS bridge tests: real servers, nats.c client, TLS certificates
    prometheus-cpp-dev prometheus                      # /metrics exporter; a real Prometheus scrapes it in tests
    ccache                                             # compiler cache for repeated builds (scripts/test.sh)
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "setup: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "setup: installing ${missing[*]}"
sudo_cmd=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install packages" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer "no" ahead of time.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo_cmd[@]}" debconf-set-selections
apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}"
echo "setup: done"
