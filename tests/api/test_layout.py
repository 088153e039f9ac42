"""The layout rules of the package, checked on its source: one sniffer, format sets and
vocabularies defined once, no error kind found by searching a message."""

from __future__ import annotations

import re
from pathlib import Path

import fastredact
from fastredact import formats

PACKAGE = Path(fastredact.__file__).parent
SOURCES = {p.relative_to(PACKAGE).as_posix(): p.read_text() for p in PACKAGE.rglob("*.py")}


def _where(pattern: str) -> list[str]:
    return sorted(name for name, text in SOURCES.items() if re.search(pattern, text))


def test_only_formats_calls_the_core_sniffer() -> None:
    assert _where(r"_core\.sniff_format\(") == ["formats.py"]


def test_format_sets_are_defined_once() -> None:
    for name in ("LOSSLESS_STRIP_FORMATS", "HEIF_FORMATS", "PILLOW_FORMATS", "RAW_SUFFIXES"):
        defined = _where(rf"(?m)^{name}\s*(:[^=]*)?=")
        assert defined == ["formats.py"], (name, defined)
    assert {"jpeg", "png", "webp", "gif"} == formats.LOSSLESS_STRIP_FORMATS


def test_vocabularies_are_defined_once() -> None:
    for name in ("Mode", "Shape", "OutputFormat", "IccPolicy", "Preset", "AudioPolicy"):
        defined = _where(rf"(?m)^{name}\s*(:\s*TypeAlias\s*)?=")
        assert len(defined) == 1, (name, defined)


def test_no_error_kind_is_found_in_a_message() -> None:
    assert _where(r'"(UnsupportedFormat|CorruptInput|OutputCollision)" in ') == []
    assert _where(r"in (result|r)\.error\b") == []
