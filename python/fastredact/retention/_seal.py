"""``fastredact seal``: a run's originals into one archive encrypted to a recipient (the age
format, through ``pyrage``), verified, then — only when asked — deleted.

1. Every original the run's manifest rows name (``path`` under ``--originals``) is hashed
   and must have the row's ``input_sha256``: a missing or changed original stops the seal
   before anything is written.
2. The originals go into a tar stream (members named by their manifest ``path``), encrypted
   to the recipient and, for the check, to a one-off key that lives only in this process
   (age wraps one file key per recipient; the payload is the same for both).
3. The archive is decrypted with that key (or with ``--identity`` when given, the
   recipient's own key) and every member is hashed against the manifest.
4. Only then is the archive renamed into place, mode 0600, and only then, with
   ``delete_originals``, each original is hashed once more and removed if it still matches.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastredact._atomic import atomic_path, temporary_beside
from fastredact.errors import FastRedactError, MissingExtra, OutputUnwritable, one_line

__all__ = ["SealResult", "seal_originals"]

_CHUNK = 1 << 20


@dataclass
class SealResult:
    """What a seal did."""

    archive: Path
    members: int = 0
    bytes: int = 0
    archive_sha256: str = ""
    verified_with: str = ""
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    """Originals not deleted, each with the reason (changed since they were sealed)."""

    def record(self, run: Mapping[str, Any]) -> dict[str, Any]:
        """The manifest line that records the seal of ``run`` (its run record)."""
        return {
            "record": "seal",
            "settings_fingerprint": run.get("settings_fingerprint"),
            "run_started": run.get("started"),
            "sealed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "archive": str(self.archive),
            "archive_sha256": self.archive_sha256,
            "members": self.members,
            "bytes": self.bytes,
            "verified_with": self.verified_with,
            "deleted": len(self.deleted),
            "kept": self.kept,
        }


def _pyrage() -> Any:
    try:
        import pyrage
    except ImportError:
        raise MissingExtra(
            "fastredact seal needs pyrage (the age format): pip install 'fastredact[seal]'"
        ) from None
    return pyrage


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def originals_of(rows: Iterable[Mapping[str, Any]], originals: Path) -> list[tuple[str, Path, str]]:
    """(manifest path, file, SHA-256) of every input of the run that has a hash (ok and
    failed rows alike: a failed input is an original too), each checked on disk."""
    found: list[tuple[str, Path, str]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for row in rows:
        relative, wanted = row.get("path"), row.get("input_sha256")
        if not isinstance(relative, str) or not isinstance(wanted, str) or relative in seen:
            continue
        seen.add(relative)
        file = originals / relative
        try:
            actual = sha256_file(file)
        except OSError as exc:
            problems.append(f"{relative}: {exc.strerror or one_line(exc)}")
            continue
        if actual != wanted:
            problems.append(
                f"{relative}: its SHA-256 is not the manifest's (changed since the run)"
            )
            continue
        found.append((relative, file, wanted))
    if problems:
        raise FastRedactError(
            f"{len(problems)} original(s) cannot be sealed, nothing written (first: {problems[0]})"
        )
    if not found:
        raise FastRedactError("the run's manifest names no original with a SHA-256")
    return found


def seal_originals(
    members: Sequence[tuple[str, Path, str]],
    archive: Path,
    recipient: str,
    *,
    identity: str | None = None,
    delete_originals: bool = False,
) -> SealResult:
    """Seal ``members`` (from :func:`originals_of`) into ``archive``; see the module doc."""
    pyrage = _pyrage()
    try:
        public = pyrage.x25519.Recipient.from_str(recipient.strip())
    except Exception as exc:  # pyrage.RecipientError: the key is not an age public key
        raise ValueError(f"--recipient is not an age public key (age1...): {exc}") from None
    if identity is not None:
        try:
            checker = pyrage.x25519.Identity.from_str(identity.strip())
        except Exception as exc:  # pyrage.IdentityError
            raise ValueError(f"--identity is not an age secret key: {exc}") from None
        recipients = [public]
        if str(checker.to_public()) != str(public):
            raise ValueError("--identity is not the secret key of --recipient")
    else:
        checker = pyrage.x25519.Identity.generate()
        recipients = [public, checker.to_public()]
    result = SealResult(archive=archive, verified_with="identity" if identity else "one-off key")
    try:
        with atomic_path(archive, mode=0o600) as tmp, temporary_beside(archive) as plain:
            _write_tar(members, plain, result)
            with open(plain, "rb") as src, open(tmp, "wb") as dst:
                pyrage.encrypt_io(src, dst, recipients)
            plain.unlink()
            _verify(tmp, checker, members, pyrage)
            result.archive_sha256 = sha256_file(tmp)
    except OSError as exc:
        raise OutputUnwritable(
            f"{archive}: cannot write the archive ({exc.strerror or one_line(exc)}); "
            "no original was touched"
        ) from None
    if delete_originals:
        _delete(members, result)
    return result


def _write_tar(members: Sequence[tuple[str, Path, str]], plain: Path, result: SealResult) -> None:
    plain.chmod(0o600)
    with tarfile.open(plain, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, file, _ in members:
            info = tar.gettarinfo(str(file), arcname=name)
            info.uname = info.gname = ""
            info.uid = info.gid = 0
            with open(file, "rb") as f:
                tar.addfile(info, f)
            result.members += 1
            result.bytes += info.size


def _verify(
    archive: Path, checker: Any, members: Sequence[tuple[str, Path, str]], pyrage: Any
) -> None:
    """Decrypt ``archive`` and hash every member against the manifest."""
    wanted = {name: sha for name, _, sha in members}
    with temporary_beside(archive) as plain:
        try:
            with open(archive, "rb") as src, open(plain, "wb") as dst:
                pyrage.decrypt_io(src, dst, [checker])
        except Exception as exc:  # pyrage.DecryptError
            raise FastRedactError(f"the archive does not decrypt: {exc}") from None
        seen: dict[str, str] = {}
        with tarfile.open(plain, "r") as tar:
            for info in tar:
                extracted = tar.extractfile(info)
                if extracted is None:
                    continue
                digest = hashlib.sha256()
                while chunk := extracted.read(_CHUNK):
                    digest.update(chunk)
                seen[info.name] = digest.hexdigest()
    if seen != wanted:
        bad = sorted(n for n in wanted.keys() | seen.keys() if seen.get(n) != wanted.get(n))
        raise FastRedactError(
            f"the archive does not hold the originals as the manifest records them "
            f"({len(bad)} differ, first: {bad[0]}); nothing deleted"
        )


def _delete(members: Sequence[tuple[str, Path, str]], result: SealResult) -> None:
    for name, file, sha in members:
        try:
            if sha256_file(file) != sha:
                result.kept.append(f"{name}: changed since it was sealed")
                continue
            file.unlink()
            result.deleted.append(name)
        except OSError as exc:
            result.kept.append(f"{name}: {exc.strerror or one_line(exc)}")


def read_archive(archive: Path, identity: str) -> dict[str, bytes]:
    """Every member of a sealed ``archive``, decrypted with ``identity`` (for tests and
    audits of small archives: it holds them all in memory)."""
    pyrage = _pyrage()
    key = pyrage.x25519.Identity.from_str(identity.strip())
    out = io.BytesIO()
    with open(archive, "rb") as src:
        pyrage.decrypt_io(src, out, [key])
    out.seek(0)
    with tarfile.open(fileobj=out, mode="r") as tar:
        return {info.name: f.read() for info in tar if (f := tar.extractfile(info)) is not None}
