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
import importlib.util
import io
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

MAX_PHOTO_BYTES = 300_000
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


def onnx_tiny_conv(path: Path) -> None:
    """images [1,3,64,64] -> one 3x3 stride-2 Conv -> head [1,4,32,32]."""
    g = GraphBuilder(seed=20240601)
    g.conv("images", 3, 4, k=3, s=2, out="head", gain=2.0)
    onnx.save(g.model([("images", [1, 3, 64, 64])], [("head", [1, 4, 32, 32])], "tiny_conv"), str(path))


# ---------------------------------------------------------------------------------------------
# Fixture description
# ---------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Fixture:
    name: str
    make_onnx: Callable[[Path], None]
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


FIXTURES: List[Fixture] = [
    Fixture(
        name="tiny_conv_rk3588_i8",
        make_onnx=onnx_tiny_conv,
        input_hw=(64, 64),
        photos=["astronaut.png", "coffee.png", "chelsea.png"],
        description="One 3x3 stride-2 Conv, images [1,3,64,64] -> head [1,4,32,32]; int8.",
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
    r"\((?P<orig>[\d,]+)\)\s+\((?P<native>[\d,]+)\)\s+\|"
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
        log_dtype = _LOG_DTYPE.get(row["dtype"], row["dtype"].lower()) if row else None
        qkey, q = _quant_entry(quant_tab, name, log_dtype)
        e = {
            "name": name,
            "index": attrs["idx"],
            "shape": list(attrs["shape"]),
            "layout_onnx": attrs.get("layout"),
            "native_shape": row["native_shape"] if row else None,
            "native_layout": row["format"] if row else None,
            "log_orig_shape": row["orig_shape"] if row else None,
            "dtype": log_dtype,
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
            "native_shape, native_layout, dtype, log_orig_shape":
                "the compiler's verbose 'Feature Tensor Information Table' printed to stdout during "
                "build() with RKNN(verbose=True) (rows of the I/O tensors; DataType mapped to numpy "
                "names)",
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
    fx.make_onnx(onnx_path)

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
            else:
                on_grid.append(None)
        rec_meta.append({
            "source_image": f"images/{photo}",
            "letterbox": params,
            "input_sha256_prefix": __import__("hashlib").sha256(x.tobytes()).hexdigest()[:16],
            "outputs_on_quant_grid": on_grid,
            "output_shapes": [list(o.shape) for o in outs],
        })
    rknn.release()
    golden.write_golden(MODELS / f"{fx.name}.golden", records)

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
    a = ap.parse_args(argv)
    if a.list:
        for fx in FIXTURES:
            print(fx.name)
        return 0
    names = set(a.only or [f.name for f in FIXTURES])
    unknown = names - {f.name for f in FIXTURES}
    if unknown:
        ap.error(f"unknown fixtures: {sorted(unknown)}")
    for p in PHOTOS:
        ensure_photo(p)
    for fx in FIXTURES:
        if fx.name not in names:
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
