"""``fastredact seal``: pack a run's originals into an archive encrypted to a recipient (age
format), verify it, and only with ``--delete-originals`` remove the originals."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fastredact.commands import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE

__all__ = ["register"]

DESCRIPTION = """\
Seal a run's originals: every input its manifest names (found under --originals and
checked against the manifest's SHA-256) goes into one tar archive encrypted to
--recipient (an age public key, age1...). The archive is decrypted again and every
member hashed against the manifest before it is renamed into place (mode 0600);
a seal record is appended to the manifest. Only with --delete-originals, and only
when all of that succeeded, are the originals removed, each after hashing it once
more. Decrypt later with age or rage: age -d -i KEY ARCHIVE | tar x

Exit codes: 0 sealed, 1 sealed but some originals not deleted, 2 nothing sealed.
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "seal",
        help="pack a run's originals into an encrypted, verified archive (age)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("manifest", type=Path, metavar="MANIFEST", help="the run's manifest")
    p.add_argument("--originals", type=Path, required=True, metavar="DIR",
                   help="the run's input folder (manifest paths are relative to it)")  # fmt: skip
    p.add_argument("--to", type=Path, required=True, metavar="ARCHIVE",
                   help="the archive to write, e.g. originals.tar.age")  # fmt: skip
    p.add_argument("--recipient", required=True, metavar="AGE_PUBLIC_KEY",
                   help="age public key (age1...) the archive is encrypted to")  # fmt: skip
    p.add_argument("--identity", type=Path, metavar="KEY_FILE",
                   help="the recipient's secret key file, to verify with it (default: a "
                   "one-off key made for the check and forgotten)")  # fmt: skip
    p.add_argument("--run", metavar="FINGERPRINT",
                   help="the run to seal, by its settings fingerprint (default: the last "
                   "run of the manifest)")  # fmt: skip
    p.add_argument("--delete-originals", action="store_true",
                   help="after the archive is verified, delete each original whose SHA-256 "
                   "is still the manifest's")  # fmt: skip
    p.set_defaults(handler=run_seal)


def _error(message: str) -> int:
    print(f"fastredact seal: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def run_seal(args: argparse.Namespace) -> int:
    from fastredact.errors import FastRedactError
    from fastredact.evaluate import manifest_runs
    from fastredact.retention import originals_of, seal_originals
    from fastredact.run._manifest import ManifestWriter

    if args.to.exists():
        return _error(f"{args.to} exists; seal writes a new archive, it never replaces one")
    try:
        identity = _identity(args.identity) if args.identity else None
        record, rows = manifest_runs(args.manifest, args.run)[-1]
        members = originals_of(rows, args.originals)
        result = seal_originals(
            members, args.to, args.recipient, identity=identity,
            delete_originals=args.delete_originals,
        )  # fmt: skip
        with ManifestWriter(args.manifest) as manifest:
            manifest.write(result.record(record))
    except (FastRedactError, ValueError) as exc:
        return _error(str(exc))
    print(
        f"sealed {result.members} originals ({result.bytes} bytes) into {args.to} "
        f"(verified with the {result.verified_with}); deleted {len(result.deleted)}"
    )
    for reason in result.kept:
        print(f"kept: {reason}", file=sys.stderr)
    return EXIT_SOME_FAILED if result.kept else EXIT_OK


def _identity(path: Path) -> str:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValueError(f"--identity {path}: {exc.strerror or exc}") from None
    keys = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-")]
    if not keys:
        raise ValueError(f"--identity {path}: no AGE-SECRET-KEY line")
    return keys[0]
