"""ctypes mirrors of the librknnrt C ABI (cpp/abi/rknn_abi.h) for driving a runtime library
(our emulator) directly from tests. Layouts are checked against tests/data/rknn_abi.json by
tests/test_emulator.py::test_ctypes_mirrors_match_abi_json."""

from __future__ import annotations

import ctypes as C
import json
from pathlib import Path

import numpy as np

ABI = json.loads((Path(__file__).resolve().parent / "data" / "rknn_abi.json").read_text())
K = ABI["targets"]["x86_64"]["constants"]  # constants are identical on every target
globals().update(K)  # RKNN_SUCC, RKNN_ERR_*, RKNN_QUERY_*, RKNN_TENSOR_*, ...

rknn_context = C.c_uint64 if C.sizeof(C.c_void_p) == 8 else C.c_uint32
MAX_DIMS = K["RKNN_MAX_DIMS"]
NAME_LEN = K["RKNN_MAX_NAME_LEN"]


class rknn_input_output_num(C.Structure):
    _fields_ = [("n_input", C.c_uint32), ("n_output", C.c_uint32)]


class rknn_tensor_attr(C.Structure):
    _fields_ = [
        ("index", C.c_uint32), ("n_dims", C.c_uint32), ("dims", C.c_uint32 * MAX_DIMS),
        ("name", C.c_char * NAME_LEN), ("n_elems", C.c_uint32), ("size", C.c_uint32),
        ("fmt", C.c_int), ("type", C.c_int), ("qnt_type", C.c_int), ("fl", C.c_int8),
        ("zp", C.c_int32), ("scale", C.c_float), ("w_stride", C.c_uint32),
        ("size_with_stride", C.c_uint32), ("pass_through", C.c_uint8), ("h_stride", C.c_uint32),
    ]

    def shape(self) -> list[int]:
        return [self.dims[i] for i in range(self.n_dims)]


class rknn_input_range(C.Structure):
    _fields_ = [
        ("index", C.c_uint32), ("shape_number", C.c_uint32), ("fmt", C.c_int),
        ("name", C.c_char * NAME_LEN),
        ("dyn_range", (C.c_uint32 * MAX_DIMS) * K["RKNN_MAX_DYNAMIC_SHAPE_NUM"]),
        ("n_dims", C.c_uint32),
    ]


class rknn_perf_detail(C.Structure):
    _fields_ = [("perf_data", C.c_char_p), ("data_len", C.c_uint64)]


class rknn_perf_run(C.Structure):
    _fields_ = [("run_duration", C.c_int64)]


class rknn_sdk_version(C.Structure):
    _fields_ = [("api_version", C.c_char * 256), ("drv_version", C.c_char * 256)]


class rknn_mem_size(C.Structure):
    _fields_ = [
        ("total_weight_size", C.c_uint32), ("total_internal_size", C.c_uint32),
        ("total_dma_allocated_size", C.c_uint64), ("total_sram_size", C.c_uint32),
        ("free_sram_size", C.c_uint32), ("reserved", C.c_uint32 * 10),
    ]


class rknn_custom_string(C.Structure):
    _fields_ = [("string", C.c_char * 1024)]


class rknn_tensor_mem(C.Structure):
    _fields_ = [
        ("virt_addr", C.c_void_p), ("phys_addr", C.c_uint64), ("fd", C.c_int32),
        ("offset", C.c_int32), ("size", C.c_uint32), ("flags", C.c_uint32),
        ("priv_data", C.c_void_p),
    ]


class rknn_input(C.Structure):
    _fields_ = [
        ("index", C.c_uint32), ("buf", C.c_void_p), ("size", C.c_uint32),
        ("pass_through", C.c_uint8), ("type", C.c_int), ("fmt", C.c_int),
    ]


class rknn_output(C.Structure):
    _fields_ = [
        ("want_float", C.c_uint8), ("is_prealloc", C.c_uint8), ("index", C.c_uint32),
        ("buf", C.c_void_p), ("size", C.c_uint32),
    ]


class rknn_init_extend(C.Structure):
    _fields_ = [
        ("ctx", rknn_context), ("real_model_offset", C.c_int32), ("real_model_size", C.c_uint32),
        ("model_buffer_fd", C.c_int32), ("model_buffer_flags", C.c_uint32),
        ("reserved", C.c_uint8 * 112),
    ]


class rknn_run_extend(C.Structure):
    _fields_ = [
        ("frame_id", C.c_uint64), ("non_block", C.c_int32), ("timeout_ms", C.c_int32),
        ("fence_fd", C.c_int32),
    ]


class rknn_output_extend(C.Structure):
    _fields_ = [("frame_id", C.c_uint64)]


STRUCTS = {
    cls.__name__: cls
    for cls in (
        rknn_input_output_num, rknn_tensor_attr, rknn_input_range, rknn_perf_detail,
        rknn_perf_run, rknn_sdk_version, rknn_mem_size, rknn_custom_string, rknn_tensor_mem,
        rknn_input, rknn_output, rknn_init_extend, rknn_run_extend, rknn_output_extend,
    )
}

P = C.POINTER
_SIGNATURES = {
    "rknn_init": (C.c_int, [P(rknn_context), C.c_void_p, C.c_uint32, C.c_uint32, P(rknn_init_extend)]),
    "rknn_dup_context": (C.c_int, [P(rknn_context), P(rknn_context)]),
    "rknn_destroy": (C.c_int, [rknn_context]),
    "rknn_query": (C.c_int, [rknn_context, C.c_int, C.c_void_p, C.c_uint32]),
    "rknn_inputs_set": (C.c_int, [rknn_context, C.c_uint32, P(rknn_input)]),
    "rknn_set_batch_core_num": (C.c_int, [rknn_context, C.c_int]),
    "rknn_set_core_mask": (C.c_int, [rknn_context, C.c_int]),
    "rknn_run": (C.c_int, [rknn_context, P(rknn_run_extend)]),
    "rknn_wait": (C.c_int, [rknn_context, P(rknn_run_extend)]),
    "rknn_outputs_get": (C.c_int, [rknn_context, C.c_uint32, P(rknn_output), P(rknn_output_extend)]),
    "rknn_outputs_release": (C.c_int, [rknn_context, C.c_uint32, P(rknn_output)]),
    "rknn_create_mem_from_phys": (P(rknn_tensor_mem), [rknn_context, C.c_uint64, C.c_void_p, C.c_uint32]),
    "rknn_create_mem_from_fd": (P(rknn_tensor_mem), [rknn_context, C.c_int32, C.c_void_p, C.c_uint32, C.c_int32]),
    "rknn_create_mem": (P(rknn_tensor_mem), [rknn_context, C.c_uint32]),
    "rknn_create_mem2": (P(rknn_tensor_mem), [rknn_context, C.c_uint64, C.c_uint64]),
    "rknn_destroy_mem": (C.c_int, [rknn_context, P(rknn_tensor_mem)]),
    "rknn_set_weight_mem": (C.c_int, [rknn_context, P(rknn_tensor_mem)]),
    "rknn_set_internal_mem": (C.c_int, [rknn_context, P(rknn_tensor_mem)]),
    "rknn_set_io_mem": (C.c_int, [rknn_context, P(rknn_tensor_mem), P(rknn_tensor_attr)]),
    "rknn_set_input_shape": (C.c_int, [rknn_context, P(rknn_tensor_attr)]),
    "rknn_set_input_shapes": (C.c_int, [rknn_context, C.c_uint32, P(rknn_tensor_attr)]),
    "rknn_mem_sync": (C.c_int, [rknn_context, P(rknn_tensor_mem), C.c_int]),
    "rknn_emulator_control": (C.c_int, [C.c_char_p, C.c_char_p, C.c_uint32]),
}
API_FUNCTIONS = [name for name in _SIGNATURES if name != "rknn_emulator_control"]


def load(path: str | Path) -> C.CDLL:
    """Loads a runtime library and declares every function's signature."""
    lib = C.CDLL(str(path))
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


def control(lib: C.CDLL, command: str) -> str:
    """Runs an emulator control command; raises RuntimeError when it is refused."""
    reply = C.create_string_buffer(1 << 16)
    rc = lib.rknn_emulator_control(command.encode(), reply, len(reply))
    if rc < 0:
        raise RuntimeError(f"{command!r}: {rc} {reply.value.decode()}")
    return reply.value.decode()


def counters(lib: C.CDLL) -> dict:
    return json.loads(control(lib, "counters"))


NP_DTYPES = {
    K["RKNN_TENSOR_FLOAT32"]: np.float32, K["RKNN_TENSOR_FLOAT16"]: np.float16,
    K["RKNN_TENSOR_INT8"]: np.int8, K["RKNN_TENSOR_UINT8"]: np.uint8,
    K["RKNN_TENSOR_INT16"]: np.int16, K["RKNN_TENSOR_UINT16"]: np.uint16,
    K["RKNN_TENSOR_INT32"]: np.int32, K["RKNN_TENSOR_UINT32"]: np.uint32,
    K["RKNN_TENSOR_INT64"]: np.int64, K["RKNN_TENSOR_BOOL"]: np.bool_,
}
