#!/usr/bin/env bash
# Installs rknn_fast with its test extras and runs the whole test suite (README command 2).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet ".[test]"
python3 -m pytest -q tests
