"""Control of the librknnrt emulator bundled with rknn_fast (for x86 hosts and CI).

Open any model with ``runtime="emulator"`` (or ``RKNN_FAST_RUNTIME=emulator``) and the
package's ``librknnrt_emulator.so`` stands in for the vendor runtime: same C ABI, outputs
replayed from a golden set beside the model (``model.golden``) when the input matches a
recorded one, deterministic synthetic outputs otherwise. This module reaches the
emulator's one extra exported function, ``rknn_emulator_control``, to read its counters,
set the emulated NPU time and inject faults. Settings and counters are per process and
shared by every model opened on the emulator. Full reference: docs/emulator.md.
"""

from __future__ import annotations

import ctypes
import json
import threading
from typing import Any, Dict, Optional

from .model import emulator_path

__all__ = [
    "library_path", "control", "counters", "reset_counters", "reset", "set_npu_time_us",
    "inject_fault", "clear_faults",
]

_lock = threading.Lock()
_control_fn: Optional[Any] = None


def library_path() -> str:
    """Absolute path of the bundled emulator shared library."""
    return emulator_path()


def _fn() -> Any:
    global _control_fn
    with _lock:
        if _control_fn is None:
            # dlopen of the same path returns the library the models already use, so the
            # state read here is the state they change.
            fn = ctypes.CDLL(emulator_path()).rknn_emulator_control
            fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
            fn.restype = ctypes.c_int
            _control_fn = fn
        return _control_fn


def control(command: str) -> str:
    """Send one text command (``"counters"``, ``"set npu_time_us=500"``, ``"fault run=2 code=-2"``,
    ``"help"``, ...) and return the emulator's reply. Raises ValueError if it refuses it."""
    if not isinstance(command, str):
        raise TypeError(f"expected a command string, got {type(command).__name__}")
    size = 1 << 16
    while True:
        buf = ctypes.create_string_buffer(size)
        rc = _fn()(command.encode(), buf, size)
        if rc < 0:
            raise ValueError(f"emulator refused {command!r} (code {rc}): {buf.value.decode(errors='replace')}")
        if rc < size:  # rc is the full reply length, as snprintf
            return buf.value.decode()
        size = rc + 1


def counters() -> Dict[str, Any]:
    """Call counts, bytes copied by ``rknn_inputs_set``/``rknn_outputs_get``, sync calls,
    golden vs synthetic runs and more (keys listed in docs/emulator.md)."""
    result: Dict[str, Any] = json.loads(control("counters"))
    return result


def reset_counters() -> None:
    """Zero every counter."""
    control("reset_counters")


def reset() -> None:
    """Zero counters, clear faults and re-read the ``RKNN_EMU_*`` environment."""
    control("reset")


def set_npu_time_us(microseconds: int) -> None:
    """Emulated NPU time of each run in µs (one queue per NPU core; default 0)."""
    if isinstance(microseconds, bool) or not isinstance(microseconds, int) or microseconds < 0:
        raise ValueError(f"expected a non-negative integer time in µs, got {microseconds!r}")
    control(f"set npu_time_us={int(microseconds)}")


def inject_fault(spec: str) -> None:
    """Arm a failure, e.g. ``"run=3 code=-2"`` (the third run from now fails with
    RKNN_ERR_TIMEOUT), ``"init code=-6"`` or ``"timeout ms=50"``."""
    control("fault " + spec)


def clear_faults() -> None:
    """Disarm every injected failure."""
    control("fault clear")
