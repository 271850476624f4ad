"""The C++ kernels, the .rknn reader and the emulator library on the board architectures.

scripts/check_aarch64.sh cross-builds cpp/kernels, cpp/format, cpp/emulator and
tests/cpp/aarch64_driver.cpp (warnings as errors) and runs the driver under qemu-user: fp16 ->
fp32 for all 65536 halves (the NEON path on aarch64) against a scalar reference, argmax over
NCHW and NC1HWC2, NMS, a hand-built YOLOv8 int8 decode, the reader on a fixture and on corrupt
copies, and the emulator loaded with dlopen replaying a golden record. aarch64 is 64-bit with
unsigned char; armhf also has a 32-bit size_t and rknn_context.

Skipped (with the reason) when the cross toolchain, qemu-user or cmake is missing:
    apt-get install g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
Builds are incremental under build/cross-<arch>/.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "check_aarch64.sh"

TOOLS = {
    "aarch64": ("aarch64-linux-gnu-g++", "qemu-aarch64", Path("/usr/aarch64-linux-gnu")),
    "armhf": ("arm-linux-gnueabihf-g++", "qemu-arm", Path("/usr/arm-linux-gnueabihf")),
}


@pytest.mark.parametrize("arch", list(TOOLS))
def test_driver_passes_under_qemu(arch: str) -> None:
    compiler, qemu, sysroot = TOOLS[arch]
    for tool in (compiler, qemu, "cmake", "bash"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (see tests/cpp/README.md)")
    if not sysroot.is_dir():
        pytest.skip(f"{sysroot} (the target's libc) is missing")
    r = subprocess.run(["bash", str(SCRIPT), arch], capture_output=True, text=True, timeout=900)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-6000:]
    m = re.search(rf"^{arch}: (\d+) checks, (\d+) failed$", r.stdout, re.MULTILINE)
    assert m is not None, out[-6000:]
    assert int(m.group(2)) == 0
    assert int(m.group(1)) >= 60  # every section of the driver ran
    # The driver really ran on the target ABI: ARM's unsigned char, armhf's 32-bit size_t.
    bits = "4" if arch == "armhf" else "8"
    assert f"{arch}: char is unsigned, sizeof(size_t) {bits}, sizeof(rknn_context) {bits}" in r.stdout


def test_script_rejects_an_unknown_architecture() -> None:
    if shutil.which("cmake") is None or shutil.which("bash") is None:
        pytest.skip("cmake or bash not installed")
    r = subprocess.run(["bash", str(SCRIPT), "sparc"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "unknown architecture 'sparc'" in r.stderr
