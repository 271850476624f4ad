#!/usr/bin/env bash
# Cross-builds cpp/kernels, cpp/format, cpp/emulator and tests/cpp/aarch64_driver.cpp for the
# board architectures and runs the driver under qemu-user (see tests/cpp/README.md).
#
#   scripts/check_aarch64.sh [aarch64] [armhf] [host]     (default: aarch64 armhf)
#
# Needs (Debian/Ubuntu): apt-get install g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
# plus cmake. "host" builds and runs the same driver natively (no qemu).
# Exit status: 0 all passed, 1 a build or a check failed, 77 a required tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
archs=("$@")
[ ${#archs[@]} -eq 0 ] && archs=(aarch64 armhf)

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "check_aarch64: $1 not found ($2)" >&2
    exit 77
  fi
}
# Installs a missing Debian package when run as root (CI on a fresh machine); otherwise `need`
# reports it and the check is skipped.
install_if_root() {
  if ! command -v "$1" >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "check_aarch64: installing $2 (apt-get)" >&2
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >/dev/null 2>&1 || true
  fi
}
need cmake "pip install cmake or apt-get install cmake"
mkdir -p "$ROOT/build"  # the logs go beside the build trees (a fresh clone has no build/)

for arch in "${archs[@]}"; do
  case "$arch" in
    aarch64) triplet=aarch64-linux-gnu; qemu=qemu-aarch64; processor=aarch64 ;;
    armhf) triplet=arm-linux-gnueabihf; qemu=qemu-arm; processor=arm ;;
    host) triplet=; qemu=; processor= ;;
    *) echo "check_aarch64: unknown architecture '$arch' (aarch64, armhf, host)" >&2; exit 2 ;;
  esac
  build="$ROOT/build/cross-$arch"
  cmake_args=(-S "$ROOT/tests/cpp/cross" -B "$build" -DCMAKE_BUILD_TYPE=Release)
  run=("$build/aarch64_driver")
  if [ -n "$triplet" ]; then
    install_if_root "$triplet-g++" "g++-$triplet"
    install_if_root "$qemu" qemu-user
    need "$triplet-g++" "apt-get install g++-$triplet"
    need "$qemu" "apt-get install qemu-user"
    [ -d "/usr/$triplet" ] || { echo "check_aarch64: /usr/$triplet (target libc) missing" >&2; exit 77; }
    cmake_args+=(-DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR="$processor"
                 -DCMAKE_CXX_COMPILER="$triplet-g++" -DCMAKE_FIND_ROOT_PATH="/usr/$triplet")
    run=("$qemu" -L "/usr/$triplet" "$build/aarch64_driver")
  fi
  echo "== $arch: build ($build)"
  cmake "${cmake_args[@]}" >"$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
  cmake --build "$build" -j "$JOBS" >"$build.build.log" 2>&1 || { cat "$build.build.log"; exit 1; }
  echo "== $arch: run ${run[*]}"
  "${run[@]}" "$ROOT/tests/data" "$build/librknnrt_emulator.so"
done
