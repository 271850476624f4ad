"""An RKNNLite-style inference loop written with ctypes, as the baseline for bench_runtime.py.

It does per call what ../shared/rknn/RKNNLITE_API.md traces RKNNLite doing against
librknnrt: query IN_OUT_NUM and INPUT_ATTR per input, rknn_inputs_set (pass_through 0, type
from the array dtype, fmt from the attr), rknn_run, query IN_OUT_NUM and OUTPUT_ATTR per
output, rknn_outputs_get(want_float=1, is_prealloc=0), copy each output into a new numpy
array, rknn_outputs_release. Struct layouts are the 64-bit ones of API_FACTS.md §4.1.
"""

from __future__ import annotations

import ctypes
from typing import List

import numpy as np

RKNN_QUERY_IN_OUT_NUM = 0
RKNN_QUERY_INPUT_ATTR = 1
RKNN_QUERY_OUTPUT_ATTR = 2
_FLAG_PRIOR_MEDIUM = 1
_TYPES = {np.dtype(np.float32): 0, np.dtype(np.float16): 1, np.dtype(np.int8): 2, np.dtype(np.uint8): 3}


class InOutNum(ctypes.Structure):
    _fields_ = [("n_input", ctypes.c_uint32), ("n_output", ctypes.c_uint32)]


class TensorAttr(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("n_dims", ctypes.c_uint32),
        ("dims", ctypes.c_uint32 * 16),
        ("name", ctypes.c_char * 256),
        ("n_elems", ctypes.c_uint32),
        ("size", ctypes.c_uint32),
        ("fmt", ctypes.c_int),
        ("type", ctypes.c_int),
        ("qnt_type", ctypes.c_int),
        ("fl", ctypes.c_int8),
        ("zp", ctypes.c_int32),
        ("scale", ctypes.c_float),
        ("w_stride", ctypes.c_uint32),
        ("size_with_stride", ctypes.c_uint32),
        ("pass_through", ctypes.c_uint8),
        ("h_stride", ctypes.c_uint32),
    ]


class Input(ctypes.Structure):
    _fields_ = [
        ("index", ctypes.c_uint32),
        ("buf", ctypes.c_void_p),
        ("size", ctypes.c_uint32),
        ("pass_through", ctypes.c_uint8),
        ("type", ctypes.c_int),
        ("fmt", ctypes.c_int),
    ]


class Output(ctypes.Structure):
    _fields_ = [
        ("want_float", ctypes.c_uint8),
        ("is_prealloc", ctypes.c_uint8),
        ("index", ctypes.c_uint32),
        ("buf", ctypes.c_void_p),
        ("size", ctypes.c_uint32),
    ]


assert ctypes.sizeof(TensorAttr) == 376 and ctypes.sizeof(Input) == 32 and ctypes.sizeof(Output) == 24


class LiteStyleRunner:
    """One context, driven the way RKNNLite drives it."""

    def __init__(self, lib_path: str, model: bytes) -> None:
        self.lib = ctypes.CDLL(lib_path)
        self.ctx = ctypes.c_uint64(0)
        self._model = ctypes.create_string_buffer(model, len(model))
        rc = self.lib.rknn_init(ctypes.byref(self.ctx), self._model, ctypes.c_uint32(len(model)),
                                ctypes.c_uint32(_FLAG_PRIOR_MEDIUM), None)
        if rc != 0:
            raise RuntimeError(f"rknn_init failed: {rc}")
        self.lib.rknn_query.argtypes = [ctypes.c_uint64, ctypes.c_int, ctypes.c_void_p, ctypes.c_uint32]
        self.lib.rknn_inputs_set.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
        self.lib.rknn_run.argtypes = [ctypes.c_uint64, ctypes.c_void_p]
        self.lib.rknn_outputs_get.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_void_p]
        self.lib.rknn_outputs_release.argtypes = [ctypes.c_uint64, ctypes.c_uint32, ctypes.c_void_p]
        self.lib.rknn_destroy.argtypes = [ctypes.c_uint64]

    def _query(self, cmd: int, obj: ctypes.Structure) -> None:
        rc = self.lib.rknn_query(self.ctx, cmd, ctypes.byref(obj), ctypes.sizeof(obj))
        if rc != 0:
            raise RuntimeError(f"rknn_query({cmd}) failed: {rc}")

    def inference(self, inputs: List[np.ndarray]) -> List[np.ndarray]:
        io = InOutNum()
        self._query(RKNN_QUERY_IN_OUT_NUM, io)
        ins = (Input * io.n_input)()
        for i in range(io.n_input):
            attr = TensorAttr(index=i)
            self._query(RKNN_QUERY_INPUT_ATTR, attr)
            a = np.ascontiguousarray(inputs[i])
            ins[i].index = i
            ins[i].buf = a.ctypes.data
            ins[i].size = a.nbytes
            ins[i].pass_through = 0
            ins[i].type = _TYPES[a.dtype]
            ins[i].fmt = attr.fmt
        if self.lib.rknn_inputs_set(self.ctx, io.n_input, ins) != 0:
            raise RuntimeError("rknn_inputs_set failed")
        if self.lib.rknn_run(self.ctx, None) != 0:
            raise RuntimeError("rknn_run failed")
        self._query(RKNN_QUERY_IN_OUT_NUM, io)
        attrs = []
        for i in range(io.n_output):
            attr = TensorAttr(index=i)
            self._query(RKNN_QUERY_OUTPUT_ATTR, attr)
            attrs.append(attr)
        outs = (Output * io.n_output)()
        for i in range(io.n_output):
            outs[i].index = i
            outs[i].want_float = 1
            outs[i].is_prealloc = 0
        if self.lib.rknn_outputs_get(self.ctx, io.n_output, outs, None) != 0:
            raise RuntimeError("rknn_outputs_get failed")
        result = []
        for i, attr in enumerate(attrs):
            n = attr.n_elems
            buf = (ctypes.c_float * n).from_address(outs[i].buf)
            shape = tuple(attr.dims[k] for k in range(attr.n_dims))
            result.append(np.array(buf, dtype=np.float32).reshape(shape))  # the copy RKNNLite makes
        self.lib.rknn_outputs_release(self.ctx, io.n_output, outs)
        return result

    def close(self) -> None:
        if self.ctx.value:
            self.lib.rknn_destroy(self.ctx)
            self.ctx = ctypes.c_uint64(0)
