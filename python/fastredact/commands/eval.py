"""``fastredact eval``: measure a run on your own data; each action writes report.md,
report.json and PNG plots into a folder.

  fastredact eval truth --truth LABELS --manifest RUN.jsonl [-o DIR]
      what the run found and hid against labels of the ORIGINALS (COCO .json, a YOLO
      folder, Pascal VOC .xml files, WIDER .txt): recall and precision per label, by object
      height and by scenario (the input's top folder, or --scenarios), and every miss.
  fastredact eval residual OUTDIR [-o DIR] [--crops DIR]
      every detector, with the small-face schedule and at a low threshold, over every photo
      and video frame under OUTDIR: what a detector still finds after redaction.
  fastredact eval reid --manifest RUN.jsonl --mapping MAP.jsonl [-o DIR]
      whether hidden faces still match their originals (dlib's face descriptor; needs
      pip install 'fastredact[reid]'), per mode and strength, and whether a video's redacted
      faces still link across frames (runs made with --list-video-boxes).

Exit codes: 0 measured, 2 bad usage or bad labels (one line on stderr says which).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from fastredact.commands import EXIT_OK

__all__ = ["register"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="measure a run: recall against labels, residual detections, re-identification",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=lambda args: _usage(parser))
    sub = parser.add_subparsers(dest="eval_command", metavar="ACTION")
    _truth_parser(sub)
    _residual_parser(sub)
    _reid_parser(sub)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _out(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument(
        "-o", "--output", type=Path, default=Path(default), metavar="DIR",
        help=f"folder the report is written into (default: ./{default})",
    )  # fmt: skip


def _truth_parser(sub: Any) -> None:
    p = sub.add_parser(
        "truth",
        help="recall and precision against ground-truth labels of the originals",
        description="Score a run's manifest against labels of its originals. Match rule: an "
        "object is found when a box of its label (at the reporting threshold) holds its "
        "centre, hidden when any hidden box holds it; IoU >= 0.5 is the second column.",
    )
    p.add_argument(
        "--truth", type=Path, required=True, metavar="LABELS",
        help="COCO .json, WIDER .txt, a folder of VOC .xml, or a YOLO folder (labels/ and "
        "images/, class names in data.yaml or classes.txt)",
    )  # fmt: skip
    p.add_argument("--manifest", type=Path, required=True, help="the run's manifest (JSON Lines)")
    p.add_argument(
        "--run", metavar="FINGERPRINT",
        help="the run to score, by (the start of) its settings fingerprint (default: the last)",
    )  # fmt: skip
    p.add_argument(
        "--scenarios", type=Path, metavar="MAP.json",
        help="JSON object: relative path, file name or folder prefix ending in / -> scenario "
        "(default: each input's top folder)",
    )  # fmt: skip
    p.add_argument(
        "--names", nargs="+", metavar="NAME",
        help="YOLO class names in class order (default: data.yaml or classes.txt)",
    )  # fmt: skip
    p.add_argument(
        "--allow-missing", action="store_true",
        help="score only the labelled images the run has (default: labels naming images "
        "the run did not redact are an error)",
    )  # fmt: skip
    _out(p, "eval-truth")
    p.set_defaults(handler=_truth)


def _residual_parser(sub: Any) -> None:
    p = sub.add_parser(
        "residual",
        help="run every detector over a run's outputs: what is still found",
        description="Run every detector (faces with the small-face schedule, plates) over "
        "every photo and video frame under OUTDIR; each detection is a residual row.",
    )
    p.add_argument("outdir", type=Path, metavar="OUTDIR", help="a run's output folder")
    p.add_argument(
        "--manifest", type=Path,
        help="the run's manifest: residuals on the regions it hid are told apart (the "
        "hidden blob still looking like a face is not a missed face)",
    )  # fmt: skip
    p.add_argument(
        "--threshold", type=_score, metavar="T",
        help="score threshold for every detector (default: each one's hiding threshold, "
        "0.7 x its reporting threshold)",
    )  # fmt: skip
    p.add_argument(
        "--every", type=_positive_int, default=1, metavar="N",
        help="scan every Nth video frame (default: 1, every frame)",
    )  # fmt: skip
    p.add_argument(
        "--crops", type=Path, metavar="DIR",
        help="save a crop of each residual here (created readable by you only: crops may "
        "show a person; must not be inside OUTDIR)",
    )  # fmt: skip
    _out(p, "eval-residual")
    p.set_defaults(handler=_residual)


def _reid_parser(sub: Any) -> None:
    p = sub.add_parser(
        "reid",
        help="do hidden faces still match their originals? (pip install 'fastredact[reid]')",
        description="For every hidden face of at least 40 px, compare dlib's face descriptor "
        "of the original and of the redacted face: within dlib's 0.6 same-person distance, "
        "and rank-1 among the run's originals; for videos listed with --list-video-boxes, "
        "whether a track's redacted faces still link across frames.",
    )
    p.add_argument("--manifest", type=Path, required=True, help="the run's manifest (JSON Lines)")
    p.add_argument(
        "--mapping", type=Path, metavar="MAP.jsonl",
        help="the run's mapping file (redact --mapping): where originals and outputs are",
    )  # fmt: skip
    p.add_argument("--originals", type=Path, metavar="DIR", help="the run's input folder")
    p.add_argument("--outputs", type=Path, metavar="DIR", help="the run's output folder")
    p.add_argument(
        "--run", metavar="FINGERPRINT",
        help="only the run with this settings fingerprint (default: every run of the manifest)",
    )  # fmt: skip
    _out(p, "eval-reid")
    p.set_defaults(handler=_reid)


def _positive_int(text: str) -> int:
    value = int(text) if text.strip().isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a score between 0 and 1, got {text!r}")
    return value


def _command() -> str:
    return "fastredact " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _truth(args: argparse.Namespace) -> int:
    from fastredact.evaluate import truth_report

    result, written = truth_report(
        args.manifest, args.truth, args.output, fingerprint=args.run,
        scenarios=args.scenarios, names=args.names, allow_missing=args.allow_missing,
        command=_command(),
    )  # fmt: skip
    for label in result.labels:
        c = result.overall[label]
        if c.objects:
            print(
                f"{label}: {c.objects} labelled, found {c.found} ({c.found / c.objects:.3f}), "
                f"hidden {c.hidden} ({c.hidden / c.objects:.3f})"
            )
    print(f"report: {args.output / 'report.md'} ({len(written)} files)")
    return EXIT_OK


def _residual(args: argparse.Namespace) -> int:
    from fastredact.evaluate import residual_report

    scan, _ = residual_report(
        args.outdir, args.output, manifest=args.manifest, threshold=args.threshold,
        every=args.every, crops=args.crops, command=_command(),
    )  # fmt: skip
    for error in scan.errors:
        print(f"fastredact: not scanned: {error}", file=sys.stderr)
    strong = [r for r in scan.residuals if r.strong and not r.on_hidden]
    print(
        f"{len(scan.residuals)} residual detections in {scan.files} files ({scan.frames} "
        f"pictures), {len(strong)} strong"
        + (" and not on a hidden region" if args.manifest is not None else "")
        + f"; report: {args.output / 'report.md'}"
    )
    return EXIT_OK


def _reid(args: argparse.Namespace) -> int:
    from fastredact.evaluate import reid_report

    results, _ = reid_report(
        args.manifest, args.output, mapping=args.mapping, originals=args.originals,
        outputs=args.outputs, fingerprint=args.run, command=_command(),
    )  # fmt: skip
    for r in results:
        strength = "" if r.strength is None else f" strength {r.strength}"
        print(
            f"run {r.fingerprint} ({r.mode}{strength}): {r.reidentified} of {r.faces} faces "
            f"re-identified; {len(r.skipped)} not measured"
        )
        for reason in r.skipped:
            print(f"fastredact: not measured: {reason}", file=sys.stderr)
    print(f"report: {args.output / 'report.md'}")
    return EXIT_OK
