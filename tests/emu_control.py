"""ctypes access to the emulator's control function (docs/emulator.md): counters and faults.

The Model loads the same file, so dlopen returns the same library and state is shared.
"""

from __future__ import annotations

import ctypes
import json
from typing import Any, Dict

from rknn_fast.model import emulator_path


class Emulator:
    def __init__(self) -> None:
        self.lib = ctypes.CDLL(emulator_path())
        fn = self.lib.rknn_emulator_control
        fn.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint32]
        fn.restype = ctypes.c_int
        self._fn = fn

    def __call__(self, command: str) -> str:
        buf = ctypes.create_string_buffer(1 << 16)
        rc = self._fn(command.encode(), buf, len(buf))
        if rc < 0:  # >= 0 is the reply length
            raise RuntimeError(f"emulator control {command!r} failed ({rc}): {buf.value.decode()}")
        return buf.value.decode()

    def counters(self) -> Dict[str, Any]:
        return json.loads(self("counters"))  # type: ignore[no-any-return]

    def reset_counters(self) -> None:
        self("reset_counters")

    def fault(self, spec: str) -> None:
        self("fault " + spec)
