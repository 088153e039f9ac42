"""``fastredact manifest cat DIR``: a Ray run's manifest folder as JSON Lines."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fastredact.commands import EXIT_OK, EXIT_USAGE

__all__ = ["register"]

DESCRIPTION = """\
Print a manifest as JSON Lines: a `redact --engine ray` manifest folder (run
records and parquet parts) becomes the same lines a local run writes, so `eval`,
`seal` and `retention` read it (fastredact manifest cat DIR > run.jsonl). A JSON
Lines manifest is printed as it is.
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "manifest",
        help="print a manifest (a Ray run's folder of parquet parts) as JSON Lines",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="manifest_command", metavar="ACTION", required=True)
    cat = sub.add_parser("cat", help="print the manifest as JSON Lines", description=DESCRIPTION,
                         formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    cat.add_argument("manifest", type=Path, metavar="MANIFEST", help="a folder or a .jsonl file")
    cat.set_defaults(handler=run_cat)


def run_cat(args: argparse.Namespace) -> int:
    from fastredact.errors import FastRedactError

    path: Path = args.manifest
    if path.is_file():
        sys.stdout.write(path.read_text(encoding="utf-8"))
        return EXIT_OK
    if not (path / "rows").is_dir():
        print(f"fastredact manifest: error: {path}: not a manifest file or folder",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        from fastredact.ray._parts import ManifestFolder
    except ImportError:  # pragma: no cover - pyarrow missing
        print("fastredact manifest: error: needs pyarrow: pip install 'fastredact[ray]'",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        for line in ManifestFolder(path).jsonl():
            sys.stdout.write(line + "\n")
    except FastRedactError as exc:
        print(f"fastredact manifest: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK
