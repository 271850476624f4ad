"""Make a wheel for another platform or Python from a built one (used by scripts/build_wheels.sh).

    python scripts/wheel_pack.py BASE.whl OUT_DIR TAG [--drop-glob '*.so'] [--add FILE=ARCNAME ...]

Copies every file of BASE.whl except those matching --drop-glob, adds the given files, writes
TAG (e.g. ``cp39-cp39-manylinux_2_34_aarch64``) into ``*.dist-info/WHEEL``, rebuilds RECORD
(sha256, size) and names the wheel ``{name}-{version}-{TAG}.whl``. The metadata (METADATA,
entry points) is that of BASE.whl: the same project, built once natively.
Also: ``--glibc FILE...`` prints the highest GLIBC_x.y symbol version the ELF files need.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import os
import re
import subprocess
import sys
import zipfile


def _record_line(arcname: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{arcname},sha256={digest},{len(data)}"


def pack(base: str, out_dir: str, tag: str, drop: list, add: list) -> str:
    with zipfile.ZipFile(base) as z:
        entries = [(i.filename, z.read(i.filename), i.external_attr) for i in z.infolist()]
    dist_info = next(n.split("/")[0] for n, _, _ in entries if n.endswith(".dist-info/WHEEL"))
    name, version = dist_info[: -len(".dist-info")].rsplit("-", 1)
    files = []
    for arcname, data, attr in entries:
        if arcname.endswith(".dist-info/RECORD"):
            continue
        if any(fnmatch.fnmatch(os.path.basename(arcname), g) for g in drop):
            continue
        if arcname.endswith(".dist-info/WHEEL"):
            lines = [ln for ln in data.decode().splitlines() if ln.strip() and not ln.startswith("Tag:")]
            lines = [("Root-Is-Purelib: false" if ln.startswith("Root-Is-Purelib:") else ln) for ln in lines]
            data = ("\n".join(lines + [f"Tag: {tag}"]) + "\n").encode()
        files.append((arcname, data, attr))
    for spec in add:
        src, arcname = spec.split("=", 1)
        with open(src, "rb") as f:
            files.append((arcname, f.read(), (0o100755 << 16)))
    record = f"{dist_info}/RECORD"
    lines = [_record_line(a, d) for a, d, _ in files] + [f"{record},,"]
    files.append((record, ("\n".join(lines) + "\n").encode(), (0o100644 << 16)))
    os.makedirs(out_dir, exist_ok=True)
    out = os.path.join(out_dir, f"{name}-{version}-{tag}.whl")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data, attr in files:
            info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = attr or (0o100644 << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out


def max_glibc(paths: list, objdump: str) -> str:
    best = (2, 17)
    for p in paths:
        out = subprocess.run([objdump, "-T", p], check=True, capture_output=True, text=True).stdout
        for major, minor in re.findall(r"GLIBC_(\d+)\.(\d+)", out):
            best = max(best, (int(major), int(minor)))
    return f"{best[0]}_{best[1]}"


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--glibc":
        objdump = os.environ.get("OBJDUMP", "objdump")
        print(max_glibc(sys.argv[2:], objdump))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base")
    ap.add_argument("out_dir")
    ap.add_argument("tag")
    ap.add_argument("--drop-glob", action="append", default=[])
    ap.add_argument("--add", action="append", default=[])
    args = ap.parse_args()
    print(pack(args.base, args.out_dir, args.tag, args.drop_glob, args.add))
    return 0


if __name__ == "__main__":
    sys.exit(main())
