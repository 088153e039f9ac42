"""`fastredact redact`: anonymize photos into an output folder, with a manifest."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fastredact.commands import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from fastredact.cpus import usable_cpus
from fastredact.imageio import DEFAULT_MAX_PIXELS
from fastredact.inputs import (
    check_file_outside_inputs,
    check_outdir_outside_inputs,
    printable,
)
from fastredact.options import MODES, OUTPUT_FORMATS, SHAPES, RedactOptions
from fastredact.regions import DEFAULT_MASK_SCALE
from fastredact.video_options import DEFAULT_CRF, DEFAULT_PRESET, X264_PRESETS

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
        help="photo files or folders (recursive); '-' reads paths from stdin",
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
    what = p.add_argument_group("what to find")
    what.add_argument(
        "--faces",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="detect and hide faces (default: on)",
    )
    what.add_argument(
        "--plates",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="detect and hide licence plates (default: on)",
    )
    what.add_argument(
        "--threshold",
        type=float,
        metavar="T",
        help="detector score threshold in (0, 1); lower finds more; objects scoring down to "
        "0.7 x T are hidden too, as a safety margin (default: each model's documented "
        "default: 0.35 faces, 0.45 plates)",
    )
    what.add_argument(
        "--face-threshold",
        type=float,
        metavar="T",
        help="--threshold for faces only (default: --threshold, else 0.35)",
    )
    what.add_argument(
        "--plate-threshold",
        type=float,
        metavar="T",
        help="--threshold for plates only, e.g. 0.6 for indoor photos, where textures can "
        "look like plates (default: --threshold, else 0.45)",
    )
    what.add_argument(
        "--small-faces",
        action="store_true",
        help="also search 3x-upscaled tiles, finding faces down to ~10 px "
        "(default: faces from ~24 px; 10-20x slower)",
    )
    what.add_argument(
        "--min-size",
        type=int,
        metavar="PX",
        help="ignore detections smaller than PX pixels on their longer side",
    )
    how = p.add_argument_group("how to hide")
    how.add_argument(
        "--mode",
        choices=MODES,
        default="blur",
        help="blur (default), pixelate, fill (solid black) or secure "
        "(pixelate + noise, resists de-blurring)",
    )
    how.add_argument(
        "--shape",
        choices=SHAPES,
        default="ellipse",
        help="shape of each hidden region (default: ellipse)",
    )
    how.add_argument(
        "--mask-scale",
        type=float,
        default=DEFAULT_MASK_SCALE,
        metavar="S",
        help="grow each detected box by S about its centre, so the hidden ellipse also "
        f"covers hair, ears and chin (default: {DEFAULT_MASK_SCALE})",
    )
    out = p.add_argument_group("output")
    out.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        default="same",
        help="output format (default: same as the input; RAW becomes 16-bit TIFF)",
    )
    out.add_argument(
        "--quality",
        type=int,
        metavar="Q",
        help="JPEG/WebP quality 1-100 (default: matched to the source JPEG)",
    )
    out.add_argument(
        "--reencode",
        action="store_true",
        help="re-encode every file, even those where nothing was found",
    )
    out.add_argument(
        "--icc",
        choices=("keep", "drop"),
        default="keep",
        help="keep (default) or drop the ICC colour profile",
    )
    out.add_argument(
        "--orientation",
        choices=("keep", "bake"),
        default="keep",
        help="keep the EXIF orientation tag (default) or rotate the pixels upright",
    )
    video = p.add_argument_group("video (MP4, MOV, MKV, AVI, WebM)")
    video.add_argument(
        "--audio",
        choices=("keep", "drop"),
        default="keep",
        help="copy audio streams unchanged (default) or drop them",
    )
    video.add_argument(
        "--video-codec",
        metavar="NAME",
        help="FFmpeg encoder for the redacted video (default: libx264, H.264; libvpx-vp9 "
        "for .webm); e.g. libx265, libsvtav1",
    )
    video.add_argument(
        "--crf",
        type=int,
        default=DEFAULT_CRF,
        metavar="N",
        help="constant-quality factor of the video encoder: lower is better and larger; 0 is "
        f"lossless with libx264 (default: {DEFAULT_CRF}, visually lossless H.264)",
    )
    video.add_argument(
        "--preset",
        choices=X264_PRESETS,
        default=DEFAULT_PRESET,
        metavar="NAME",
        help="libx264/libx265 speed preset, ultrafast ... veryslow: slower gives smaller "
        f"files at the same quality (default: {DEFAULT_PRESET})",
    )
    video.add_argument(
        "--detect-every",
        type=int,
        default=1,
        metavar="N",
        help="run the detectors on every Nth frame and track in between (default: 1, "
        "every frame); tracks are extended and gaps filled so a miss shows nothing",
    )
    video.add_argument(
        "--verify-video",
        action="store_true",
        help="decode each written video and run the detectors on every frame at the "
        "reporting threshold; hide what they still find (re-encoding can push a near-miss "
        "over the threshold) in up to 2 re-runs, else fail the file; costs about one "
        "detection per frame more",
    )
    video.add_argument(
        "--motion-threshold",
        type=float,
        metavar="G",
        help="skip detection on frames where no part of the picture changed by more than G "
        "grey levels since the last detected frame, and reuse its boxes (e.g. 3 for a fixed "
        "camera; default: off; the detector still runs at least every 30 frames)",
    )
    run = p.add_argument_group("run")
    run.add_argument(
        "--workers",
        type=int,
        default=usable_cpus(),
        metavar="N",
        help="files processed in parallel (default: the cores this process may use, "
        f"affinity and container CPU limits included: {usable_cpus()} here)",
    )
    run.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="detector threads per worker (default: cores / workers)",
    )
    run.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where detectors run (default: cpu)",
    )
    run.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse images with more pixels (all frames of an animation together), "
        f"before decoding (default: {DEFAULT_MAX_PIXELS})",
    )
    run.add_argument(
        "--manifest",
        type=Path,
        metavar="FILE",
        help="append one JSON line per input to FILE (the audit trail)",
    )
    run.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="write original path -> output path to FILE (mode 0600)",
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


def run_redact(args: argparse.Namespace) -> int:
    from fastredact.pipeline import Redactor

    if args.resume and not args.manifest:
        print("fastredact redact: error: --resume needs --manifest", file=sys.stderr)
        return EXIT_USAGE
    inputs = [Path(p) for p in args.inputs if p != "-"]
    try:
        _check_paths(inputs, args)
        options = RedactOptions(
            faces=args.faces,
            plates=args.plates,
            mode=args.mode,
            shape=args.shape,
            mask_scale=args.mask_scale,
            threshold=args.threshold,
            face_threshold=args.face_threshold,
            plate_threshold=args.plate_threshold,
            min_size=args.min_size,
            small_faces=args.small_faces,
            audio=args.audio,
            video_codec=args.video_codec,
            crf=args.crf,
            preset=args.preset,
            detect_every=args.detect_every,
            verify_video=args.verify_video,
            motion_threshold=args.motion_threshold,
            icc=args.icc,
            orientation=args.orientation,
            format=args.format,
            quality=args.quality,
            reencode=args.reencode,
            max_pixels=args.max_pixels,
            device=args.device,
            workers=args.workers,
            threads=args.threads,
        )
    except ValueError as exc:
        print(f"fastredact redact: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.dry_run:
        return _dry_run(args)
    from fastredact.commands.progress import FrameBar

    redactor = Redactor(options)  # a model that cannot load stops here, before any output
    frames = FrameBar() if not args.no_progress else None
    return _report(
        redactor.redact_paths(
            args.inputs,
            args.output,
            manifest=args.manifest,
            mapping=args.mapping,
            resume=args.resume,
            frame_progress=frames,
        ),
        progress=not args.no_progress,
        frames=frames,
    )


def _check_paths(inputs: list[Path], args: argparse.Namespace) -> None:
    """Refuse (``ValueError``) outputs that would modify an input, or each other."""
    check_outdir_outside_inputs(inputs, args.output)
    if args.manifest:
        check_file_outside_inputs(inputs, args.manifest, "manifest")
    if args.mapping:
        check_file_outside_inputs(inputs, args.mapping, "mapping file")
    if args.manifest and args.mapping and args.manifest.resolve() == args.mapping.resolve():
        raise ValueError("--manifest and --mapping must be two different files")


def _dry_run(args: argparse.Namespace) -> int:
    from fastredact.inputs import display, iter_inputs
    from fastredact.output_names import OutputNames, expected_output, folds_case

    out_root = Path(args.output)
    names = OutputNames(fold_case=folds_case(out_root))
    fmt = args.format
    for item in iter_inputs(
        args.inputs, out_root, names=names, output_name=lambda rel: expected_output(rel, fmt)
    ):
        target = (
            "(skipped: " + item.error + ")"
            if item.error
            else display(out_root / expected_output(item.relative, fmt))
        )
        print(printable(f"{item.display_path} -> {target}"))
    return EXIT_OK


def _report(results, *, progress: bool, frames=None) -> int:  # type: ignore[no-untyped-def]
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
                line = printable(f"{result.path}: {result.error}")
                bar.write(f"fastredact: {line}", file=sys.stderr)
            elif (
                result.status == "skipped" and result.error and "UnsupportedFormat" in result.error
            ):
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
