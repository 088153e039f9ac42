"""``fastredact strip``: remove identifying metadata from photos, losslessly."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from fastredact.commands import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from fastredact.run import check_outdir_outside_inputs, display, printable
from fastredact.strip import strip_files

__all__ = ["register", "run"]

HELP = "remove identifying metadata (EXIF, GPS, XMP, IPTC, thumbnails) without touching pixels"

DESCRIPTION = """\
Copy photos to OUTDIR with their identifying metadata removed: EXIF (camera,
serial numbers, capture time), GPS, XMP, IPTC/Photoshop, comments, embedded
thumbnails and preview images, and any data hidden after the end of the image.
The pixels are not re-encoded: every byte of image data is copied unchanged.

Supported: JPEG, PNG (and APNG), WebP, GIF, HEIC/HEIF and AVIF, recognised by
their content, not their name. HEIC/HEIF and AVIF keep their primary image
only (thumbnails, depth maps and HDR gain maps go) and are written only when
the result decodes to exactly the same pixels; one with an alpha plane, or an
image sequence, is refused. TIFF, DNG and other camera RAWs and JPEG XL are
refused (they cannot be stripped losslessly yet); convert them first.

A file given directly is written to OUTDIR/<its name>; the contents of a folder
are copied recursively into OUTDIR, keeping their sub-folders. The inputs are
never modified; each output appears complete or not at all. A file that fails
gets one error line and no output; the others go on.

exit status: 0 every file stripped, 1 some files failed, 2 usage error
(nothing was processed).
"""

EPILOG = """\
examples:
  fastredact strip photos/ -o clean/
  fastredact strip a.jpg b.png -o clean/ --icc drop --orientation bake
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "strip",
        help=HELP,
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="a photo, or a folder searched recursively"
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTDIR",
        help="folder for the stripped copies (created if missing; it may neither lie inside "
        "an input nor hold one)",
    )
    parser.add_argument(
        "--icc",
        choices=("keep", "drop"),
        default="keep",
        help="keep (default) or drop the colour profile; dropping it can change the colours",
    )
    parser.add_argument(
        "--orientation",
        choices=("keep", "drop", "bake"),
        default="keep",
        help=(
            "keep (default): keep only the EXIF rotation flag so photos still display "
            "upright; drop: remove it too; bake: rotate the pixels instead (re-encodes "
            "rotated photos)"
        ),
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="number of worker threads (default: one per CPU)",
    )
    parser.add_argument(
        "--durable",
        action="store_true",
        help=(
            "sync every output (and its folder) to the disk before reporting success, so "
            "the copies survive a power loss; slower (default: leave it to the system, "
            "like cp)"
        ),
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="no progress bar and no summary line"
    )
    parser.set_defaults(handler=run)


def _usage_error(message: str) -> int:
    print(f"fastredact strip: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _collect(inputs: list[str], outdir: Path) -> list[tuple[Path, Path]] | str:
    """The (src, dst) pairs, or the message of a usage error."""
    try:
        check_outdir_outside_inputs([Path(raw) for raw in inputs], outdir)
    except ValueError as exc:
        return str(exc)
    pairs: list[tuple[Path, Path]] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames.sort()
                for name in sorted(filenames):
                    src = Path(dirpath) / name
                    pairs.append((src, outdir / src.relative_to(path)))
        elif path.is_file():
            pairs.append((path, outdir / path.name))
        else:
            return f"no such file or folder: {raw}"
    seen: dict[Path, Path] = {}
    for src, dst in pairs:
        key = dst.resolve()
        if key in seen:
            return f"{seen[key]} and {src} would both be written to {dst}"
        if key == src.resolve():
            return f"{src} would be overwritten by its own output"
        seen[key] = src
    return pairs


def run(args: argparse.Namespace) -> int:
    outdir = Path(args.output)
    if args.threads is not None and args.threads < 1:
        return _usage_error("--threads must be at least 1")
    if outdir.exists() and not outdir.is_dir():
        return _usage_error(f"the output {outdir} exists and is not a folder")
    collected = _collect(list(args.inputs), outdir)
    if isinstance(collected, str):
        return _usage_error(collected)
    if not collected:
        return _usage_error("no files found in the inputs")

    # Batches keep the progress bar moving while each batch runs in parallel in Rust.
    batch = max(64, 8 * (args.threads or os.cpu_count() or 1))
    failed = done = removed_bytes = 0
    with tqdm(
        total=len(collected),
        unit="file",
        disable=args.quiet or None,
        file=sys.stderr,
        desc="stripping",
    ) as bar:
        for start in range(0, len(collected), batch):
            chunk = collected[start : start + batch]
            for result in strip_files(
                chunk,
                icc=args.icc,
                orientation=args.orientation,
                threads=args.threads,
                durable=args.durable,
            ):
                if result.error is not None:
                    failed += 1
                    cause = str(result.error) or type(result.error).__name__
                    line = printable(f"{display(result.src)}: {cause}")
                    tqdm.write(f"fastredact strip: {line}", file=sys.stderr)
                else:
                    done += 1
                    removed_bytes += result.removed_bytes
            bar.update(len(chunk))
    if not args.quiet:
        print(
            f"stripped {done} file(s) into {outdir} ({removed_bytes:,} bytes of metadata "
            f"removed); {failed} failed",
            file=sys.stderr,
        )
    return EXIT_SOME_FAILED if failed else EXIT_OK
