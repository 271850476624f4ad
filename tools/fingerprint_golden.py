"""Record a model's fingerprint (SHA-256) in an existing golden set, leaving the records as they are.

    python tools/fingerprint_golden.py MODEL.rknn [GOLDEN]     (GOLDEN defaults to MODEL.golden)
    python tools/fingerprint_golden.py --all tests/data/models (every <name>.rknn with a <name>.golden)

With the fingerprint the emulator finds the set for the model given as bytes or from another
directory (RKNN_EMU_GOLDEN_PATH, docs/golden-format.md). Loads rknn_fast/golden.py by file path
so that it runs without rknn_fast installed (numpy only).
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _golden_module():
    spec = importlib.util.spec_from_file_location("_golden", ROOT / "python" / "rknn_fast" / "golden.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_golden"] = mod
    spec.loader.exec_module(mod)
    return mod


def fingerprint(golden_mod, model: pathlib.Path, golden: pathlib.Path) -> bool:
    """Rewrites `golden` with `model`'s fingerprint; returns False when it already had it."""
    want = golden_mod.model_fingerprint(model)
    if golden_mod.golden_fingerprint(golden) == want:
        return False
    records = golden_mod.read_golden_tensors(golden)
    tmp = golden.with_suffix(".golden.tmp")
    golden_mod.write_golden(tmp, records, model=model)
    assert golden_mod.read_golden_tensors(tmp).__len__() == len(records)
    tmp.replace(golden)
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", help="model .rknn, or a directory with --all")
    ap.add_argument("golden", nargs="?", help="golden set (default: beside the model)")
    ap.add_argument("--all", action="store_true", help="every <name>.rknn with a <name>.golden in a directory")
    args = ap.parse_args()
    g = _golden_module()
    if args.all:
        pairs = [(m, m.with_suffix(".golden")) for m in sorted(pathlib.Path(args.model).glob("*.rknn"))]
        pairs = [(m, p) for m, p in pairs if p.exists()]
    else:
        m = pathlib.Path(args.model)
        pairs = [(m, pathlib.Path(args.golden) if args.golden else m.with_suffix(".golden"))]
    for m, p in pairs:
        changed = fingerprint(g, m, p)
        print(f"{p}: {'fingerprint recorded' if changed else 'already fingerprinted'} ({g.model_fingerprint(m).hex()[:16]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
