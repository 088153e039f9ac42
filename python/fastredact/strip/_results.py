"""What a strip returns: the cleaned file and what was removed from it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["RemovedItem", "StripFileResult", "StripResult", "removed_items"]


@dataclass(frozen=True)
class RemovedItem:
    """One kind of removed content (``"exif"``, ``"xmp"``, ``"trailer"``, …)."""

    kind: str
    count: int
    """How many segments / chunks / blocks of this kind were removed."""
    bytes: int
    """How many bytes of the input they took."""


@dataclass(frozen=True)
class StripResult:
    """The cleaned file and what was removed from it."""

    data: bytes
    format: str
    """The format sniffed from the content: ``"jpeg"``, ``"png"``, ``"webp"``, ``"gif"``,
    ``"heif"`` or ``"avif"``."""
    removed: tuple[RemovedItem, ...]
    orientation: int | None
    """The EXIF Orientation (1-8) of the input, whatever the policy; ``None`` when absent."""
    reencoded: bool
    """True when the pixels were re-encoded (only with ``orientation="bake"``)."""

    @property
    def removed_bytes(self) -> int:
        """Bytes removed, all kinds together."""
        return sum(item.bytes for item in self.removed)

    @property
    def removed_kinds(self) -> tuple[str, ...]:
        return tuple(item.kind for item in self.removed)

    def removed_rows(self) -> list[dict[str, Any]]:
        """What was removed, as manifest rows (``kind``, ``count``, ``bytes``)."""
        return [asdict(item) for item in self.removed]


@dataclass(frozen=True)
class StripFileResult:
    """The outcome of stripping one file of a batch: a result or an error, never both."""

    src: Path
    dst: Path
    format: str | None
    removed: tuple[RemovedItem, ...]
    orientation: int | None
    reencoded: bool
    error: Exception | None
    """A :class:`~fastredact.errors.FastRedactError`, an ``OSError`` or a ``ValueError``."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def removed_bytes(self) -> int:
        return sum(item.bytes for item in self.removed)


def removed_items(items: Iterable[tuple[str, int, int]]) -> tuple[RemovedItem, ...]:
    """The core's ``(kind, count, bytes)`` tuples as :class:`RemovedItem`."""
    return tuple(RemovedItem(kind, count, size) for kind, count, size in items)
