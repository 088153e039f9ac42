"""`fastredact redact`: anonymize photos into an output folder, with a manifest."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import MISSING, Field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

from fastredact.commands import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from fastredact.commands._progress import FrameBar
from fastredact.errors import FastRedactError
from fastredact.options import OPTION_GROUPS, RUN, Flag, RedactOptions, choices
from fastredact.run import (
    FileResult,
    check_file_outside_inputs,
    check_outdir_outside_inputs,
    display,
    listed_inputs,
    printable,
)
from fastredact.run._output_names import expected_output

HELP = "find faces and licence plates in photos and videos, hide them, strip metadata"

DESCRIPTION = """\
Redact photos and videos: detect faces and licence plates, hide them, and strip
identifying metadata. The output folder mirrors the input tree; inputs are never modified.
A file with nothing detected keeps its pixels exactly (only its metadata is
stripped). A file that cannot be fully processed gets no output, only a failed
row in the manifest and an error line.

Formats: JPEG, PNG, WebP, GIF (all frames), TIFF, BMP, HEIC/HEIF, AVIF and camera
RAW (DNG, CR3, NEF, ARW, RAF, RW2, ORF, ... via LibRaw; written as 16-bit TIFF);
videos MP4, MOV, MKV, WebM (H.264 out, audio copied, metadata and data tracks
dropped) and AVI (written as MKV).

Exit codes: 0 all files ok, 1 some files failed, 2 usage or setup error.
"""

EXAMPLES = """\
examples:
  fastredact redact photos/ -o redacted/ --manifest redacted/manifest.jsonl
  fastredact redact a.jpg b.png -o out/ --mode pixelate --no-plates
  find /data -name '*.jpg' | fastredact redact - -o out/ --workers 2
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "redact",
        help=HELP,
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="photo and video files or folders (recursive); '-' reads paths from stdin",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUTDIR",
        type=Path,
        help="output folder (created if missing; it may neither lie inside an input folder "
        "nor hold an input)",
    )
    groups = {name: p.add_argument_group(name) for name in OPTION_GROUPS}
    for option in fields(RedactOptions):
        add_option(groups, option)
    run = groups[RUN]
    run.add_argument(
        "--profile",
        metavar="NAME|FILE",
        help="start from a profile's settings: publish, training, internal (`fastredact "
        "profiles` lists them) or a TOML file of your own; options given here override it",
    )
    run.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="append the run record and one JSON line per input to FILE (the audit trail)",
    )
    run.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="write original path -> output path to FILE (mode 0600)",
    )
    run.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this machine's worker pool (default); ray: a Ray cluster (pip install "
        "'fastredact[ray]'): the same outputs, with --manifest a folder of parquet parts "
        "(`fastredact manifest cat` prints it as JSON Lines), resumed with --resume",
    )
    run.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="the Ray cluster to join (default: a new local one; 'auto' for the one this "
        "machine belongs to)",
    )
    run.add_argument(
        "--annotations",
        type=Path,
        metavar="FILE_OR_DIR",
        help="labels of the inputs (a COCO .json, a YOLO folder, a folder of Pascal VOC .xml) "
        "to rewrite for the outputs: names mapped, boxes scaled and turned like the pictures, "
        "each with the fraction of its area that was hidden; COCO goes into OUTDIR under its "
        "own name, YOLO and VOC files beside each output photo",
    )
    run.add_argument(
        "--corrections",
        type=Path,
        metavar="FILE",
        help="a reviewer's corrections (`fastredact review` writes them): boxes drawn over "
        "missed faces or plates are always hidden, boxes marked as false positives are left "
        "unless found again with a higher score; an input they name that changed since the "
        "review, or that is not among the inputs, is a failed row",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="skip inputs the manifest records as done with the same settings whose output "
        "is still in OUTDIR (needs --manifest)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="list what would be processed, write nothing"
    )
    run.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (files, and video frames; they are only drawn on a terminal)",
    )
    p.set_defaults(handler=run_redact)


def add_option(groups: dict[str, argparse._ArgumentGroup], option: Field[Any]) -> None:
    """The command-line flag of one :class:`RedactOptions` field that carries a
    :class:`~fastredact.options.Flag`: ``--field-name``, its type, choices and default read
    from the field."""
    flag: Flag | None = option.metadata.get("flag")
    if flag is None:
        return
    name = "--" + option.name.replace("_", "-")
    hint = get_type_hints(RedactOptions)[option.name]
    default = option.default if option.default_factory is MISSING else option.default_factory()
    # Unset options stay out of the namespace, so a profile's value can show through.
    text = flag.help.replace("%(default)s", str(default))
    kwargs: dict[str, Any] = {"help": text, "default": argparse.SUPPRESS, "dest": option.name}
    if hint is bool:
        kwargs["action"] = argparse.BooleanOptionalAction  # --no-X undoes a profile's X
    else:
        values = choices(hint)
        if values:
            kwargs["choices"] = values
        else:
            kwargs["type"] = next(t for t in (int, float, str) if t in _members(hint))
        if flag.metavar:
            kwargs["metavar"] = flag.metavar
    groups[flag.group].add_argument(name, **kwargs)


def _members(hint: Any) -> tuple[Any, ...]:
    """The types of a hint (``int | None`` → ``(int, NoneType)``)."""
    return get_args(hint) or (hint,)


def options_from(args: argparse.Namespace) -> RedactOptions:
    """The :class:`RedactOptions` the parsed ``args`` ask for: the options given, over the
    ``--profile``'s settings, over the defaults (``ValueError`` when they contradict each
    other, are out of range, or the profile cannot be read)."""
    given = {
        f.name: getattr(args, f.name)
        for f in fields(RedactOptions)
        if "flag" in f.metadata and hasattr(args, f.name)
    }
    profile = getattr(args, "profile", None)
    if profile:
        return RedactOptions.from_profile(profile, **given)
    return RedactOptions(**given)


def run_redact(args: argparse.Namespace) -> int:
    from fastredact.run import Redactor  # loads onnxruntime: only when a run starts

    if args.resume and not args.manifest:
        print("fastredact redact: error: --resume needs --manifest", file=sys.stderr)
        return EXIT_USAGE
    inputs = [Path(p) for p in args.inputs if p != "-"]
    try:
        _check_paths(inputs, args)
        options = options_from(args)
        if args.annotations is not None:
            _check_annotations(args)
        if args.mapping and not options.allow_mapping:
            raise ValueError(
                f"profile {options.profile} refuses --mapping: a table of original paths "
                "beside published copies can re-identify them by file name"
            )
    except (ValueError, FastRedactError) as exc:
        print(f"fastredact redact: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    corrections = None
    if args.corrections is not None:
        from fastredact.corrections import CorrectionSet

        try:
            corrections = CorrectionSet.load(args.corrections)
        except FastRedactError as exc:
            print(f"fastredact redact: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
    if args.dry_run:
        return _dry_run(args, options)
    if args.engine == "ray":
        return _ray(args, options)
    redactor = Redactor(options)  # a model that cannot load stops here, before any output
    frames = FrameBar() if not args.no_progress else None
    kept: list[FileResult] = []
    results = redactor.redact_paths(
        args.inputs,
        args.output,
        manifest=args.manifest,
        mapping=args.mapping,
        resume=args.resume,
        frame_progress=frames,
        corrections=corrections,
    )
    if args.annotations is not None:
        results = _kept(results, kept)
    code = _report(results, progress=not args.no_progress, frames=frames)
    if args.annotations is None:
        return code
    return _carry(args, options, kept, code)


def _ray(args: argparse.Namespace, options: RedactOptions) -> int:
    """``--engine ray``: the same run on Ray Data (see :mod:`fastredact.ray`)."""
    refused = (
        ("--mapping", args.mapping),
        ("--annotations", args.annotations),
        ("--corrections", args.corrections),
    )
    for flag, given in refused:
        if given:
            print(f"fastredact redact: error: {flag} is not available with --engine ray",
                  file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
    if not args.manifest:
        print("fastredact redact: error: --engine ray needs --manifest (a folder)",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    try:
        from fastredact.ray import redact_files
    except ImportError:
        print("fastredact redact: error: --engine ray needs Ray: pip install 'fastredact[ray]'",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    started = time.perf_counter()
    try:
        run = redact_files(args.inputs, args.output, args.manifest, options,
                           resume=args.resume, address=args.ray_address,
                           progress=not args.no_progress)  # fmt: skip
    except (FastRedactError, ValueError) as exc:
        print(f"fastredact redact: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for path in run.crashed:
        print(f"fastredact: {printable(path)}: the worker process died on it", file=sys.stderr)
    print(
        f"{run.ok} ok, {run.skipped} skipped, {run.failed} failed"
        + (f", {run.done_before} already done" if run.done_before else "")
        + f" on Ray in {time.perf_counter() - started:.1f} s; rows in {args.manifest}",
        file=sys.stderr,
    )
    return EXIT_SOME_FAILED if run.failed else EXIT_OK


def _check_annotations(args: argparse.Namespace) -> None:
    from fastredact.annotations import check_annotations

    if args.resume:
        raise ValueError(
            "--annotations cannot be used with --resume: the rewritten labels would miss "
            "the inputs an earlier run did"
        )
    check_annotations(args.annotations)


def _kept(results: Iterable[FileResult], kept: list[FileResult]) -> Iterator[FileResult]:
    for result in results:
        kept.append(result)
        yield result


def _carry(
    args: argparse.Namespace, options: RedactOptions, kept: list[FileResult], code: int
) -> int:
    from fastredact.annotations import carry_annotations

    try:
        report = carry_annotations(
            args.annotations,
            kept,
            Path(args.output),
            orientation=options.orientation,
            shape=options.shape,
            mask_scale=options.mask_scale,
        )
    except FastRedactError as exc:
        print(f"fastredact redact: error: annotations: {exc}", file=sys.stderr)
        return EXIT_SOME_FAILED
    print(report.summary(), file=sys.stderr)
    return code


def _check_paths(inputs: list[Path], args: argparse.Namespace) -> None:
    """Refuse (``ValueError``) outputs that would modify an input, or each other."""
    check_outdir_outside_inputs(inputs, args.output)
    if args.manifest:
        check_file_outside_inputs(inputs, args.manifest, "manifest")
    if args.mapping:
        check_file_outside_inputs(inputs, args.mapping, "mapping file")
    if args.manifest and args.mapping and args.manifest.resolve() == args.mapping.resolve():
        raise ValueError("--manifest and --mapping must be two different files")


def _dry_run(args: argparse.Namespace, options: RedactOptions) -> int:
    out_root = Path(args.output)
    for item in listed_inputs(args.inputs, out_root, options.format):
        target = (
            f"(skipped: {item.error})"
            if item.error
            else display(out_root / expected_output(item.relative, options.format))
        )
        print(printable(f"{item.display_path} -> {target}"))
    return EXIT_OK


def _report(
    results: Iterable[FileResult], *, progress: bool, frames: FrameBar | None = None
) -> int:
    from tqdm import tqdm

    counts = {"ok": 0, "failed": 0, "skipped": 0}
    objects = 0
    video_frames = 0
    started = time.perf_counter()
    # disable=None: tqdm shows the bar only when stderr is a terminal (a job's log gets the
    # error lines and the summary, not a carriage-return update per file).
    bar = tqdm(unit="file", disable=None if progress else True, file=sys.stderr, dynamic_ncols=True)
    with bar:
        for result in results:
            counts[result.status] = counts.get(result.status, 0) + 1
            if result.status == "ok":  # a failed file hid nothing anyone will see
                objects += sum(int(d.get("boxes", 1)) for d in result.detections)
                video_frames += (result.frames or 0) if result.video is not None else 0
            if result.status == "failed":
                line = printable(f"{result.path}: {result.error_kind}: {result.error}")
                bar.write(f"fastredact: {line}", file=sys.stderr)
            elif result.status == "skipped" and result.error_kind == "UnsupportedFormat":
                bar.write(
                    f"fastredact: skipped {printable(result.path)}: not a photo or video",
                    file=sys.stderr,
                )
            bar.update(1)
            bar.set_postfix(objects=objects, failed=counts["failed"], refresh=False)
    if frames is not None:
        frames.close()  # before the summary line, so the bar is not redrawn under it
    elapsed = time.perf_counter() - started
    in_videos = f" ({video_frames} video frames)" if video_frames else ""
    print(
        f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed; "
        f"{objects} objects redacted{in_videos} in {elapsed:.1f} s",
        file=sys.stderr,
    )
    return EXIT_SOME_FAILED if counts["failed"] else EXIT_OK
