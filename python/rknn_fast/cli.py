"""Command line: ``rknn-fast info model.rknn [--runtime PATH|emulator] [--json]``.

``info`` reads the file alone (no runtime needed): target platform, toolkit and compiler
versions, inputs and outputs (shape, layout, dtype, quantisation, native layout). With
``--runtime`` it also opens the model in that runtime and adds the runtime's versions, memory
sizes, custom string and the native attributes it reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Sequence

from .errors import RknnError
from .info import ModelInfo, TensorInfo


def _inspect(path: str) -> ModelInfo:
    from . import inspect as _inspect_mod  # the .rknn reader's public entry point

    fn = getattr(_inspect_mod, "inspect", _inspect_mod)
    return fn(path)


def _fmt_shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(int(d)) for d in shape) + ")"


def _tensor_line(t: TensorInfo) -> str:
    q = f" scale={t.scale:.6g} zp={t.zero_point}" if t.qnt_type != "none" else ""
    native = f"  native {t.native_layout} {_fmt_shape(t.native_shape)}" if t.native_shape else ""
    return f"  [{t.index}] {t.name}: {t.dtype} {t.layout} {_fmt_shape(t.shape)}{q}{native}"


def _runtime_section(path: str, runtime: str) -> Dict[str, Any]:
    from .model import Model

    with Model(path, runtime=runtime) as m:
        attrs = m.native_attrs()
        return {
            "runtime_path": m.runtime_path,
            "runtime_version": m.runtime_version,
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
    return (f"{fmts.get(a['fmt'], a['fmt'])} {_fmt_shape(a['dims'])} type={a['type']} size={a['size']} "
            f"size_with_stride={a['size_with_stride']} w_stride={a['w_stride']}")


def cmd_info(args: argparse.Namespace) -> int:
    try:
        info = _inspect(args.model)
    except OSError as e:  # missing, a directory, unreadable
        print(f"rknn-fast: {e}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as e:
        print(f"rknn-fast: cannot read {args.model}: {e}", file=sys.stderr)
        return 2
    rt: Optional[Dict[str, Any]] = None
    if args.runtime:
        try:
            rt = _runtime_section(args.model, args.runtime)
        except (RknnError, OSError, ValueError) as e:
            print(f"rknn-fast: runtime {args.runtime!r}: {e}", file=sys.stderr)
            return 3
    if args.json:
        doc: Dict[str, Any] = {"file": asdict(info)}
        if rt is not None:
            doc["runtime"] = rt
        print(json.dumps(doc, indent=2, default=list))
        return 0
    lines: List[str] = [
        f"model:     {args.model}",
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
    if rt is not None:
        lines += [
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
    print("\n".join(lines))
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="rknn-fast", description="rknn_fast command line tools")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="describe a .rknn model (no runtime needed)")
    p.add_argument("model", help="path of the .rknn file")
    p.add_argument("--runtime", metavar="PATH|emulator",
                   help="also open the model in this librknnrt and report what it says")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `rknn-fast info ... | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
