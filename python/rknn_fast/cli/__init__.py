"""Command line: ``rknn-fast info|bench|run|compare``.

One module per command (:mod:`.info`, :mod:`.bench`, :mod:`.run`, :mod:`.compare`), each
with ``add_parser(sub)`` and ``main(args) -> exit code``. Exit codes: 0 success, 1 a check
failed (``compare`` below ``--min-cosine``), 2 bad arguments or an unreadable input file,
3 the runtime could not open or run the model.
"""

from __future__ import annotations

import argparse
import sys
from typing import Optional, Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__
    from . import bench, compare, info, run

    parser = argparse.ArgumentParser(prog="rknn-fast", description="rknn_fast command line tools")
    parser.add_argument("--version", action="version", version=f"rknn-fast {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for mod in (info, bench, run, compare):
        mod.add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `rknn-fast info ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("rknn-fast: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
