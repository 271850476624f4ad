"""Loader, error mapping and conversion kernels (no model needed for most of these)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading

import numpy as np
import pytest

import rknn_fast
from rknn_fast import convert, errors
from reference_runtime import dequantize as ref_dequantize
from reference_runtime import nc1hwc2_to_nchw as ref_nc1hwc2_to_nchw
from reference_runtime import to_nc1hwc2

MODEL = "tiny_conv_rk3588_i8.rknn"

ALL_CODES = {
    -1: "RKNN_ERR_FAIL",
    -2: "RKNN_ERR_TIMEOUT",
    -3: "RKNN_ERR_DEVICE_UNAVAILABLE",
    -4: "RKNN_ERR_MALLOC_FAIL",
    -5: "RKNN_ERR_PARAM_INVALID",
    -6: "RKNN_ERR_MODEL_INVALID",
    -7: "RKNN_ERR_CTX_INVALID",
    -8: "RKNN_ERR_INPUT_INVALID",
    -9: "RKNN_ERR_OUTPUT_INVALID",
    -10: "RKNN_ERR_DEVICE_UNMATCH",
    -11: "RKNN_ERR_INCOMPATILE_PRE_COMPILE_MODEL",
    -12: "RKNN_ERR_INCOMPATILE_OPTIMIZATION_LEVEL_VERSION",
    -13: "RKNN_ERR_TARGET_PLATFORM_UNMATCH",
}


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("code,name", sorted(ALL_CODES.items()))
def test_error_class_per_code(code, name):
    cls = errors.error_class(code)
    assert cls is not errors.RknnError and issubclass(cls, errors.RknnError)
    assert issubclass(cls, RuntimeError)
    assert cls.code == code and cls.code_name == name
    e = errors.error_for_code(code, "rknn_run", "ctx 1")
    assert isinstance(e, cls)
    assert e.code == code and e.api == "rknn_run" and e.code_name == name
    assert str(e).startswith(f"rknn_run failed: {name} ({code})")
    assert "ctx 1" in str(e)


def test_error_classes_are_distinct():
    classes = {errors.error_class(c) for c in ALL_CODES}
    assert len(classes) == len(ALL_CODES)


def test_unknown_code_is_plain_rknn_error():
    e = errors.error_for_code(-99, "rknn_query")
    assert type(e) is errors.RknnError
    assert e.code == -99 and "unknown error -99" in str(e)


def test_mismatch_codes_explain():
    assert "newer" in errors.RknnModelInvalidError.explanation
    assert "target_platform" in errors.RknnTargetPlatformUnmatchError.explanation
    assert "driver" in errors.RknnDeviceUnmatchError.explanation


# ---------------------------------------------------------------------------- loader


def test_missing_runtime_says_what_to_install(tmp_path, models_dir):
    with pytest.raises(errors.RuntimeNotFoundError) as ei:
        rknn_fast.Model(models_dir / MODEL, runtime=str(tmp_path / "nope" / "librknnrt.so"))
    msg = str(ei.value)
    assert "librknnrt" in msg and "RKNN_FAST_RUNTIME" in msg and "/usr/lib" in msg
    assert isinstance(ei.value, OSError)


def test_env_var_is_used_and_named(monkeypatch, tmp_path, models_dir):
    monkeypatch.setenv("RKNN_FAST_RUNTIME", str(tmp_path / "missing.so"))
    with pytest.raises(errors.RuntimeNotFoundError, match="RKNN_FAST_RUNTIME"):
        rknn_fast.Model(models_dir / MODEL)


def test_default_search_without_runtime(monkeypatch, models_dir):
    monkeypatch.delenv("RKNN_FAST_RUNTIME", raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "")
    if os.path.exists("/usr/lib/librknnrt.so"):
        pytest.skip("a real librknnrt is installed")
    with pytest.raises(errors.RuntimeNotFoundError, match="librknnrt not found"):
        rknn_fast.Model(models_dir / MODEL)


def test_library_without_rknn_symbols_is_refused(models_dir):
    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no libm to load")
    path = libm  # resolvable by dlopen
    with pytest.raises(errors.RuntimeNotFoundError, match="missing rknn_init"):
        rknn_fast.Model(models_dir / MODEL, runtime=path)


def test_bad_runtime_argument_type(models_dir):
    with pytest.raises(TypeError, match="expected runtime"):
        rknn_fast.Model(models_dir / MODEL, runtime=3)  # type: ignore[arg-type]


def test_model_argument_type():
    with pytest.raises(TypeError, match="expected a path or the model's bytes"):
        rknn_fast.Model(12)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- conversions


@pytest.mark.parametrize("n", [0, 1, 7, 1000, 65536])
def test_fp16_to_fp32_matches_numpy(n):
    rng = np.random.default_rng(n)
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint16)
    a = bits.view(np.float16)
    got = convert.fp16_to_fp32(a)
    want = a.astype(np.float32)
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))


ALL_HALF_BITS = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)


@pytest.mark.parametrize("start", [0, 1, 3, 7, 8, 9])  # unaligned starts and every tail length
def test_fp16_to_fp32_all_65536_values_bit_exact(start):
    # numpy keeps NaN payloads (signalling NaNs stay signalling): compare every bit, NaNs included
    a = ALL_HALF_BITS[start:].view(np.float16)
    got = convert.fp16_to_fp32(a)
    assert np.array_equal(got.view(np.uint32), a.astype(np.float32).view(np.uint32))


def test_fp16_nan_payloads_as_numpy():
    bits = np.array([0x7C01, 0x7D00, 0x7DFF, 0x7E00, 0x7FFF, 0xFC01, 0xFE01], np.uint16)
    got = convert.fp16_to_fp32(bits.view(np.float16)).view(np.uint32)
    # hand-computed: sign, all-ones exponent, the 10-bit payload shifted up by 13 (quiet bit kept as is)
    assert got.tolist() == [0x7F802000, 0x7FA00000, 0x7FBFE000, 0x7FC00000, 0x7FFFE000, 0xFF802000,
                            0xFFC02000]


def test_fused_fp16_widening_all_65536_values_bit_exact():
    # the scalar half_to_float (kernels/half.h) as used by the fused NC1HWC2 conversion
    a = ALL_HALF_BITS.view(np.float16).reshape(1, 1, 256, 256, 1)
    got = convert.from_nc1hwc2(a, 1, float32=True)
    assert np.array_equal(got.view(np.uint32), a.reshape(1, 1, 256, 256).astype(np.float32).view(np.uint32))


def test_fp16_special_values():
    a = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, np.inf, -np.inf, 6e-8, 6.1e-5], dtype=np.float16)
    assert np.array_equal(convert.fp16_to_fp32(a).view(np.uint32), a.astype(np.float32).view(np.uint32))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8])
@pytest.mark.parametrize("n", [0, 1, 33, 100000])
def test_dequantize_matches_reference(dtype, n):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(n)
    q = rng.integers(info.min, info.max + 1, size=n, dtype=dtype)
    got = convert.dequantize(q, 0.0255, -36)
    np.testing.assert_allclose(got, ref_dequantize(q, 0.0255, -36), rtol=1e-6, atol=1e-6)


def test_dequantize_extremes_exact():
    q = np.array([-128, -36, 0, 127], dtype=np.int8)
    got = convert.dequantize(q, 0.5, -36)
    assert got.tolist() == [-46.0, 0.0, 18.0, 81.5]


@pytest.mark.parametrize("c,c2,h,w,ws", [(4, 16, 32, 32, 32), (3, 8, 5, 7, 8), (17, 16, 2, 3, 3), (1, 4, 1, 1, 1),
                                         (255, 16, 4, 4, 4), (32, 16, 3, 5, 8)])
@pytest.mark.parametrize("dtype", [np.int8, np.float16, np.float32])
def test_nc1hwc2_layouts_match_reference(c, c2, h, w, ws, dtype):
    rng = np.random.default_rng(c * 1000 + h)
    x = (rng.standard_normal((1, c, h, w)) * 50).astype(dtype)
    native = to_nc1hwc2(x, c2, ws)
    assert np.array_equal(ref_nc1hwc2_to_nchw(native, c, w), x)
    nchw = convert.from_nc1hwc2(native, c, w)
    assert nchw.dtype == dtype and np.array_equal(nchw, x)
    nhwc = convert.from_nc1hwc2(native, c, w, layout="nhwc")
    assert np.array_equal(nhwc, x.transpose(0, 2, 3, 1))


@pytest.mark.parametrize("layout", ["nchw", "nhwc"])
def test_nc1hwc2_fused_dequantize(layout):
    rng = np.random.default_rng(5)
    q = rng.integers(-128, 128, size=(2, 20, 6, 5), dtype=np.int8)
    native = to_nc1hwc2(q, 16, 8, pad_value=99)
    got = convert.from_nc1hwc2(native, 20, 5, layout=layout, float32=True, scale=0.1, zero_point=3)
    want = ref_dequantize(q, 0.1, 3)
    if layout == "nhwc":
        want = want.transpose(0, 2, 3, 1)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_nc1hwc2_fused_fp16():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 9, 4, 4)).astype(np.float16)
    got = convert.from_nc1hwc2(to_nc1hwc2(x, 8), 9, float32=True)
    assert got.dtype == np.float32 and np.array_equal(got, x.astype(np.float32))


def test_conversion_bad_inputs():
    native = np.zeros((1, 2, 4, 4, 16), np.int8)
    with pytest.raises(ValueError, match="channels"):
        convert.from_nc1hwc2(native, 33)
    with pytest.raises(ValueError, match="5-D"):
        convert.from_nc1hwc2(np.zeros((2, 4, 4, 16), np.int8), 4)
    with pytest.raises(ValueError, match="C-contiguous"):
        convert.from_nc1hwc2(np.zeros((1, 2, 4, 8, 16), np.int8)[:, :, :, ::2], 4)
    with pytest.raises(TypeError, match="float16"):
        convert.fp16_to_fp32(np.zeros(4, np.float32))
    with pytest.raises(TypeError, match="int8 or uint8"):
        convert.dequantize(np.zeros(4, np.int16), 1.0, 0)
    with pytest.raises(ValueError, match="expected out"):
        convert.dequantize(np.zeros(4, np.int8), 1.0, 0, out=np.zeros(5, np.float32))
    with pytest.raises(TypeError, match="float32=True"):
        convert.from_nc1hwc2(np.zeros((1, 1, 1, 1, 4), np.float32), 4, float32=True)


def test_conversion_threads():
    rng = np.random.default_rng(9)
    q = rng.integers(-128, 128, size=(1, 64, 40, 40), dtype=np.int8)
    native = to_nc1hwc2(q, 16)
    want = ref_dequantize(q, 0.02, -5)
    results = []

    def work():
        for _ in range(20):
            results.append(np.allclose(convert.from_nc1hwc2(native, 64, float32=True, scale=0.02, zero_point=-5),
                                       want, atol=1e-6))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80 and all(results)


@pytest.mark.parametrize("scale, zp", [(float("nan"), 0), (-0.5, 0), (0.0, 0), (float("inf"), 0), (0.1, 1.5),
                                       (0.1, 2**31)])
def test_dequantize_refuses_meaningless_qparams(scale, zp):
    # NaN/negative/zero scales gave NaN/negated/zero outputs; 1.5 was truncated; 2**31 overflowed int32.
    q = np.zeros((2, 3), np.int8)
    with pytest.raises(ValueError):
        convert.dequantize(q, scale, zp)
    with pytest.raises(ValueError):
        convert.from_nc1hwc2(np.zeros((1, 1, 2, 2, 16), np.int8), 4, float32=True, scale=scale, zero_point=zp)
