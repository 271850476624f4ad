#!/usr/bin/env bash
# Runs Rockchip's own RKNNLite (rknn-toolkit-lite2 2.5.0, aarch64 wheel from PyPI) and
# rknn_fast.lite.RKNNLite on the aarch64 emulator, in a Debian bookworm arm64 root under
# qemu-user, the emulator installed as /usr/lib/librknnrt.so and /proc/device-tree/compatible
# naming the SoC. One script (scripts/vendor_client_run.py) runs over every fixture with a
# golden set (goldens found through RKNN_EMU_GOLDEN_PATH), for every core mask the SoC allows,
# once per implementation and SoC: all outputs must equal the recorded ones exactly, and a
# model for another SoC must be refused. Prints one summary line.
#
#   scripts/check_vendor_client.sh [WHEEL]     (default: dist/rknn_fast-*-cp311-cp311-*_aarch64.whl,
#                                               from scripts/build_wheels.sh)
#
# Needs root (debootstrap, chroot, mounts in a private namespace), binfmt_misc with a static
# qemu-aarch64 (installed with apt-get: debootstrap qemu-user-static binfmt-support) and the
# Debian and PyPI archives. The root is cached in ${RKNN_FAST_CACHE:-/var/cache/rknn_fast}
# (bookworm-arm64/, about 400 MB), so a second run only reinstalls the wheels.
# Exit status: 0 passed, 1 failed, 77 skipped (the reason is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${RKNN_FAST_CACHE:-/var/cache/rknn_fast}
CHROOT=$CACHE/bookworm-arm64
LITE_VERSION=2.5.0
CV_VERSION=4.10.0.84
skip() { echo "check_vendor_client: SKIP: $*"; exit 77; }
say() { echo "check_vendor_client: $*" >&2; }

[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, mount)"
command -v unshare >/dev/null || skip "unshare (util-linux) not found"

wheel=${1:-}
if [ -z "$wheel" ]; then
  wheel=$(ls "$ROOT"/dist/rknn_fast-*-cp311-cp311-*_aarch64.whl 2>/dev/null | head -1 || true)
fi
[ -n "$wheel" ] && [ -f "$wheel" ] || skip "no cp311 aarch64 wheel: run scripts/build_wheels.sh first"

# Tools.
need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
[ -x /usr/bin/qemu-aarch64-static ] || need_pkgs+=(qemu-user-static)
command -v update-binfmts >/dev/null || need_pkgs+=(binfmt-support)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  say "installing ${need_pkgs[*]} (apt-get)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}"; } >/dev/null 2>&1 \
    || skip "cannot apt-get install ${need_pkgs[*]} (no network to the Debian archive?)"
fi

# binfmt_misc: a static qemu-aarch64 registered with the F flag works inside the chroot.
if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || skip "cannot mount binfmt_misc (not allowed in this container?)"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  conf=/usr/lib/binfmt.d/qemu-aarch64.conf
  [ -f "$conf" ] || skip "$conf missing (qemu-user-static)"
  cat "$conf" > /proc/sys/fs/binfmt_misc/register 2>/dev/null || skip "cannot register qemu-aarch64 with binfmt_misc"
fi
grep -q '^flags:.*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || skip "qemu-aarch64 is registered without the F flag (needs qemu-user-static)"

# The arm64 root (cached).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
if [ ! -x "$CHROOT/usr/bin/python3" ]; then
  say "debootstrap bookworm arm64 into $CHROOT (mirror $mirror; once, a few minutes)"
  mkdir -p "$CACHE"
  rm -rf "$CHROOT.tmp"
  debootstrap --arch=arm64 --variant=minbase \
    --include=python3,python3-pip,python3-numpy,python3-psutil,python3-ruamel.yaml,python3-setuptools \
    bookworm "$CHROOT.tmp" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
    || { tail -20 "$CACHE/debootstrap.log"; skip "debootstrap failed (log: $CACHE/debootstrap.log)"; }
  mv "$CHROOT.tmp" "$CHROOT"
fi

# Rockchip's RKNNLite wheel (cached).
lite_dir=$CACHE/wheels
lite_whl=$(ls "$lite_dir"/rknn_toolkit_lite2-$LITE_VERSION-cp311-cp311-*aarch64*.whl 2>/dev/null | head -1 || true)
if [ -z "$lite_whl" ]; then
  python3 -m pip download --quiet --no-deps "rknn-toolkit-lite2==$LITE_VERSION" --platform manylinux2014_aarch64 \
    --python-version 3.11 --implementation cp --only-binary=:all: -d "$lite_dir" >/dev/null 2>&1 \
    || skip "cannot download rknn-toolkit-lite2 $LITE_VERSION from PyPI"
  lite_whl=$(ls "$lite_dir"/rknn_toolkit_lite2-$LITE_VERSION-cp311-cp311-*aarch64*.whl | head -1)
fi

# rknn_fast's own dependency OpenCV: a release that runs with Debian's numpy 1.24 (cached).
cv_whl=$(ls "$lite_dir"/opencv_python_headless-$CV_VERSION-*aarch64*.whl 2>/dev/null | head -1 || true)
if [ -z "$cv_whl" ]; then
  python3 -m pip download --quiet --no-deps "opencv-python-headless==$CV_VERSION" --platform manylinux2014_aarch64 \
    --python-version 3.11 --implementation cp --only-binary=:all: -d "$lite_dir" >/dev/null 2>&1 \
    || skip "cannot download opencv-python-headless $CV_VERSION from PyPI"
  cv_whl=$(ls "$lite_dir"/opencv_python_headless-$CV_VERSION-*aarch64*.whl | head -1)
fi

# Install the wheels, the emulator as the system librknnrt, the fixtures.
work=$CHROOT/opt/rknn_check
rm -rf "$work"
mkdir -p "$work/models" "$work/goldens" "$work/wheels"
cp "$wheel" "$lite_whl" "$work/wheels/"
if ! chroot "$CHROOT" /usr/bin/python3 -c "import cv2" >/dev/null 2>&1; then
  cp "$cv_whl" "$work/wheels/"
  chroot "$CHROOT" /usr/bin/python3 -m pip install --quiet --no-deps --no-index --break-system-packages \
    "/opt/rknn_check/wheels/$(basename "$cv_whl")" >"$CACHE/pip-cv.log" 2>&1 || { cat "$CACHE/pip-cv.log"; exit 1; }
fi
for g in "$ROOT"/tests/data/models/*.golden; do
  cp "${g%.golden}.rknn" "$work/models/"
  cp "$g" "$work/goldens/"   # apart from the models: found by fingerprint only
done
cp "$ROOT/scripts/vendor_client_run.py" "$work/"
in_root() { chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }
in_root python3 -m pip install --quiet --no-deps --no-index --force-reinstall --break-system-packages \
  "/opt/rknn_check/wheels/$(basename "$wheel")" "/opt/rknn_check/wheels/$(basename "$lite_whl")" \
  >"$CACHE/pip.log" 2>&1 || { cat "$CACHE/pip.log"; exit 1; }
emu=$(in_root python3 -c "import importlib.util, os; s = importlib.util.find_spec('rknn_fast'); print(os.path.join(list(s.submodule_search_locations)[0], 'librknnrt_emulator.so'))")
cp "$CHROOT$emu" "$CHROOT/usr/lib/librknnrt.so"

# Run: per SoC, a private mount namespace with /proc (symlinks to a real procfs) and the
# device tree's compatible file bind-mounted in.
summary=()
status=0
for soc in rk3588 rk3566; do
  printf 'rockchip,%s-evb\0rockchip,%s\0' "$soc" "$soc" > "$CACHE/compatible-$soc"
  for api in rknnlite rknn_fast; do
    out=$(unshare -m bash -c '
      set -e
      R=$1; compat=$2; shift 2
      mount --make-rprivate /
      mkdir -p "$R/.hostproc"
      mount -t proc proc "$R/.hostproc"
      mount -t tmpfs tmpfs "$R/proc"
      for e in $(ls "$R/.hostproc" | grep -v "^[0-9]"); do ln -s "/.hostproc/$e" "$R/proc/$e"; done
      mkdir "$R/proc/device-tree"
      touch "$R/proc/device-tree/compatible"
      mount --bind "$compat" "$R/proc/device-tree/compatible"
      chroot "$R" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root RKNN_EMU_GOLDEN_PATH=/opt/rknn_check/goldens "$@"
    ' _ "$CHROOT" "$CACHE/compatible-$soc" python3 /opt/rknn_check/vendor_client_run.py "$api" \
        /opt/rknn_check/models /opt/rknn_check/goldens "$soc" 2>"$CACHE/run-$api-$soc.log") || status=1
    line=$(printf '%s\n' "$out" | tail -1)
    say "$api on $soc: $line"
    if [ "$status" != 0 ] && [ -z "$line" ]; then tail -20 "$CACHE/run-$api-$soc.log" >&2; fi
    summary+=("$(python3 -c 'import json,sys
try:
    r = json.loads(sys.argv[1]); print("%s/%s %d/%d exact (%d fixtures)%s" % (r["api"], r["soc"], r["exact"], r["runs"], r["fixtures"], "" if not r["failures"] else " FAILED: " + "; ".join(r["failures"][:3])))
except Exception:
    print("%s/%s: no result" % (sys.argv[2], sys.argv[3]))' "$line" "$api" "$soc")")
  done
done
result=PASS
[ "$status" = 0 ] || result=FAIL
echo "check_vendor_client: $result: rknn-toolkit-lite2 $LITE_VERSION and rknn_fast.lite on the aarch64 emulator (qemu-user): $(IFS=';'; echo "${summary[*]}")"
exit "$status"
