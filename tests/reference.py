"""Pure-numpy references written from ../shared/rknn/POSTPROCESS_SPECS.md and the documented
rules of rknn_fast's kernels. Slow on purpose: clarity over speed. The tests compare the C++
kernels against these.

All references take dequantized float32 NCHW arrays (use :func:`dequantize` and
:func:`from_nc1hwc2` first) so that the layout and dtype handling of the kernels is tested
against an independent path.
"""

from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

F32 = np.float32


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """(q - zp) * scale in float32 (the same arithmetic the spec's deq() describes)."""
    if q.dtype.kind == "f":
        return q.astype(F32)
    return (q.astype(F32) - F32(zero_point)) * F32(scale)


def quantize(x: np.ndarray, scale: float, zero_point: int, dtype=np.int8) -> np.ndarray:
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale) + zero_point, info.min, info.max).astype(dtype)


def quantize_input(pixels_nhwc: np.ndarray, mean: Sequence[float], std: Sequence[float], scale: float,
                   zero_point: int, dtype=np.int8) -> np.ndarray:
    """The quantised form of a recorded NHWC input: per channel ``(x - mean) / std`` in float32,
    then ``round_half_away(v / scale) + zero_point`` saturated to ``dtype`` (the runtime's
    normalise-then-quantise step, written independently of the emulator)."""
    v = (pixels_nhwc.astype(F32) - np.asarray(mean, F32)) / np.asarray(std, F32)
    q = v.astype(np.float64) / np.float64(F32(scale))
    r = np.sign(q) * np.floor(np.abs(q) + 0.5)
    info = np.iinfo(dtype)
    return np.clip(r + zero_point, info.min, info.max).astype(dtype)


def to_nc1hwc2(x: np.ndarray, c2: int, fill: float = 0) -> np.ndarray:
    """(1, C, H, W) -> (1, ceil(C/c2), H, W, c2); padded lanes hold ``fill``."""
    _, c, h, w = x.shape
    c1 = -(-c // c2)
    pad = np.full((1, c1 * c2, h, w), fill, dtype=x.dtype)
    pad[:, :c] = x
    return np.ascontiguousarray(pad.reshape(1, c1, c2, h, w).transpose(0, 1, 3, 4, 2))


def from_nc1hwc2(x: np.ndarray, c: int) -> np.ndarray:
    _, c1, h, w, c2 = x.shape
    return np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3).reshape(1, c1 * c2, h, w)[:, :c])


def sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(F32)


def logit_threshold(conf: float) -> np.float32:
    if conf <= 0:
        return F32(-np.inf)
    if conf >= 1:
        return F32(np.inf)
    return F32(math.log(conf / (1.0 - conf)))


# ---------------------------------------------------------------------------------------
# NMS


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, score_threshold: float = 0.0,
        class_ids: Optional[np.ndarray] = None, max_detections: int = 300,
        top_k: Optional[int] = None, plus_one: bool = False) -> np.ndarray:
    """Greedy NMS, float32 IoU, rules as documented in cpp/kernels/nms.h."""
    boxes = boxes.astype(F32)
    scores = scores.astype(F32)
    one = F32(1.0 if plus_one else 0.0)
    n = scores.shape[0]
    valid = (scores >= F32(score_threshold)) & np.isfinite(boxes).all(axis=1)
    idx = np.nonzero(valid)[0]
    order = idx[np.lexsort((idx, -scores[idx].astype(np.float64)))]
    if top_k:
        order = order[:top_k]
    cls = np.zeros(n, np.int64) if class_ids is None else class_ids.astype(np.int64)
    keep: List[int] = []
    limit = max_detections if max_detections > 0 else n
    kb = np.zeros((0, 4), F32)
    kc = np.zeros(0, np.int64)
    for i in order:
        b = boxes[i]
        same = kc == cls[i]
        if same.any():
            a = kb[same]
            iw = np.minimum(a[:, 2], b[2]) - np.maximum(a[:, 0], b[0]) + one
            ih = np.minimum(a[:, 3], b[3]) - np.maximum(a[:, 1], b[1]) + one
            inter = iw * ih
            area_a = np.maximum(F32(0), a[:, 2] - a[:, 0] + one) * np.maximum(F32(0), a[:, 3] - a[:, 1] + one)
            area_b = max(F32(0), F32(b[2] - b[0] + one)) * max(F32(0), F32(b[3] - b[1] + one))
            uni = (area_a + F32(area_b)) - inter
            with np.errstate(divide="ignore", invalid="ignore"):
                iou = np.where((iw > 0) & (ih > 0) & (uni > 0), inter / uni, F32(0)).astype(F32)
            if (iou > F32(iou_threshold)).any():
                continue
        keep.append(int(i))
        kb = np.vstack([kb, b[None]])
        kc = np.append(kc, cls[i])
        if len(keep) >= limit:
            break
    return np.asarray(keep, dtype=np.int64)


# ---------------------------------------------------------------------------------------
# Decoders: each returns (boxes (N,4) float32 xyxy, scores, class_ids, anchor_index) of the
# candidates before NMS, in anchor order.

Cands = Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def usable_box(box) -> bool:
    """Finite xyxy with positive width and height (decoders drop the others before NMS)."""
    return bool(np.isfinite(box).all()) and box[2] > box[0] and box[3] > box[1]


def _pack(rows: list) -> Cands:
    if not rows:
        return (np.zeros((0, 4), F32), np.zeros(0, F32), np.zeros(0, np.int32), np.zeros(0, np.int64))
    b = np.array([r[0] for r in rows], dtype=F32).reshape(-1, 4)
    return (b, np.array([r[1] for r in rows], F32), np.array([r[2] for r in rows], np.int32),
            np.array([r[3] for r in rows], np.int64))


def _argmax_first(v: np.ndarray) -> int:
    v = np.where(np.isnan(v), -np.inf, v)
    return int(np.argmax(v))  # numpy returns the first maximum


def dfl(bins: np.ndarray) -> float:
    """Expected bin of softmax(bins) (float64)."""
    b = bins.astype(np.float64)
    e = np.exp(b - b.max())
    return float((e * np.arange(b.size)).sum() / e.sum())


def yolov8_candidates(boxes: Sequence[np.ndarray], classes: Sequence[np.ndarray],
                      score_sums: Optional[Sequence[np.ndarray]], conf: float, input_hw=(640, 640),
                      logits: bool = False, use_score_sum: bool = True) -> Cands:
    """Spec §2 on float32 NCHW arrays (per branch box (1,4R,H,W), cls (1,nc,H,W))."""
    thr = logit_threshold(conf) if logits else F32(conf)
    rows = []
    base = 0
    for bi, (bx, cl) in enumerate(zip(boxes, classes)):
        _, nc, h, w = cl.shape
        r = bx.shape[1] // 4
        sx, sy = F32(input_hw[1]) / F32(w), F32(input_hw[0]) / F32(h)
        for y in range(h):
            for x in range(w):
                if score_sums is not None and use_score_sum:
                    if not (score_sums[bi][0, 0, y, x] >= F32(conf)):
                        continue
                v = cl[0, :, y, x]
                c = _argmax_first(v)
                if not (v[c] >= thr):
                    continue
                s = sigmoid(v[c:c + 1])[0] if logits else v[c]
                d = [dfl(bx[0, k * r:(k + 1) * r, y, x]) for k in range(4)]
                cx, cy = x + 0.5, y + 0.5
                box = [(cx - d[0]) * sx, (cy - d[1]) * sy, (cx + d[2]) * sx, (cy + d[3]) * sy]
                if not usable_box(box):
                    continue
                rows.append((box, s, c, base + y * w + x))
        base += h * w
    return _pack(rows)


def flat_candidates(out: np.ndarray, conf: float, logits: bool = False) -> Cands:
    """Spec §10: (1, 4+nc, N) float32: cx, cy, w, h, class scores."""
    thr = logit_threshold(conf) if logits else F32(conf)
    rows = []
    for n in range(out.shape[2]):
        v = out[0, 4:, n]
        c = _argmax_first(v)
        if not (v[c] >= thr):
            continue
        s = sigmoid(v[c:c + 1])[0] if logits else v[c]
        cx, cy, bw, bh = (float(t) for t in out[0, :4, n])
        box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
        if usable_box(box):
            rows.append((box, s, c, n))
    return _pack(rows)


def yolov5_candidates(outs: Sequence[np.ndarray], anchors: np.ndarray, conf: float,
                      input_hw=(640, 640), logits: bool = False) -> Cands:
    """Spec §1 on float32 NCHW arrays; score = obj * cls >= conf."""
    rows = []
    base = 0
    na = anchors.shape[1]
    for bi, o in enumerate(outs):
        _, ch, h, w = o.shape
        per = ch // na
        sx, sy = input_hw[1] / w, input_hw[0] / h
        t = sigmoid(o) if logits else o
        for a in range(na):
            for y in range(h):
                for x in range(w):
                    v = t[0, a * per:(a + 1) * per, y, x]
                    raw_cls = o[0, a * per + 5:(a + 1) * per, y, x]
                    c = _argmax_first(raw_cls)
                    score = F32(v[4] * v[5 + c])
                    if not (score >= F32(conf)):
                        continue
                    bx = (v[0] * 2 - 0.5 + x) * sx
                    by = (v[1] * 2 - 0.5 + y) * sy
                    bw = (v[2] * 2) ** 2 * anchors[bi, a, 0]
                    bh = (v[3] * 2) ** 2 * anchors[bi, a, 1]
                    box = [bx - bw / 2, by - bh / 2, bx + bw / 2, by + bh / 2]
                    if usable_box(box):
                        rows.append((box, score, c, base + (a * h + y) * w + x))
        base += na * h * w
    return _pack(rows)


def yolox_candidates(out: np.ndarray, conf: float, input_hw=(416, 416), strides=(8, 16, 32),
                     grid_decode: bool = True) -> Cands:
    """YOLOX (1, N, 5+nc) float32, decode_in_inference=False convention when grid_decode."""
    grids = []
    for s in strides:
        gh, gw = input_hw[0] // s, input_hw[1] // s
        for r in range(gh):
            for c in range(gw):
                grids.append((c, r, s))
    rows = []
    for n in range(out.shape[1]):
        v = out[0, n]
        c = _argmax_first(v[5:])
        score = F32(v[4] * v[5 + c])
        if not (score >= F32(conf)):
            continue
        cx, cy, bw, bh = (float(t) for t in v[:4])
        if grid_decode:
            gx, gy, s = grids[n]
            cx, cy, bw, bh = (cx + gx) * s, (cy + gy) * s, math.exp(bw) * s, math.exp(bh) * s
        box = [cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2]
        if usable_box(box):
            rows.append((box, score, c, n))
    return _pack(rows)


def detect(cands: Cands, iou: float, max_detections: int = 300, agnostic: bool = False,
           plus_one: bool = False) -> Cands:
    """Candidates -> NMS-kept detections (the reference end of every decoder)."""
    b, s, c, a = cands
    keep = nms(b, s, iou, -np.inf, None if agnostic else c, max_detections, plus_one=plus_one)
    return b[keep], s[keep], c[keep], a[keep]


def assert_detections_match(det, want: Cands, atol: float = 2e-3) -> None:
    """A decoder's Detections equal the reference detections ``want`` = (boxes, scores,
    class_ids, anchor_index): same cells and classes in the same order, scores and boxes to
    float32 rounding (boxes within ``atol`` pixels), and the documented result dtypes."""
    b, s, c, a = want
    np.testing.assert_array_equal(det.anchor_index, a)
    np.testing.assert_array_equal(det.class_ids, c)
    np.testing.assert_allclose(det.scores, s, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(det.xyxy, b, atol=atol, rtol=1e-5)
    assert det.xyxy.dtype == np.float32 and det.scores.dtype == np.float32
    assert det.class_ids.dtype == np.int32 and det.anchor_index.dtype == np.int64


# ---------------------------------------------------------------------------------------
# Letterbox geometry (spec §0.4), independent of rknn_fast.preprocess.


def letterbox_ultralytics(img: np.ndarray, new_hw: Tuple[int, int], color: int = 114):
    """The recorded-fixture way: cv2.resize INTER_LINEAR + cv2.copyMakeBorder."""
    import cv2

    h, w = img.shape[:2]
    r = min(new_hw[0] / h, new_hw[1] / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (new_hw[1] - nw) / 2, (new_hw[0] - nh) / 2
    if (w, h) != (nw, nh):
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    val = (color,) * (img.shape[2] if img.ndim == 3 else 1)
    out = cv2.copyMakeBorder(img, top, bottom, left, right, cv2.BORDER_CONSTANT, value=val)
    return out, r, dw, dh


def letterbox_vendor_geometry(src_hw: Tuple[int, int], dst_hw: Tuple[int, int]):
    """Spec §0.4 C demo: returns (scale, resize_w, resize_h, x_pad, y_pad)."""
    sw = F32(dst_hw[1]) / F32(src_hw[1])
    sh = F32(dst_hw[0]) / F32(src_hw[0])
    scale = min(sw, sh)
    if sw <= sh:
        rw, rh = dst_hw[1], int(F32(src_hw[0]) * scale)
    else:
        rw, rh = int(F32(src_hw[1]) * scale), dst_hw[0]
    rw -= rw % 4
    rh -= rh % 2
    xp = 0 if sw <= sh else (dst_hw[1] - rw) // 2
    yp = (dst_hw[0] - rh) // 2 if sw <= sh else 0
    return float(scale), rw, rh, xp - xp % 2, yp - yp % 2


def unletterbox(xyxy: np.ndarray, scale: float, pad_x: float, pad_y: float, src_hw) -> np.ndarray:
    b = xyxy.astype(np.float64).copy()
    b[:, 0::2] = np.clip((b[:, 0::2] - pad_x) / scale, 0, src_hw[1])
    b[:, 1::2] = np.clip((b[:, 1::2] - pad_y) / scale, 0, src_hw[0])
    return b


# =========================================================================================
# Dense-output references (branch `dense`: segmentation, masks, pose, faces, text,
# classification). Written independently of the kernels: plain numpy, float64, loops where
# that is clearer.
# =========================================================================================


def ref_logical_chw(scores: np.ndarray, layout: str, classes: Optional[int] = None) -> np.ndarray:
    """Any supported layout -> (C, H, W) copy (float64 for float inputs, int for int8)."""
    if layout == "NCHW":
        x = scores[0] if scores.ndim == 4 else scores
    elif layout == "NHWC":
        x = (scores[0] if scores.ndim == 4 else scores).transpose(2, 0, 1)
    else:  # NC1HWC2
        c1, h, w, c2 = scores.shape[1:]
        x = scores[0].transpose(0, 3, 1, 2).reshape(c1 * c2, h, w)[: classes or c1 * c2]
    if x.dtype == np.float16:
        return x.astype(np.float64)
    return x.astype(np.float64) if x.dtype.kind == "f" else x.astype(np.int64)


def ref_argmax(chw: np.ndarray) -> np.ndarray:
    """First maximum along classes (np.argmax returns the lowest index on ties)."""
    return np.argmax(chw, axis=0)


def ref_nearest_indices(n_out: int, a: float, b: float, size: int) -> np.ndarray:
    return np.clip(np.floor((np.arange(n_out) + 0.5) * a + b), 0, size - 1).astype(np.int64)


def ref_resample_nearest(cmap: np.ndarray, ax: float, bx: float, ay: float, by: float,
                         oh: int, ow: int) -> np.ndarray:
    ys = ref_nearest_indices(oh, ay, by, cmap.shape[0])
    xs = ref_nearest_indices(ow, ax, bx, cmap.shape[1])
    return cmap[ys[:, None], xs[None, :]]


def ref_bilinear_taps(n_out: int, a: float, b: float, size: int):
    """align_corners=False taps with edge replication: (i0, i1, w1) per output index."""
    src = np.maximum((np.arange(n_out) + 0.5) * a + b - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), size - 1)
    i1 = np.minimum(i0 + 1, size - 1)
    w1 = np.where(i1 > i0, src - i0, 0.0)
    return i0, i1, w1


def ref_bilinear(planes: np.ndarray, ax: float, bx: float, ay: float, by: float,
                 oh: int, ow: int) -> np.ndarray:
    """(C, H, W) -> (C, oh, ow) bilinear samples at mapped pixel centres (float64)."""
    p = planes.astype(np.float64)
    y0, y1, wy = ref_bilinear_taps(oh, ay, by, p.shape[1])
    x0, x1, wx = ref_bilinear_taps(ow, ax, bx, p.shape[2])
    top = p[:, y0][:, :, x0] * (1 - wx) + p[:, y0][:, :, x1] * wx
    bot = p[:, y1][:, :, x0] * (1 - wx) + p[:, y1][:, :, x1] * wx
    return top * (1 - wy)[None, :, None] + bot * wy[None, :, None]


def ref_instance_masks(proto: np.ndarray, proto_zp: int, coeffs: np.ndarray,
                       coeff_zps: Optional[np.ndarray], boxes: np.ndarray, model_hw, scale: float,
                       pad_x: float, pad_y: float, out_hw):
    """Full-proto reference: dequantise everything, logits for the whole 160x160 grid,
    bilinear to every image pixel, crop to the box. Returns (masks bool, logits float64)."""
    k, hp, wp = proto.shape
    p = proto.astype(np.float64) - (proto_zp if proto.dtype == np.int8 else 0)
    c = coeffs.astype(np.float64)
    if coeffs.dtype == np.int8:
        c = c - np.asarray(coeff_zps, np.float64)[:, None]
    full = (c @ p.reshape(k, -1)).reshape(-1, hp, wp)
    mh, mw = model_hw
    oh, ow = out_hw
    logits = ref_bilinear(full, scale * wp / mw, pad_x * wp / mw, scale * hp / mh, pad_y * hp / mh, oh, ow)
    masks = logits > 0
    xs, ys = np.arange(ow), np.arange(oh)
    for i, b in enumerate(boxes.astype(np.float64)):
        x1, x2 = (b[0] - pad_x) / scale, (b[2] - pad_x) / scale
        y1, y2 = (b[1] - pad_y) / scale, (b[3] - pad_y) / scale
        inside = ((ys >= y1) & (ys < y2))[:, None] & ((xs >= x1) & (xs < x2))[None, :]
        masks[i] &= inside
        logits[i][~inside] = -np.inf
    return masks, logits


def ref_merged_class_map(masks: np.ndarray, class_ids: np.ndarray) -> np.ndarray:
    out = np.zeros(masks.shape[1:], np.uint8)
    for m, c in zip(masks, class_ids):
        out[m & (out == 0)] = c + 1
    return out


def ref_yolov8_pose(heads: Sequence[np.ndarray], qps, conf: float, model_hw, reg_max: int = 16):
    """Candidates (boxes xyxy, scores, anchor index) from (1, 65, H, W) NCHW heads."""
    thr = math.log(conf / (1 - conf))
    rows = []
    offset = 0
    for head, qp in zip(heads, qps):
        x = head[0].astype(np.float64)
        if head.dtype == np.int8:
            x = (x - qp[1]) * qp[0]
        _, h, w = x.shape
        sx, sy = model_hw[1] / w, model_hw[0] / h
        for i in range(h):
            for j in range(w):
                logit = x[4 * reg_max, i, j]
                if logit < thr:
                    continue
                d = []
                for side in range(4):
                    v = x[side * reg_max:(side + 1) * reg_max, i, j]
                    e = np.exp(v - v.max())
                    d.append(float((e * np.arange(reg_max)).sum() / e.sum()))
                rows.append(([(j + 0.5 - d[0]) * sx, (i + 0.5 - d[1]) * sy, (j + 0.5 + d[2]) * sx,
                              (i + 0.5 + d[3]) * sy], 1 / (1 + math.exp(-logit)), offset + i * w + j))
        offset += h * w
    boxes = np.array([r[0] for r in rows], np.float64).reshape(-1, 4)
    return boxes, np.array([r[1] for r in rows]), np.array([r[2] for r in rows], np.int64)


def ref_retinaface_priors(model_hw) -> np.ndarray:
    h, w = model_hw
    out = []
    for step, sizes in ((8, (16, 32)), (16, (64, 128)), (32, (256, 512))):
        for i in range(math.ceil(h / step)):
            for j in range(math.ceil(w / step)):
                for s in sizes:
                    out.append([(j + 0.5) * step / w, (i + 0.5) * step / h, s / w, s / h])
    return np.array(out, np.float64)


def ref_retinaface(loc, conf, landm, model_hw, threshold: float):
    pri = ref_retinaface_priors(model_hw)
    loc, conf, landm = (a.reshape(a.shape[-2], a.shape[-1]).astype(np.float64) for a in (loc, conf, landm))
    keep = np.flatnonzero(conf[:, 1] > threshold)
    p = pri[keep]
    cxcy = p[:, :2] + loc[keep, :2] * 0.1 * p[:, 2:]
    wh = p[:, 2:] * np.exp(loc[keep, 2:] * 0.2)
    scale = np.array([model_hw[1], model_hw[0]], np.float64)
    boxes = np.concatenate([(cxcy - wh / 2) * scale, (cxcy + wh / 2) * scale], 1)
    lm = (p[:, None, :2] + landm[keep].reshape(-1, 5, 2) * 0.1 * p[:, None, 2:]) * scale
    return boxes, conf[keep, 1], lm, keep


def weighted_nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float, extra: Optional[np.ndarray] = None,
                 score_threshold: float = -math.inf, max_detections: int = 0):
    """MediaPipe's weighted NMS (its face detector's rule), in float64, loop by loop: take the
    best remaining candidate, gather every remaining one whose IoU with it exceeds the
    threshold (itself included), output the score-weighted mean box / extra with the best
    score, remove the group, repeat. Returns (top indices, boxes (K, 4), extra (K, M))."""
    b = np.asarray(boxes, np.float64)
    s = np.asarray(scores, np.float64)
    e = np.zeros((len(s), 0)) if extra is None else np.asarray(extra, np.float64).reshape(len(s), -1)
    remaining = sorted((i for i in range(len(s)) if s[i] >= score_threshold and np.isfinite(b[i]).all()),
                       key=lambda i: (-s[i], i))
    tops, out_boxes, out_extra = [], [], []
    while remaining and (max_detections <= 0 or len(tops) < max_detections):
        t = remaining[0]
        group, rest = [], []
        for i in remaining:
            iw = max(0.0, min(b[t, 2], b[i, 2]) - max(b[t, 0], b[i, 0]))
            ih = max(0.0, min(b[t, 3], b[i, 3]) - max(b[t, 1], b[i, 1]))
            inter = iw * ih
            union = ((b[t, 2] - b[t, 0]) * (b[t, 3] - b[t, 1]) + (b[i, 2] - b[i, 0]) * (b[i, 3] - b[i, 1])
                     - inter)
            iou = inter / union if union > 0 else 0.0
            (group if i == t or iou > iou_threshold else rest).append(i)
        w = s[group]
        tops.append(t)
        out_boxes.append((w[:, None] * b[group]).sum(0) / w.sum())
        out_extra.append((w[:, None] * e[group]).sum(0) / w.sum())
        remaining = rest
    return (np.array(tops, np.int64), np.array(out_boxes, np.float64).reshape(-1, 4),
            np.array(out_extra, np.float64).reshape(-1, e.shape[1]))


def ref_blazeface(reg: np.ndarray, logits: np.ndarray, conf: float, iou: float, input_size: int = 128,
                  method: str = "weighted", max_detections: int = 100):
    """BlazeFace decoding after MediaPipe (float64): anchors, logits clipped to +/-100, sigmoid
    (computed on -|x| so it cannot overflow), score >= conf, boxes with w <= 0 or h <= 0
    dropped, weighted or plain NMS. Returns (boxes (K, 4), scores (K,), keypoints (K, 6, 2))
    in model pixels."""
    a = ref_blazeface_anchors_front()
    r = np.asarray(reg, np.float64).reshape(-1, 16)
    x = np.clip(np.asarray(logits, np.float64).reshape(-1), -100, 100)
    e = np.exp(-np.abs(x))
    prob = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    n = input_size
    cx, cy = r[:, 0] / n * a[:, 2] + a[:, 0], r[:, 1] / n * a[:, 3] + a[:, 1]
    w, h = r[:, 2] / n * a[:, 2], r[:, 3] / n * a[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1) * n
    kp = (r[:, 4:].reshape(-1, 6, 2) / n * a[:, None, 2:4] + a[:, None, :2]) * n
    sel = np.flatnonzero((prob >= conf) & (w > 0) & (h > 0))
    boxes, prob, kp = boxes[sel], prob[sel], kp[sel]
    if method == "weighted":
        top, wb, wk = weighted_nms(boxes, prob, iou, kp.reshape(len(sel), 12), max_detections=max_detections)
        return wb, prob[top], wk.reshape(-1, 6, 2)
    keep = nms(boxes.astype(F32), prob.astype(F32), iou, max_detections=max_detections)
    return boxes[keep], prob[keep], kp[keep]


def ref_blazeface_anchors_front() -> np.ndarray:
    out = []
    for grid, per_cell in ((16, 2), (8, 6)):
        for i in range(grid):
            for j in range(grid):
                for _ in range(per_cell):
                    out.append([(j + 0.5) / grid, (i + 0.5) / grid, 1.0, 1.0])
    return np.array(out, np.float64)


def ref_softmax_topk(logits: np.ndarray, k: int):
    x = logits.reshape(-1).astype(np.float64)
    e = np.exp(x - x.max())
    p = e / e.sum()
    order = sorted(range(x.size), key=lambda i: (-p[i], i))[:k]
    return np.array(order), p[order]


def ref_dbnet(prob: np.ndarray, thresh=0.3, box_thresh=0.5, unclip_ratio=1.6, max_candidates=1000,
              min_size=3.0, dilation=True):
    """DBNet post-processing with an independent unclip (grow the min-area rectangle by the
    offset distance on every side, the round-join offset's bounding rectangle) and scoring
    on a full-size fillPoly mask. Returns [(quad, score)]
    in map pixels; quads as cv2.boxPoints of the grown rectangle (unordered corners)."""
    import cv2

    bitmap = (prob > thresh).astype(np.uint8)
    if dilation:
        bitmap = cv2.dilate(bitmap, np.ones((2, 2), np.uint8))
    contours = cv2.findContours(bitmap * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)[-2]
    out = []
    for cnt in contours[:max_candidates]:
        (cx, cy), (w, h), ang = cv2.minAreaRect(cnt.reshape(-1, 1, 2).astype(np.float32))
        if min(w, h) < min_size:
            continue
        box = cv2.boxPoints(((cx, cy), (w, h), ang)).astype(np.float64)
        # fast score (rapidocr semantics): mean over the quad rasterised by cv2.fillPoly at
        # integer-truncated corners, here on a full-size mask instead of the cropped window
        mask = np.zeros(prob.shape, np.uint8)
        cv2.fillPoly(mask, [box.astype(np.int32).reshape(-1, 1, 2)], 1)
        score = float(prob[mask.astype(bool)].mean()) if mask.any() else 0.0
        if score < box_thresh:
            continue
        d = w * h * unclip_ratio / (2 * (w + h))
        gw, gh = w + 2 * d, h + 2 * d
        if min(gw, gh) < min_size + 2:
            continue
        out.append((cv2.boxPoints(((cx, cy), (gw, gh), ang)), score))
    return out
