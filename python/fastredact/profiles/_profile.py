"""Profiles: the purpose of a run decides its settings, whether a mapping file may exist and
how long the originals may be kept.

A profile is a TOML file: ``description``, ``mapping`` (``"allowed"`` or ``"refused"``),
``retention_days`` and a ``[settings]`` table of :class:`~fastredact.options.RedactOptions`
fields. The built-in ones ship in ``profiles/builtin/``; any other path is a user's own.
Explicit options override the profile (:meth:`Profile.options`).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, get_type_hints

from fastredact.options import RedactOptions

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["BUILTIN_FOLDER", "Profile", "builtin_profiles", "load_profile"]

BUILTIN_FOLDER = Path(__file__).with_name("builtin")
"""Where the built-in profiles (``publish``, ``training``, ``internal``) live."""

_POLICY_FIELDS = ("profile", "allow_mapping", "retention_days")
"""RedactOptions fields a profile sets through its top-level keys, never in ``[settings]``."""
_RUN_FIELDS = ("workers", "threads", "device")
"""How a run uses the machine: the machine's business, not the purpose's."""
_TOP_LEVEL = {"description", "mapping", "retention_days", "settings"}


@dataclass(frozen=True)
class Profile:
    """One profile, read and checked."""

    name: str
    description: str
    source: Path
    sha256: str
    settings: Mapping[str, Any]
    mapping_allowed: bool
    retention_days: int | None

    def options(self, **overrides: Any) -> RedactOptions:
        """The run's options: the profile's settings, then ``overrides`` (explicit options
        win). ``ValueError`` when the result is out of range."""
        policy: dict[str, Any] = {
            "profile": self.reference,
            "allow_mapping": self.mapping_allowed,
            "retention_days": self.retention_days,
        }
        return RedactOptions(**{**policy, **self.settings, **overrides})

    @property
    def builtin(self) -> bool:
        return self.source.parent == BUILTIN_FOLDER.resolve()

    @property
    def reference(self) -> str:
        """How :func:`load_profile` finds it again: the built-in's name, else its path."""
        return self.name if self.builtin else str(self.source)

    def record(self) -> dict[str, Any]:
        """What the manifest's run record says about the profile."""
        return {
            "name": self.name,
            "source": str(self.source),
            "sha256": self.sha256,
            "mapping": "allowed" if self.mapping_allowed else "refused",
            "retention_days": self.retention_days,
        }


def retention_until(started: datetime, days: int | None) -> str | None:
    """The date (ISO, UTC) until which a run started at ``started`` may keep its originals."""
    if days is None:
        return None
    return (started + timedelta(days=days)).date().isoformat()


def builtin_profiles() -> list[Profile]:
    """The profiles shipped with fastredact, by name."""
    return [load_profile(p.stem) for p in sorted(BUILTIN_FOLDER.glob("*.toml"))]


def load_profile(name_or_path: str | Path) -> Profile:
    """A built-in profile by name (``publish``), or a profile file by path. ``ValueError``
    naming the file and the cause when it is missing or malformed."""
    text = str(name_or_path)
    builtin = BUILTIN_FOLDER / f"{text}.toml"
    if "/" not in text and not text.endswith(".toml") and builtin.is_file():
        path, name = builtin, text
    else:
        path, name = Path(text), Path(text).stem
    try:
        raw = path.read_bytes()
    except OSError as exc:
        names = ", ".join(sorted(p.stem for p in BUILTIN_FOLDER.glob("*.toml")))
        raise ValueError(
            f"profile {text}: not a built-in profile ({names}) nor a readable file "
            f"({exc.strerror or exc})"
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"profile {path}: not valid TOML: {exc}") from None
    return _checked(name, path, hashlib.sha256(raw).hexdigest(), data)


def _checked(name: str, path: Path, sha256: str, data: Mapping[str, Any]) -> Profile:
    unknown = sorted(set(data) - _TOP_LEVEL)
    if unknown:
        raise ValueError(f"profile {path}: unknown key(s) {', '.join(unknown)}")
    mapping = data.get("mapping", "allowed")
    if mapping not in ("allowed", "refused"):
        raise ValueError(f"profile {path}: mapping must be 'allowed' or 'refused', got {mapping!r}")
    days = data.get("retention_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
        raise ValueError(f"profile {path}: retention_days must be a whole number >= 0")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise ValueError(f"profile {path}: [settings] must be a table")
    for key, value in settings.items():
        _check_setting(path, key, value)
    profile = Profile(
        name=name,
        description=str(data.get("description", "")),
        source=path.resolve(),
        sha256=sha256,
        settings=dict(settings),
        mapping_allowed=mapping == "allowed",
        retention_days=days,
    )
    try:
        profile.options()
    except ValueError as exc:
        raise ValueError(f"profile {path}: {exc}") from None
    return profile


def _check_setting(path: Path, key: str, value: Any) -> None:
    """``key`` is a setting a profile may hold, and ``value`` has its type."""
    known = {f.name for f in fields(RedactOptions)}
    if key not in known or key in _POLICY_FIELDS or key in _RUN_FIELDS:
        raise ValueError(f"profile {path}: [settings] cannot set {key!r}")
    hint = str(get_type_hints(RedactOptions)[key])
    ok = (
        isinstance(value, bool)
        if hint == "<class 'bool'>"
        else (
            not isinstance(value, bool)
            and (
                (isinstance(value, int) and "int" in hint)
                or (isinstance(value, (int, float)) and "float" in hint)
                or (isinstance(value, str) and ("str" in hint or "Literal" in hint))
            )
        )
    )
    if not ok:
        raise ValueError(f"profile {path}: {key} = {value!r} has the wrong type")
