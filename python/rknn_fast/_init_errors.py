"""What :class:`rknn_fast.Model` says when ``rknn_init`` refuses a file.

The file is read with the package's own .rknn reader before ``rknn_init``. The reader's view
serves two purposes: the platform and toolkit version (for core-mask checks and the hints on
version or platform mismatches), and, for a file the reader rejects, its exact reason (not a
.rknn file, truncated, empty...), which replaces the runtime's generic "model invalid".
"""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Tuple

from . import _core
from .errors import RknnError, RuntimeNotFoundError, code_name, error_class


#: Reader reasons that settle it: the file is not a (whole) .rknn file, whatever the runtime.
_DEFINITE = ("not a .rknn file", "truncated .rknn file")


def read_summary(data: bytes) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The reader's view of the file and, when it cannot parse it, its reason (else None).

    A file the reader does not understand may still load in the runtime (a newer format, say),
    so the reason is only used if ``rknn_init`` fails too."""
    try:
        return _core.parse_rknn(data), None
    except Exception as e:  # noqa: BLE001 - any reader failure is a reason, never fatal here
        return None, str(e) or type(e).__name__


def _version_tuple(text: str) -> Tuple[int, ...]:
    m = re.match(r"\s*v?(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    if not m:
        return ()
    return tuple(int(g) for g in m.groups() if g is not None)


def explain_init_error(e: RknnError, summary: Optional[Dict[str, Any]], reader_error: Optional[str],
                       path: Optional[str]) -> RknnError:
    """Adds what the file says to an ``rknn_init`` failure: the reader's reason for a file it
    rejects, or the version/platform mismatch for one it reads."""
    if isinstance(e, RuntimeNotFoundError):
        return e  # no runtime was loaded: that is the problem to fix first
    cls = error_class(e.code) if e.code is not None else type(e)
    if summary is None and reader_error:
        if not reader_error.startswith(_DEFINITE):
            # Maybe a format this reader does not know: keep the runtime's words, add the reader's.
            return cls(f"{e} -- rknn_fast's .rknn reader: {reader_error}", api=e.api, code=e.code)
        where = f"{path}: " if path else ""
        code = f": {code_name(e.code)} ({e.code})" if e.code is not None else ""
        return cls(f"rknn_init failed{code}: {where}{reader_error}", api=e.api, code=e.code)
    hints = []
    if summary is not None:
        toolkit = summary.get("toolkit_version") or ""
        platform = summary.get("target_platform") or ""
        runtime_version = ""
        m = re.search(r"librknnrt version ([^)\s]+)", str(e))
        if m:
            runtime_version = m.group(1)
        tk, rt = _version_tuple(toolkit), _version_tuple(runtime_version)
        if tk and rt and tk[:2] > rt[:2]:
            hints.append(
                f"the model was converted by rknn-toolkit2 {toolkit}, newer than this librknnrt "
                f"{runtime_version}: install librknnrt >= {'.'.join(map(str, tk))} or convert the "
                "model with a toolkit matching the runtime")
        if e.code == -13 or (e.code in (-1, -6) and platform):
            hints.append(f"the model targets {platform or 'an unknown platform'}"
                         + (f" (toolkit {toolkit})" if toolkit else ""))
    if not hints:
        return e
    return cls(f"{e} -- " + "; ".join(hints), api=e.api, code=e.code)
