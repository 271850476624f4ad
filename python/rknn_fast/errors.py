"""Exceptions raised by rknn_fast when the runtime (librknnrt) fails.

Every runtime failure is an :class:`RknnError` (a ``RuntimeError``), subclassed once per
``RKNN_ERR_*`` return code, and carries the code, its C name and the API call that failed::

    try:
        model = rknn_fast.Model("yolov8n.rknn")
    except rknn_fast.errors.RknnModelInvalidError as e:
        print(e.code, e.code_name, e.api)   # -6 RKNN_ERR_MODEL_INVALID rknn_init

:func:`error_for_code` is the one place that maps a return code to an exception. Argument
problems are ``ValueError``/``TypeError``, never :class:`RknnError`.
"""

from __future__ import annotations

from typing import Dict, Optional, Type


class RknnError(RuntimeError):
    """A librknnrt call failed (or the runtime could not be used at all).

    Attributes:
        code: the negative ``RKNN_ERR_*`` value, or ``None`` for failures that are not a
            return code (library not found, function missing from an old runtime).
        code_name: the C name of ``code`` (``"RKNN_ERR_MODEL_INVALID"``) or ``None``.
        api: the C function that failed (``"rknn_init"``), or ``None``.
    """

    code: Optional[int] = None
    code_name: Optional[str] = None
    #: Why this code usually happens and what to do about it ("" when nothing useful is known).
    explanation: str = ""

    def __init__(self, message: str, *, api: Optional[str] = None, code: Optional[int] = None):
        super().__init__(message)
        self.api = api
        if code is not None:
            self.code = code


class RknnFailError(RknnError):
    code, code_name = -1, "RKNN_ERR_FAIL"
    explanation = (
        "generic failure; on a host without an NPU (no /dev/rknpu or /dev/dri/card*) "
        "rknn_init fails with this code: use runtime='emulator' there"
    )


class RknnTimeoutError(RknnError):
    code, code_name = -2, "RKNN_ERR_TIMEOUT"
    explanation = "the NPU did not finish in time (driver hang or a too short timeout)"


class RknnDeviceUnavailableError(RknnError):
    code, code_name = -3, "RKNN_ERR_DEVICE_UNAVAILABLE"
    explanation = "the NPU device could not be opened (driver not loaded, or no permission on /dev/rknpu)"


class RknnMallocFailError(RknnError):
    code, code_name = -4, "RKNN_ERR_MALLOC_FAIL"
    explanation = "the runtime could not allocate memory (CMA/DMA heap exhausted?)"


class RknnParamInvalidError(RknnError):
    code, code_name = -5, "RKNN_ERR_PARAM_INVALID"
    explanation = "the runtime rejected an argument"


class RknnModelInvalidError(RknnError):
    code, code_name = -6, "RKNN_ERR_MODEL_INVALID"
    explanation = (
        "the runtime could not load this model: it is not a .rknn file, is corrupted, or was "
        "converted by an rknn-toolkit2 newer than this librknnrt (update librknnrt to at least "
        "the toolkit version that converted the model, or convert with a matching toolkit)"
    )


class RknnCtxInvalidError(RknnError):
    code, code_name = -7, "RKNN_ERR_CTX_INVALID"
    explanation = "the context is invalid (already destroyed?)"


class RknnInputInvalidError(RknnError):
    code, code_name = -8, "RKNN_ERR_INPUT_INVALID"
    explanation = "the runtime rejected an input (size, type or layout does not match the model)"


class RknnOutputInvalidError(RknnError):
    code, code_name = -9, "RKNN_ERR_OUTPUT_INVALID"
    explanation = "the runtime rejected an output buffer"


class RknnDeviceUnmatchError(RknnError):
    code, code_name = -10, "RKNN_ERR_DEVICE_UNMATCH"
    explanation = (
        "librknnrt and the NPU kernel driver do not match: update the runtime and the "
        "NPU driver/firmware together"
    )


class RknnIncompatiblePreCompileModelError(RknnError):
    code, code_name = -11, "RKNN_ERR_INCOMPATILE_PRE_COMPILE_MODEL"
    explanation = "the pre-compiled model does not match this NPU driver: convert it again"


class RknnIncompatibleOptimizationLevelError(RknnError):
    code, code_name = -12, "RKNN_ERR_INCOMPATILE_OPTIMIZATION_LEVEL_VERSION"
    explanation = "the model's optimisation level does not match this NPU driver: convert it again"


class RknnTargetPlatformUnmatchError(RknnError):
    code, code_name = -13, "RKNN_ERR_TARGET_PLATFORM_UNMATCH"
    explanation = (
        "the model was converted for another chip: convert it with target_platform set to "
        "this board's SoC (see `rknn-fast info model.rknn` for the model's platform)"
    )


class RuntimeNotFoundError(RknnError, OSError):
    """librknnrt could not be loaded (not installed, wrong architecture, or a symbol missing)."""


class RuntimeTooOldError(RknnError):
    """The loaded librknnrt lacks a function this feature needs ("needs librknnrt >= X")."""


class ModelClosedError(RknnError, ValueError):
    """The Model (or RKNNLite context) was used after close()/release()."""


class EmulatorWarning(UserWarning):
    """A run on the emulator returned synthetic outputs: no recorded input of the model's golden
    set matched, so the outputs are deterministic values derived from the input bytes, not what
    the model computes. Issued once per Model. Silence it where synthetic outputs are expected
    (``warnings.simplefilter("ignore", rknn_fast.EmulatorWarning)``)."""


_BY_CODE: Dict[int, Type[RknnError]] = {
    cls.code: cls
    for cls in (
        RknnFailError,
        RknnTimeoutError,
        RknnDeviceUnavailableError,
        RknnMallocFailError,
        RknnParamInvalidError,
        RknnModelInvalidError,
        RknnCtxInvalidError,
        RknnInputInvalidError,
        RknnOutputInvalidError,
        RknnDeviceUnmatchError,
        RknnIncompatiblePreCompileModelError,
        RknnIncompatibleOptimizationLevelError,
        RknnTargetPlatformUnmatchError,
    )
}


def error_class(code: int) -> Type[RknnError]:
    """The exception class for an ``RKNN_ERR_*`` code (plain :class:`RknnError` if unknown)."""
    return _BY_CODE.get(code, RknnError)


def code_name(code: int) -> str:
    """The C name of a return code, e.g. ``-6 -> "RKNN_ERR_MODEL_INVALID"``."""
    if code == 0:
        return "RKNN_SUCC"
    cls = _BY_CODE.get(code)
    return cls.code_name if cls is not None and cls.code_name else f"unknown error {code}"


def error_for_code(code: int, api: str, detail: str = "") -> RknnError:
    """Builds (does not raise) the exception for ``api`` having returned ``code``.

    The message reads ``"rknn_init failed: RKNN_ERR_MODEL_INVALID (-6): <explanation>"``
    followed by ``detail`` (e.g. the model's toolkit version against the runtime's).
    """
    cls = error_class(code)
    msg = f"{api} failed: {code_name(code)} ({code})"
    if cls.explanation:
        msg += f": {cls.explanation}"
    if detail:
        msg += f" [{detail}]"
    return cls(msg, api=api, code=code)


__all__ = [
    "RknnError",
    "RuntimeNotFoundError",
    "RuntimeTooOldError",
    "ModelClosedError",
    "EmulatorWarning",
    "error_class",
    "error_for_code",
    "code_name",
] + [cls.__name__ for cls in _BY_CODE.values()]
