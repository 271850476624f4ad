"""Test-side access to the emulator: a thin object over the public rknn_fast.emulator module."""

from __future__ import annotations

from typing import Any, Dict

from rknn_fast import emulator


class Emulator:
    def __call__(self, command: str) -> str:
        return emulator.control(command)

    def counters(self) -> Dict[str, Any]:
        return emulator.counters()

    def reset_counters(self) -> None:
        emulator.reset_counters()

    def fault(self, spec: str) -> None:
        emulator.inject_fault(spec)
