"""The `fastredact` command line: a thin layer over the Python API.

Each subcommand lives in its own function and only parses arguments, calls the API and
prints; exit codes: 0 all ok, 1 some inputs failed, 2 usage or setup error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from fastredact import __version__

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2

DESCRIPTION = """\
Anonymize photos and videos before they are shared or used to train models:
find faces and licence plates and hide them, and strip identifying metadata
(EXIF, GPS, XMP, IPTC, thumbnails, trailers). Inputs are never modified; a file
that cannot be fully processed produces no output and an error line instead.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastredact",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"fastredact {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    handler = args.handler
    result: int = handler(args)
    return result
