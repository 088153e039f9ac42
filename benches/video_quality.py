"""Residual detections after video redaction, on the egoblur videos (prints a table).

    python -m benches.video_quality [--gen1-frames N] [--only NAME] [--verify-video]

For each video and mode (``--detect-every 1``, and tracking with ``--detect-every 5``) the
default detectors (CenterFace faces; PlateNet plates for the plate video) run on every
decoded input frame and on every decoded output frame; ``--verify-video`` redacts with the
output check on (the pipeline's own re-check of every written frame). tests/test_video_quality.py
asserts zero residual detections on a shorter segment; this runs the whole videos.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from tests.support import SHARED_DATA
from tests.support.video_quality import QualityRow, measure, trim_clip

VIDEOS = (
    ("egoblur/gen1/test_video.mp4", False),
    ("egoblur/gen2/test_face_video.mp4", False),
    ("egoblur/gen2/test_lp_video.mp4", True),
)


def _row(r: QualityRow) -> str:
    labels = sorted(r.input_frames_with)
    found = ", ".join(f"{k} {r.input_frames_with[k]}" for k in labels) or "none"
    left = ", ".join(f"{k} {r.output_frames_with.get(k, 0)}" for k in labels) or "0"
    extra = sorted(set(r.output_frames_with) - set(labels))
    left += "".join(f", {k} {r.output_frames_with[k]}" for k in extra)
    fps = r.frames / r.redact_seconds
    return (
        f"| {r.video} | {'yes' if r.verified else 'no'} | {r.detect_every} "
        f"| {r.frames} / {r.output_frames} | {found} | {left} | {fps:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gen1-frames", type=int, default=0, help="0: the whole video")
    parser.add_argument("--only", help="run only the videos whose name contains this")
    parser.add_argument("--verify-video", action="store_true", help="redact with --verify-video")
    args = parser.parse_args()
    print(
        "| video | verified | detect every | frames in / out | frames with detections, input "
        "| frames with detections, output | redaction fps |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for name, plates in VIDEOS:
            if args.only and args.only not in name:
                continue
            src = SHARED_DATA / name
            if "gen1" in name and args.gen1_frames:
                src = trim_clip(src, Path(tmp) / "gen1.mp4", args.gen1_frames)
            for row in measure(
                src, Path(tmp), detect_every=(1, 5), plates=plates, verify=args.verify_video
            ):
                print(_row(row), flush=True)


if __name__ == "__main__":
    main()
