"""``fastredact profiles``: the built-in profiles (or a profile file) with every setting."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from typing import Any

from fastredact.commands import EXIT_OK, EXIT_USAGE

__all__ = ["register"]

DESCRIPTION = """\
List the profiles `fastredact redact --profile NAME|FILE` takes: what each is for, its
mapping rule and retention, and every setting it resolves to (* marks those that
differ from the defaults). Options given to redact override a profile's settings.
A profile file is TOML: description, mapping = "allowed"|"refused", retention_days,
and a [settings] table of redact options (names with underscores: face_threshold).
"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "profiles",
        help="list the profiles (publish, training, internal) and their settings",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("profiles", nargs="*", metavar="NAME|FILE",
                   help="only these profiles (default: the built-in ones)")  # fmt: skip
    p.set_defaults(handler=run_profiles)


def run_profiles(args: argparse.Namespace) -> int:
    from fastredact.options import RedactOptions
    from fastredact.profiles import builtin_profiles, load_profile

    try:
        profiles = [load_profile(p) for p in args.profiles] or builtin_profiles()
    except ValueError as exc:
        print(f"fastredact profiles: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    defaults = RedactOptions(workers=1).output_settings()
    for profile in profiles:
        settings = profile.options(workers=1).output_settings()
        print(f"{profile.name} ({profile.source})")
        print(f"  {profile.description}")
        print(f"  mapping: {'allowed' if profile.mapping_allowed else 'refused'}; originals "
              f"kept {profile.retention_days if profile.retention_days is not None else '-'} "
              "days")  # fmt: skip
        names = [f.name for f in fields(RedactOptions) if f.name in settings]
        for name in names:
            mark = "*" if settings[name] != defaults.get(name) else " "
            print(f"  {mark} {name.replace('_', '-')} = {settings[name]}")
        print()
    return EXIT_OK
