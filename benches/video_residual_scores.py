"""Why a redacted video can still show a detection: the scores of each residual before and
after encoding (prints a table).

    python -m benches.video_residual_scores [--video egoblur/gen2/test_lp_video.mp4]
                                            [--detect-every 1] [--plates/--no-plates]

The video is redacted twice with the default pipeline (no ``--verify-video``): at the
default CRF 18 and at ``--crf 0`` (lossless H.264: its decoded frames are the redacted
frames before encoding, 4:2:0 as the encoder gets them). CenterFace at its default threshold
and tiling runs on every frame of the CRF-18 output; for each box it finds, the table gives
CenterFace's best score at the same place (IoU > 0.3) in the source, in the lossless output
and in the CRF-18 output; a last line counts the boxes it finds in the lossless output.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from tests.support import SHARED_DATA

from fastredact.detect import Detections, load_detector
from fastredact.detect._nms import iou_matrix
from fastredact.options import RedactOptions
from fastredact.run import Redactor

FLOOR = 0.02
"""Scores down to this are read at the residual's place."""


def frames(path: Path) -> Iterator[NDArray[np.uint8]]:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            yield frame.to_ndarray(format="rgb24")


def best_score(found: Detections, box: NDArray[np.float32]) -> float:
    if not len(found):
        return 0.0
    overlap = iou_matrix(np.asarray(found.boxes, np.float64), box[None].astype(np.float64))[:, 0]
    near = overlap > 0.3
    return float(np.asarray(found.scores)[near].max()) if near.any() else 0.0


def redact(src: Path, dst: Path, *, crf: int, every: int, plates: bool) -> Path:
    options = RedactOptions(plates=plates, workers=1, detect_every=every, crf=crf)
    result = Redactor(options).redact_file(src, dst)
    if not result.ok:
        raise SystemExit(f"{src}: {result.error}")
    return dst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--video", default="egoblur/gen2/test_lp_video.mp4")
    parser.add_argument("--detect-every", type=int, default=1)
    parser.add_argument("--plates", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    src = SHARED_DATA / args.video
    tiles = RedactOptions().face_tile_scales
    checker = load_detector("centerface", tile_scales=tiles)
    reader = load_detector("centerface", tile_scales=tiles, threshold=FLOOR)
    with tempfile.TemporaryDirectory() as tmp:
        run = {"every": args.detect_every, "plates": args.plates}
        lossy = redact(src, Path(tmp) / f"crf18{src.suffix}", crf=18, **run)
        lossless = redact(src, Path(tmp) / f"crf0{src.suffix}", crf=0, **run)
        print("| frame | box | source | before encoding (CRF 0) | CRF 18 |")
        print("| --- | --- | --- | --- | --- |")
        lossless_residuals = 0
        for index, (a, b, c) in enumerate(
            zip(frames(src), frames(lossless), frames(lossy), strict=True)
        ):
            lossless_residuals += len(checker.detect(b))
            found = checker.detect(c)
            if not len(found):
                continue
            at_source, at_lossless = reader.detect(a), reader.detect(b)
            for box, score in zip(found.boxes, found.scores, strict=True):
                print(
                    f"| {index} | {[round(float(v)) for v in box]} "
                    f"| {best_score(at_source, box):.3f} | {best_score(at_lossless, box):.3f} "
                    f"| {float(score):.3f} |",
                    flush=True,
                )
        print(f"\nresidual boxes in the lossless (CRF 0) output: {lossless_residuals}")


if __name__ == "__main__":
    main()
