"""``fastredact retention``: runs whose originals are past their retention date."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

from fastredact.commands import EXIT_OK, EXIT_USAGE

__all__ = ["register"]

DESCRIPTION = """\
List the runs of the manifests with the date until which their originals may be
kept (the run record's retention_until, from --retention-days or the profile), how
many originals the run had, and whether they were sealed or deleted since
(`fastredact seal`). Runs past their date whose originals are not all deleted are
marked DUE. Nothing is deleted: deleting is `fastredact seal --delete-originals`.

Exit codes: 0 listed (due or not), 2 a manifest cannot be read.
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "retention",
        help="list runs whose originals are past their retention date",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("manifests", nargs="+", type=Path, metavar="MANIFEST")
    p.add_argument("--today", type=datetime.date.fromisoformat, metavar="YYYY-MM-DD",
                   help="the date to compare with (default: today, UTC)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="one JSON object per run")
    p.set_defaults(handler=run_retention)


def run_retention(args: argparse.Namespace) -> int:
    from fastredact.errors import FastRedactError
    from fastredact.retention import runs_retention

    today = args.today or datetime.datetime.now(datetime.timezone.utc).date()
    missing = [m for m in args.manifests if not m.is_file()]
    if missing:
        print(f"fastredact retention: error: {missing[0]}: no such manifest", file=sys.stderr)
        return EXIT_USAGE
    try:
        runs = runs_retention(args.manifests)
    except FastRedactError as exc:
        print(f"fastredact retention: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for run in runs:
        if args.json:
            print(json.dumps(run.as_dict(today)))
            continue
        state = "DUE" if run.due(today) else "ok "
        print(
            f"{state} {run.manifest} run {run.fingerprint} started {run.started} "
            f"profile {run.profile or '-'} keep until {run.retention_until or '-'}: "
            f"{run.originals} originals, {run.sealed} seal(s), {run.deleted} deleted"
        )
    return EXIT_OK
