"""One RKNNLite script, run by scripts/check_vendor_client.sh inside the arm64 root, once per
implementation and SoC:

    python3 vendor_client_run.py rknnlite|rknn_fast MODELS_DIR GOLDENS_DIR SOC

For every model converted for a platform the SoC runs, with a golden set in GOLDENS_DIR
(found by the runtime through RKNN_EMU_GOLDEN_PATH, matched by fingerprint: RKNNLite hands the
runtime the model's bytes), and for every core mask the SoC allows: load_rknn, init_runtime,
inference on each recorded input; every output must equal the recorded one exactly. Then a
model for another platform must fail init_runtime (and rknn_init with -13). Prints one JSON
line with the counts; exit status 0 only if everything matched.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import os
import sys

import numpy as np

api, models_dir, goldens_dir, soc = sys.argv[1:5]
if api == "rknnlite":
    from rknnlite.api import RKNNLite
elif api == "rknn_fast":
    from rknn_fast.lite import RKNNLite
else:
    raise SystemExit(f"unknown api {api!r}")

# rknn_fast/golden.py by file path (pure numpy): the rknnlite run does not import rknn_fast.
_spec = importlib.util.find_spec("rknn_fast")
assert _spec is not None and _spec.submodule_search_locations
_gspec = importlib.util.spec_from_file_location("_golden", os.path.join(list(_spec.submodule_search_locations)[0], "golden.py"))
golden = importlib.util.module_from_spec(_gspec)
sys.modules["_golden"] = golden
_gspec.loader.exec_module(golden)

FAMILY = {"rk3566": "rk356x", "rk3568": "rk356x"}
# Core masks each SoC allows (RKNNLite constants): single-core NPUs only take AUTO.
MASKS = {"rk3588": [0, 1, 2, 4, 3, 7, 0xFFFF], "rk3576": [0, 1, 2, 3, 0xFFFF]}


def platform_of(name: str) -> str:
    return next(p for p in name.split("_") if p.startswith("rk"))


by_fingerprint = {}
for g in sorted(os.listdir(goldens_dir)):
    fp = golden.golden_fingerprint(os.path.join(goldens_dir, g))
    if fp is not None:
        by_fingerprint[fp] = os.path.join(goldens_dir, g)

result = {"api": api, "soc": soc, "fixtures": 0, "runs": 0, "exact": 0, "failures": []}
other_platform_model = None
for name in sorted(os.listdir(models_dir)):
    if not name.endswith(".rknn"):
        continue
    path = os.path.join(models_dir, name)
    plat = platform_of(name)
    if FAMILY.get(plat, plat) != FAMILY.get(soc, soc):
        other_platform_model = other_platform_model or path
        continue
    gpath = by_fingerprint.get(golden.model_fingerprint(path))
    if gpath is None:
        continue
    records = golden.read_golden(gpath)
    result["fixtures"] += 1
    for mask in MASKS.get(soc, [0]):
        lite = RKNNLite()
        where = f"{name} core_mask={mask}"
        if lite.load_rknn(path) != 0 or lite.init_runtime(core_mask=mask) != 0:
            result["failures"].append(f"{where}: load/init failed")
            lite.release()
            continue
        for k, (inputs, outputs) in enumerate(records):
            result["runs"] += 1
            got = lite.inference(inputs=list(inputs))
            ok = got is not None and len(got) == len(outputs) and all(
                g.shape == w.shape and np.array_equal(np.asarray(g, np.float32), w) for g, w in zip(got, outputs))
            if ok:
                result["exact"] += 1
            else:
                result["failures"].append(f"{where} record {k}: outputs differ")
        lite.release()

# A model for another platform: init_runtime fails, rknn_init says RKNN_ERR_TARGET_PLATFORM_UNMATCH.
if other_platform_model is not None:
    lite = RKNNLite()
    lite.load_rknn(other_platform_model)
    result["other_platform_init"] = lite.init_runtime()
    lite.release()
    lib = ctypes.CDLL("/usr/lib/librknnrt.so")
    data = open(other_platform_model, "rb").read()
    ctx = ctypes.c_uint64(0)
    result["other_platform_rknn_init"] = lib.rknn_init(ctypes.byref(ctx), data, len(data), 0, None)
    if result["other_platform_init"] != -1 or result["other_platform_rknn_init"] != -13:
        result["failures"].append(f"{os.path.basename(other_platform_model)} on {soc}: not refused")

print(json.dumps(result), flush=True)
sys.exit(0 if not result["failures"] and result["runs"] > 0 and result["exact"] == result["runs"] else 1)
