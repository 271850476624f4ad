"""Type stubs of the private extension module (use the rknn_fast package instead)."""

from typing import Any, Dict, Union

_BytesLike = Union[bytes, bytearray, memoryview, Any]  # any C-contiguous buffer of single bytes

# .rknn reader (cpp/bindings/bind_format.cpp)
def parse_rknn(data: _BytesLike) -> Dict[str, Any]: ...
def element_size(rknn_type: int) -> int: ...

# ABI layout of cpp/abi/rknn_abi.h in this build (cpp/bindings/bind_abi.cpp)
def _abi_layout() -> Dict[str, Any]: ...
