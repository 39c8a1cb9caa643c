#!/usr/bin/env bash
# Install every Debian package the build, the tests and the tools need.
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake pkg-config git
  clang clang-14 llvm-14 libclang-rt-14-dev clang-format-14
  zip strace jq linux-perf
  # libraries nbdref builds against
  libexpected-dev libgtest-dev libgmock-dev
  libgnutls28-dev gnutls-bin
  libxml2-dev libxml2-utils
  # real NBD peers for the interop tests (programs only, never linked)
  nbdkit qemu-utils nbd-server
  # libnbd: the peer client and the benchmark baseline, never linked into nbdref
  libnbd-bin libnbd-dev
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to run apt-get" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
