#!/usr/bin/env bash
# Builds installable wheels into dist/: linux aarch64 for CPython 3.9-3.13 (cross-compiled on
# this x86_64 machine, each with the aarch64 emulator inside) and linux x86_64 for the host
# Python (for CI). No vendor SDK is needed.
#
#   scripts/build_wheels.sh [--pythons "3.9 3.10 3.11 3.12 3.13"] [--no-x86_64] [--no-aarch64]
#
# How (docs/wheels.md):
#   1. the x86_64 wheel is built natively by pip (scikit-build-core); its metadata is reused;
#   2. the aarch64 extension and emulator are built by CMake with Debian's g++-aarch64-linux-gnu
#      (scripts/toolchains/aarch64-linux-gnu.cmake), one build tree reconfigured per Python
#      version so that only the bindings are recompiled. Python headers: those of a CPython
#      3.X interpreter on this machine (PATH or pyenv). CPython's headers are the same on
#      every platform except pyconfig.h, whose x86_64/aarch64 differences (x87/x64 inline
#      assembly switches) concern the interpreter's own build, not the C API an extension
#      sees; the module gets the aarch64 suffix (.cpython-3X-aarch64-linux-gnu.so);
#   3. scripts/wheel_pack.py puts the aarch64 libraries in place of the x86_64 ones; the tag is
#      the manylinux_2_<N> that auditwheel finds the libraries consistent with (glibc and
#      libstdc++ symbol versions; 2_35 with Debian bookworm's toolchain).
# Installs g++-aarch64-linux-gnu with apt-get when run as root; otherwise, or for a Python
# version with no interpreter here, says what is missing and skips it.
# Exit status: 0 every requested wheel built, 1 a build failed, 77 something was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
PYTHONS="3.9 3.10 3.11 3.12 3.13"
DO_X86=1
DO_ARM=1
while [ $# -gt 0 ]; do
  case "$1" in
    --pythons) PYTHONS=$2; shift 2 ;;
    --no-x86_64) DO_X86=0; shift ;;
    --no-aarch64) DO_ARM=0; shift ;;
    *) echo "build_wheels: unknown argument $1" >&2; exit 2 ;;
  esac
done
HOST_PY=${PYTHON:-python3}
mkdir -p "$ROOT/build" "$ROOT/dist"
skipped=0
say() { echo "build_wheels: $*"; }

# Tools: cmake, ninja and pybind11 from the host Python, else a private venv.
TOOLS_PY=$HOST_PY
if ! "$HOST_PY" -c "import pybind11, scikit_build_core" 2>/dev/null || ! command -v cmake >/dev/null || ! command -v ninja >/dev/null; then
  if [ ! -x "$ROOT/build/wheel-tools/bin/python" ]; then
    "$HOST_PY" -m venv "$ROOT/build/wheel-tools"
    "$ROOT/build/wheel-tools/bin/python" -m pip install --quiet pybind11 scikit-build-core cmake ninja
  fi
  TOOLS_PY=$ROOT/build/wheel-tools/bin/python
  export PATH="$ROOT/build/wheel-tools/bin:$PATH"
fi
PYBIND11_DIR=$("$TOOLS_PY" -m pybind11 --cmakedir)

# auditwheel (PyPI) decides the manylinux tag from the libraries' glibc and libstdc++ symbol
# versions; without it the tag comes from the glibc versions alone (a warning says so).
AUDIT=""
if "$TOOLS_PY" -c "import auditwheel" 2>/dev/null; then
  AUDIT="$TOOLS_PY -m auditwheel"
else
  if [ ! -x "$ROOT/build/wheel-audit/bin/auditwheel" ]; then
    { "$HOST_PY" -m venv "$ROOT/build/wheel-audit" && "$ROOT/build/wheel-audit/bin/python" -m pip install --quiet auditwheel; } >/dev/null 2>&1 || true
  fi
  [ -x "$ROOT/build/wheel-audit/bin/auditwheel" ] && AUDIT="$ROOT/build/wheel-audit/bin/auditwheel"
fi
[ -n "$AUDIT" ] || say "WARNING: auditwheel not available: manylinux tags from glibc symbol versions only"

# Packs a wheel, then retags it with the platform tag auditwheel finds the libraries consistent with.
pack_and_tag() {  # base_wheel tag [wheel_pack args...]
  local base=$1 tag=$2; shift 2
  local tmp out audited
  tmp=$(mktemp -d)
  out=$("$TOOLS_PY" scripts/wheel_pack.py "$base" "$tmp" "$tag" "$@")
  if [ -n "$AUDIT" ]; then
    audited=$($AUDIT show "$out" 2>/dev/null | tr -s ' \n' ' ' | grep -o 'platform tag: "[a-z0-9_]*"' | head -1 | cut -d'"' -f2 || true)
    [ -n "$audited" ] && tag="${tag%-*}-$audited"
  fi
  rm -f "$ROOT"/dist/rknn_fast-*-"${tag%-*}"-*_"${tag##*_}".whl 2>/dev/null || true
  out=$("$TOOLS_PY" scripts/wheel_pack.py "$out" "$ROOT/dist" "$tag")
  rm -rf "$tmp"
  echo "$out"
}

# 1. The native wheel (also the metadata source of the aarch64 ones).
base_dir="$ROOT/build/wheel-base"
rm -rf "$base_dir"
mkdir -p "$base_dir"
say "native wheel ($("$TOOLS_PY" -c 'import platform; print(platform.python_version())'))"
# Own build tree: build/{wheel_tag} may hold a CMake cache of an isolated pip build.
CMAKE_BUILD_PARALLEL_LEVEL=$JOBS "$TOOLS_PY" -m pip wheel --quiet --no-deps --no-build-isolation \
  -Cbuild-dir="$ROOT/build/wheel-native" -w "$base_dir" "$ROOT"
base=$(ls "$base_dir"/rknn_fast-*.whl)
if [ "$DO_X86" = 1 ]; then
  arch=$(uname -m)
  libs=$(mktemp -d)
  (cd "$libs" && "$TOOLS_PY" -m zipfile -e "$base" .)
  glibc=$("$TOOLS_PY" scripts/wheel_pack.py --glibc $(find "$libs" -name '*.so'))
  rm -rf "$libs"
  tag=$(basename "$base" .whl | cut -d- -f3-4)-manylinux_${glibc}_${arch}
  out=$(pack_and_tag "$base" "$tag")
  say "wrote $out"
fi

# 2. aarch64 wheels.
if [ "$DO_ARM" = 1 ]; then
  if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing g++-aarch64-linux-gnu (apt-get)"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++-aarch64-linux-gnu >/dev/null
    fi
  fi
  if ! command -v aarch64-linux-gnu-g++ >/dev/null; then
    say "SKIP aarch64: aarch64-linux-gnu-g++ not found (apt-get install g++-aarch64-linux-gnu, as root)"
    exit 77
  fi
  build="$ROOT/build/wheel-aarch64"
  for v in $PYTHONS; do
    # The first candidate that runs and has Python.h (a pyenv shim of a version not selected
    # fails to run, so the interpreters under pyenv's versions/ come first).
    py=""
    inc=""
    for c in $(ls -d /root/.pyenv/versions/"$v".*/bin/python"$v" "$HOME"/.pyenv/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V -r) \
             "$(command -v "python$v" 2>/dev/null || true)"; do
      [ -n "$c" ] && [ -x "$c" ] || continue
      i=$("$c" -c "import sysconfig; print(sysconfig.get_paths()['include'])" 2>/dev/null || true)
      if [ -n "$i" ] && [ -f "$i/Python.h" ]; then py=$c; inc=$i; break; fi
    done
    if [ -z "$py" ]; then
      say "SKIP cp${v/./}: no CPython $v interpreter with headers here (install it, e.g. with pyenv or apt-get install python$v-dev)"
      skipped=1
      continue
    fi
    cp=cp${v/./}
    say "aarch64 $cp (headers: $inc)"
    # PYBIND11_PYTHON_EXECUTABLE_LAST: otherwise pybind11 sees a new interpreter and replaces
    # the extension suffix by the build machine's (x86_64).
    cmake -S "$ROOT" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_TOOLCHAIN_FILE="$ROOT/scripts/toolchains/aarch64-linux-gnu.cmake" \
      -Dpybind11_DIR="$PYBIND11_DIR" -DPython_EXECUTABLE="$py" -DPython_INCLUDE_DIR="$inc" \
      -DPYBIND11_PYTHON_EXECUTABLE_LAST="$py" \
      -DPYTHON_MODULE_EXTENSION=".cpython-${v/./}-aarch64-linux-gnu.so" >"$build.configure.log" 2>&1 \
      || { cat "$build.configure.log"; exit 1; }
    rm -f "$build"/_core.*.so
    cmake --build "$build" -j "$JOBS" >"$build.build.log" 2>&1 || { tail -50 "$build.build.log"; exit 1; }
    core=$(ls "$build"/_core.cpython-"${v/./}"-aarch64-linux-gnu.so)
    emu="$build/librknnrt_emulator.so"
    for f in "$core" "$emu"; do
      readelf -h "$f" | grep -q 'Machine:.*AArch64' || { say "$f is not an aarch64 library"; exit 1; }
    done
    glibc=$(OBJDUMP=aarch64-linux-gnu-objdump "$TOOLS_PY" scripts/wheel_pack.py --glibc "$core" "$emu")
    out=$(pack_and_tag "$base" "$cp-$cp-manylinux_${glibc}_aarch64" \
      --drop-glob '*.so' --add "$core=rknn_fast/$(basename "$core")" --add "$emu=rknn_fast/librknnrt_emulator.so")
    say "wrote $out"
  done
fi
ls -l "$ROOT"/dist/*.whl
if [ "$skipped" = 1 ]; then exit 77; fi
