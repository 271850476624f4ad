#!/usr/bin/env bash
# Create (or complete) the virtual environment that runs tools/make_fixtures.py.
#
# The venv lives OUTSIDE the repository (default /opt/rknn-venv, override with
# RKNN_VENV=/some/path). It holds rknn-toolkit2 2.5.0, which is installed with
# --no-deps because its declared pins (old torch, onnx, ...) do not resolve on
# Python 3.11; the dependencies it really imports are installed explicitly below.
# Running the script again is safe: pip skips what is already satisfied.
set -euo pipefail

VENV="${RKNN_VENV:-/opt/rknn-venv}"
PY="${PYTHON:-python3.11}"

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install -q)

"${PIP[@]}" --upgrade pip 'setuptools<81' wheel
"${PIP[@]}" --no-deps rknn-toolkit2==2.5.0
# torch: a CPU wheel of 2.13.0 is expected in pip's find-links (e.g. /opt/wheels)
# or on the configured index.
"${PIP[@]}" torch==2.13.0
"${PIP[@]}" \
    'numpy<=1.26.4' 'onnx<=1.18' onnxruntime 'protobuf<=4.25.4' 'setuptools<81' \
    psutil ruamel.yaml scipy tqdm opencv-python-headless fast-histogram scikit-image \
    pooch tflite
# Re-assert the numpy pin in case a later package pulled a newer one.
"${PIP[@]}" 'numpy<=1.26.4'

"$VENV/bin/python" - <<'PY'
from rknn.api import RKNN  # noqa: F401  (fails loudly if a dependency is missing)
import importlib.metadata, numpy, onnx, torch
print("rknn-toolkit2 ready:", importlib.metadata.version("rknn-toolkit2"),
      "numpy", numpy.__version__, "onnx", onnx.__version__, "torch", torch.__version__)
PY
