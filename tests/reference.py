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
                if not np.isfinite(box).all():
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
        if np.isfinite(box).all():
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
                    if np.isfinite(box).all():
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
        if np.isfinite(box).all():
            rows.append((box, score, c, n))
    return _pack(rows)


def detect(cands: Cands, iou: float, max_detections: int = 300, agnostic: bool = False,
           plus_one: bool = False) -> Cands:
    """Candidates -> NMS-kept detections (the reference end of every decoder)."""
    b, s, c, a = cands
    keep = nms(b, s, iou, -np.inf, None if agnostic else c, max_detections, plus_one=plus_one)
    return b[keep], s[keep], c[keep], a[keep]


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
