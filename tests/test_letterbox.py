from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import rknn_fast
import reference as ref
from rknn_fast import LetterboxTransform

SIZES = [(480, 640), (640, 480), (720, 1280), (333, 517), (640, 640), (100, 101), (1, 7),
         (1080, 1920), (427, 640)]


def image(h, w, seed=0, c=3):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (h, w, c) if c else (h, w), dtype=np.uint8)


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("dst_hw", [(640, 640), (384, 640), (416, 416)])
def test_ultralytics_byte_exact_with_cv2(hw, dst_hw):
    img = image(*hw, seed=hw[0])
    want, r, dw, dh = ref.letterbox_ultralytics(img, dst_hw, 114)
    got, t = rknn_fast.letterbox(img, dst_hw)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert t.scale == r and t.pad_x == dw and t.pad_y == dh
    assert t.src_shape == hw and t.dst_shape == dst_hw


def test_into_zero_copy_style_destination_and_bgr_swap():
    img = image(480, 640, 1)
    buf = np.full((1, 640, 640, 3), 7, np.uint8)  # like an NHWC input view
    out, t = rknn_fast.letterbox(img, dst=buf, bgr_to_rgb=True, pad_value=0)
    assert out is buf
    want, *_ = ref.letterbox_ultralytics(img, (640, 640), 0)
    np.testing.assert_array_equal(buf[0], want[..., ::-1])
    # A strided destination (e.g. a row-padded buffer) is written in place.
    big = np.zeros((640, 704, 3), np.uint8)
    view = big[:, :640]
    rknn_fast.letterbox(img, dst=view)
    np.testing.assert_array_equal(view, ref.letterbox_ultralytics(img, (640, 640))[0])
    assert not big[:, 640:].any()


def test_grayscale():
    img = image(300, 200, 2, c=0)
    got, _ = rknn_fast.letterbox(img, (320, 320))
    np.testing.assert_array_equal(got, ref.letterbox_ultralytics(img, (320, 320))[0])


@pytest.mark.parametrize("hw", SIZES)
@pytest.mark.parametrize("dst_hw", [(640, 640), (384, 640)])
def test_vendor_geometry(hw, dst_hw):
    img = image(*hw, seed=3)
    got, t = rknn_fast.letterbox(img, dst_hw, convention="vendor")
    scale, rw, rh, xp, yp = ref.letterbox_vendor_geometry(hw, dst_hw)
    assert (t.offset_x, t.offset_y, t.resized_shape) == (xp, yp, (rh, rw))
    assert t.scale == pytest.approx(scale) and t.pad_x == xp and t.pad_y == yp
    assert rw % 4 == 0 and rh % 2 == 0 and xp % 2 == 0 and yp % 2 == 0
    import cv2

    inner = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_array_equal(got[yp:yp + rh, xp:xp + rw], inner)
    mask = np.ones(dst_hw, bool)
    mask[yp:yp + rh, xp:xp + rw] = False
    assert (got[mask] == 114).all()


def test_vendor_hand_computed():
    # 1280x720 into 640x640: scale 0.5, 640x360, y_pad (640-360)/2 = 140 (even).
    _, t = rknn_fast.letterbox(image(720, 1280), (640, 640), convention="vendor")
    assert (t.scale, t.resized_shape, t.offset_x, t.offset_y) == (0.5, (360, 640), 0, 140)
    # 500x333 (w x h) into 640: scale 1.28, h = int(333*1.28) = 426, y pad 107 -> 106.
    _, t = rknn_fast.letterbox(image(333, 500), (640, 640), convention="vendor")
    assert t.resized_shape == (426, 640) and t.offset_y == 106


def test_inverse_mapping_clipped():
    t = LetterboxTransform(src_shape=(480, 640), dst_shape=(640, 640), scale=1.0, pad_x=0.0,
                           pad_y=80.0)
    boxes = np.array([[10, 90, 100, 200], [-5, 0, 700, 700]], np.float32)
    got = t.boxes_to_image(boxes)
    np.testing.assert_allclose(got, ref.unletterbox(boxes, 1.0, 0.0, 80.0, (480, 640)))
    assert got[1].tolist() == [0, 0, 640, 480]
    np.testing.assert_allclose(t.boxes_to_image(t.boxes_to_model(got[:1])), got[:1])
    pts = t.points_to_image(np.array([[[320, 320], [0, 0]]], np.float32))
    assert pts.tolist() == [[[320, 240], [0, 0]]]
    assert t.points_to_image(np.array([[0, 0]]), clip=False).tolist() == [[0, -80]]


def test_roundtrip_with_real_geometry():
    img = image(427, 640)
    _, t = rknn_fast.letterbox(img, (640, 640))
    box = np.array([[100, 50, 300, 400]], np.float32)
    np.testing.assert_allclose(t.boxes_to_image(t.boxes_to_model(box)), box, atol=1e-3)


def test_bad_inputs():
    with pytest.raises(TypeError, match="uint8 image"):
        rknn_fast.letterbox(np.zeros((10, 10, 3), np.float32), (32, 32))
    with pytest.raises(ValueError, match="size"):
        rknn_fast.letterbox(image(10, 10))
    with pytest.raises(ValueError, match="convention"):
        rknn_fast.letterbox(image(10, 10), (32, 32), convention="rga")
    with pytest.raises(ValueError, match="dst"):
        rknn_fast.letterbox(image(10, 10), dst=np.zeros((32, 32, 4), np.uint8))
    with pytest.raises(ValueError, match="match dst"):
        rknn_fast.letterbox(image(10, 10), (16, 16), dst=np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="bgr_to_rgb"):
        rknn_fast.letterbox(image(10, 10, c=0), (32, 32), bgr_to_rgb=True)
    with pytest.raises(ValueError, match="writable"):
        ro = np.zeros((32, 32, 3), np.uint8)
        ro.flags.writeable = False
        rknn_fast.letterbox(image(10, 10), dst=ro)


def test_threads():
    imgs = [image(480 + 10 * i, 640, i) for i in range(6)]
    with ThreadPoolExecutor(3) as ex:
        outs = list(ex.map(lambda im: rknn_fast.letterbox(im, (640, 640))[0], imgs))
    for im, o in zip(imgs, outs):
        np.testing.assert_array_equal(o, ref.letterbox_ultralytics(im, (640, 640))[0])


def test_draw_detections():
    img = np.zeros((100, 120, 3), np.uint8)
    det = rknn_fast.Detections(xyxy=np.array([[10, 20, 60, 80]], np.float32),
                               scores=np.array([0.9], np.float32),
                               class_ids=np.array([2], np.int32), names=["a", "b", "car"])
    out = det.draw(img)
    assert out is not img and not img.any() and out.any()
    assert out[50, 10].any() and not out[50, 30].any()  # box edge drawn, inside empty
    assert det.label(0) == "car" and len(rknn_fast.Detections.empty()) == 0
    with pytest.raises(TypeError, match="uint8"):
        det.draw(np.zeros((10, 10), np.float32))


def test_grayscale_into_one_channel_input_view():
    img = image(300, 200, 4, c=0)
    buf = np.zeros((1, 320, 320, 1), np.uint8)
    rknn_fast.letterbox(img, dst=buf)
    np.testing.assert_array_equal(buf[0, :, :, 0], ref.letterbox_ultralytics(img, (320, 320))[0])


def test_letterbox_bad_channels_and_dst_layout_are_value_errors():
    with pytest.raises(ValueError, match="channels"):  # was an OpenCV error
        rknn_fast.letterbox(np.zeros((8, 8, 0), np.uint8), (4, 4))
    fortran = np.asfortranarray(np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="packed pixels"):  # was an OpenCV error
        rknn_fast.letterbox(np.zeros((8, 8, 3), np.uint8), dst=fortran)
    # row padding (a zero-copy view with w_stride > w) stays accepted
    padded = np.zeros((4, 6, 3), np.uint8)[:, :4]
    out, _ = rknn_fast.letterbox(np.full((8, 8, 3), 7, np.uint8), dst=padded)
    assert (out == 7).all()


@pytest.mark.parametrize("kwargs", [{"pad_value": float("inf")}, {"pad_value": 114.5}, {"size": (32.7, 32)},
                                    {"size": (32,)}])
def test_letterbox_refuses_fractional_sizes_and_pad(kwargs):
    # 32.7 and 114.5 were truncated silently; inf raised OverflowError.
    args = {"size": (32, 32), **kwargs}
    with pytest.raises(ValueError):
        rknn_fast.letterbox(np.zeros((8, 8, 3), np.uint8), **args)
