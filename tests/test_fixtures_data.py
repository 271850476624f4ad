"""The committed fixtures are consistent: every .golden reads and matches its .json.

Uses only rknn_fast.golden and numpy (no rknn-toolkit2).
"""

from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import pytest

from rknn_fast.golden import read_golden_tensors

DATA = pathlib.Path(__file__).resolve().parent / "data"
MODELS = DATA / "models"
JSONS = sorted(MODELS.glob("*.json"))


def test_fixtures_present():
    assert JSONS, "no fixtures in tests/data/models"


def test_total_size_is_small():
    # About 18 MB: the real YOLOX model (ddddocr common_det) alone is 6.5 MB as int8 .rknn.
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024, f"tests/data is {total} bytes"


def test_every_model_has_its_three_files():
    for rknn in MODELS.glob("*.rknn"):
        for ext in (".golden", ".json"):
            assert rknn.with_suffix(ext).is_file(), f"{rknn.name} has no {ext}"


@pytest.mark.parametrize("json_path", JSONS, ids=[p.stem for p in JSONS])
def test_golden_matches_json(json_path):
    doc = json.loads(json_path.read_text())
    name = json_path.stem
    assert doc["name"] == name
    assert (MODELS / f"{name}.rknn").read_bytes()[:4] == b"RKNN"
    records = read_golden_tensors(MODELS / f"{name}.golden")
    assert len(records) == doc["golden"]["n_records"] == len(doc["golden"]["records"])
    H, W = doc["input_hw"]
    for (ins, outs), rec in zip(records, doc["golden"]["records"]):
        assert len(ins) == len(doc["inputs"])
        assert len(outs) == len(doc["outputs"])
        for t, info in zip(ins, doc["inputs"]):
            # stored as fed to the runtime: uint8 NHWC image
            assert t.type == 3 and t.fmt == 1
            n, c, h, w = info["shape"]
            assert t.data.shape == (n, h, w, c) == (1, H, W, 3)
            assert hashlib.sha256(t.data.tobytes()).hexdigest()[:16] == rec["input_sha256_prefix"]
        for t, info, shape in zip(outs, doc["outputs"], rec["output_shapes"]):
            assert t.type == 0
            assert t.fmt == (0 if len(info["shape"]) == 4 else 3)
            assert list(t.data.shape) == list(info["shape"]) == list(shape)
            assert np.isfinite(t.data).all()
        for info in doc["inputs"] + doc["outputs"]:
            assert info["dtype"] in ("int8", "uint8", "float16", "float32", "int16")
            assert info["qnt_type"] in ("affine", "none")
            if info["qnt_type"] == "affine":
                assert info["scale"] > 0 and -128 <= info["zero_point"] <= 127
            else:
                assert info["scale"] == 1.0 and info["zero_point"] == 0
            # the compiler's allocation holds at least the logical tensor
            itemsize = 2 if info["dtype"] == "float16" else 1
            assert info["log_alloc_bytes"] >= int(np.prod(info["shape"])) * itemsize
        lb = rec["letterbox"]
        assert (DATA / rec["source_image"]).is_file()
        assert lb["dst_hw"] == [H, W]
        assert lb["new_hw"][0] + lb["top"] + lb["bottom"] == H
        assert lb["new_hw"][1] + lb["left"] + lb["right"] == W


@pytest.mark.parametrize("json_path", JSONS, ids=[p.stem for p in JSONS])
def test_outputs_lie_on_their_grid(json_path):
    # The emulator re-quantises recorded outputs with the tensor's scale/zero point; that is
    # lossless only when the recording is on the grid, which the fixture tool checked.
    doc = json.loads(json_path.read_text())
    records = read_golden_tensors(MODELS / f"{json_path.stem}.golden")
    for (_, outs), rec in zip(records, doc["golden"]["records"]):
        for t, info, on_grid in zip(outs, doc["outputs"], rec["outputs_on_quant_grid"]):
            if info["dtype"] == "float16":
                # float16 outputs: the recording is exactly representable, so replay is lossless
                assert on_grid
                np.testing.assert_array_equal(t.data, t.data.astype(np.float16).astype(np.float32))
                continue
            if info["qnt_type"] != "affine" or not on_grid:
                continue
            q = t.data / np.float32(info["scale"]) + info["zero_point"]
            assert np.abs(q - np.round(q)).max() < 1e-2
            assert q.min() > -128.5 and q.max() < 127.5
