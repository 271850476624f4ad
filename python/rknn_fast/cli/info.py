"""``rknn-fast info model.rknn [--runtime PATH|emulator] [--json]``.

``info`` reads the file alone (no runtime needed): target platform, toolkit and compiler
versions, inputs and outputs (shape, layout, dtype, quantisation, native layout). With
``--runtime`` it also opens the model in that runtime and adds the runtime's versions, memory
sizes, custom string and the native attributes it reports. When the runtime cannot open the
model the file's details are still printed, the failure is reported and the exit code is 3.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence

from ..errors import RknnError
from ..info import _DTYPE_NAMES, ModelInfo, TensorInfo
from ._common import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, error, reason


def add_parser(sub: Any) -> None:
    p = sub.add_parser("info", help="describe a .rknn model (no runtime needed)",
                       description="Describe a .rknn model from the file alone; --runtime also opens it.")
    p.add_argument("model", help="path of the .rknn file")
    p.add_argument("--runtime", metavar="PATH|emulator",
                   help="also open the model in this librknnrt and report what it says")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=main)


def _inspect(path: str) -> ModelInfo:
    from ..info import inspect

    return inspect(path)


def _fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


def _tensor_line(t: TensorInfo) -> str:
    q = f" scale={t.scale:.6g} zp={t.zero_point}" if t.qnt_type != "none" else ""
    native = f"  native {t.native_layout} {_fmt_shape(t.native_shape)}" if t.native_shape else ""
    return f"  [{t.index}] {t.name}: {t.dtype} {t.layout} {_fmt_shape(t.shape)}{q}{native}"


def runtime_section(path: str, runtime: str) -> Dict[str, Any]:
    """What the runtime says about the model (opens and closes it)."""
    from ..model import Model

    with Model(path, runtime=runtime) as m:
        attrs = m.native_attrs()
        return {
            "runtime_path": m.runtime_path,
            # The version string embedded in the library; the API version when it has none.
            "runtime_version": m.runtime_version or m.sdk_version.api,
            "api_version": m.sdk_version.api,
            "driver_version": m.sdk_version.driver,
            "is_emulator": m.is_emulator,
            "optional_functions": m.runtime_functions,
            "mem_size": m.mem_size,
            "custom_string": m.custom_string,
            "inputs": [asdict(t) for t in m.inputs],
            "outputs": [asdict(t) for t in m.outputs],
            "native_attrs": attrs,
        }


def _attr_line(a: Dict[str, Any]) -> str:
    fmts = {0: "NCHW", 1: "NHWC", 2: "NC1HWC2", 3: "UNDEFINED"}
    dtype = _DTYPE_NAMES.get(a["type"], f"type={a['type']}")
    return (f"{fmts.get(a['fmt'], a['fmt'])} {_fmt_shape(a['dims'])} {dtype} size={a['size']} "
            f"size_with_stride={a['size_with_stride']} w_stride={a['w_stride']}")


def _file_lines(path: str, info: ModelInfo) -> List[str]:
    lines: List[str] = [
        f"model:     {path}",
        f"platform:  {info.target_platform}" + (f" (also {', '.join(info.target_platforms)})"
                                                if len(info.target_platforms) > 1 else ""),
        f"toolkit:   {info.toolkit_version or '?'}",
        f"compiler:  {info.compiler_version or '?'}",
        f"format:    {info.file_format} {info.model_format or ''}".rstrip(),
    ]
    if info.source_framework:
        lines.append(f"source:    {info.source_framework}")
    if not info.complete:
        lines.append("note:      summary-only file: native shapes and quantisation unknown")
    lines.append("inputs:")
    lines += [_tensor_line(t) for t in info.inputs]
    lines.append("outputs:")
    lines += [_tensor_line(t) for t in info.outputs]
    return lines


def _runtime_lines(rt: Dict[str, Any]) -> List[str]:
    lines = [
        f"runtime:   {rt['runtime_path']}" + (" (emulator)" if rt["is_emulator"] else ""),
        f"  librknnrt version: {rt['runtime_version'] or '?'}",
        f"  api: {rt['api_version']}  driver: {rt['driver_version']}",
        "  optional functions: " + ", ".join(k for k, v in rt["optional_functions"].items() if v),
    ]
    if rt["mem_size"]:
        ms = rt["mem_size"]
        lines.append(f"  memory: weights {ms['total_weight_size']} B, internal {ms['total_internal_size']} B, "
                     f"dma {ms['total_dma_allocated_size']} B")
    if rt["custom_string"]:
        lines.append(f"  custom string: {rt['custom_string']}")
    for side in ("input", "output"):
        for kind in ("native", "native_nhwc"):
            for a in rt["native_attrs"][f"{side}_{kind}"]:
                lines.append(f"  {side} {a['index']} {kind}: {_attr_line(a)}")
    return lines


def main(args: argparse.Namespace) -> int:
    try:
        info = _inspect(args.model)
    except OSError as e:  # missing, a directory, unreadable
        error(f"cannot read {args.model}: {reason(e, args.model)}")
        return EXIT_USAGE
    except (ValueError, RuntimeError) as e:
        error(f"cannot read {args.model}: {reason(e, args.model)}")
        return EXIT_USAGE
    rt: Optional[Dict[str, Any]] = None
    rt_error: Optional[str] = None
    if args.runtime:
        try:
            rt = runtime_section(args.model, args.runtime)
        except (RknnError, OSError, ValueError) as e:
            rt_error = reason(e, args.model)
    if args.json:
        doc: Dict[str, Any] = {"file": asdict(info)}
        if rt is not None:
            doc["runtime"] = rt
        if rt_error is not None:
            doc["runtime_error"] = rt_error
        print(json.dumps(doc, indent=2, default=list))
    else:
        lines = _file_lines(args.model, info)
        if rt is not None:
            lines += _runtime_lines(rt)
        print("\n".join(lines))
    sys.stdout.flush()
    if rt_error is not None:
        error(f"runtime {args.runtime!r} cannot open the model: {rt_error}")
        return EXIT_RUNTIME
    return EXIT_OK
