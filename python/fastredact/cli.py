"""The `fastredact` command line: a thin layer over the Python API.

Each subcommand lives in its own module under ``fastredact.commands`` and only parses
arguments, calls the API and prints; exit codes: 0 all ok, 1 some inputs failed, 2 usage or
setup error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from fastredact import __version__
from fastredact.commands import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from fastredact.commands import eval as eval_command
from fastredact.commands import manifest as manifest_command
from fastredact.commands import models as models_command
from fastredact.commands import profiles as profiles_command
from fastredact.commands import redact as redact_command
from fastredact.commands import retention as retention_command
from fastredact.commands import review as review_command
from fastredact.commands import seal as seal_command
from fastredact.commands import strip as strip_command
from fastredact.errors import FastRedactError

__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "build_parser", "main"]

# Subcommand modules, in the order `--help` lists them (see fastredact/commands/__init__.py).
COMMANDS: tuple[ModuleType, ...] = (
    redact_command,
    strip_command,
    eval_command,
    review_command,
    profiles_command,
    seal_command,
    retention_command,
    manifest_command,
    models_command,
)

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
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.handler(args)
    except FastRedactError as exc:
        # A setup error that stops the whole run (per-file errors are reported per file).
        print(f"fastredact: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("fastredact: interrupted", file=sys.stderr)
        return 130
    return result
