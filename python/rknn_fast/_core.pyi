# Typed stubs of the private extension module (see cpp/bindings/).
from typing import Any

def _abi_layout() -> dict[str, Any]: ...
