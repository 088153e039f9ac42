"""Re-identification per mode and strength: ``fastredact eval reid`` over several runs.

Run: ``python benches/eval_reid.py [--data ../shared/data] [--frames 60] [-o DIR]``
(needs ``pip install '.[reid]'``; about a minute per run on 2 cores). The face photos of
``bench_pipeline.FACES`` (one copy each) and the first ``--frames`` frames of egoblur's gen1
video are redacted once per row of ``RUNS`` (faces only, boxes of video frames listed) into
one manifest; ``fastredact eval reid`` then reports every run, and this prints its table.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from fastredact import RedactOptions, Redactor, cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.video_quality import trim_clip

from bench_pipeline import FACES

RUNS: dict[str, dict[str, object]] = {
    "defaults (blur)": {},
    "blur --strength 1": {"strength": 1.0},
    "blur --strength 3": {"strength": 3.0},
    "pixelate (defaults)": {"mode": "pixelate"},
    "pixelate --strength 6": {"mode": "pixelate", "strength": 6.0},
    "secure": {"mode": "secure"},
    "fill": {"mode": "fill"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).parents[2] / "shared/data")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("-o", "--output", type=Path, help="keep the report here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        folder = root / "in"
        folder.mkdir()
        for relative in FACES:
            src = args.data / relative
            shutil.copyfile(src, folder / f"{src.parent.name}_{src.name}")
        trim_clip(args.data / "egoblur/gen1/test_video.mp4", folder / "gen1.mp4", args.frames)
        manifest, mapping = root / "runs.jsonl", root / "map.jsonl"
        names = {}
        for name, settings in RUNS.items():
            options = RedactOptions(plates=False, list_video_boxes=True, **settings)  # type: ignore[arg-type]
            results = list(
                Redactor(options).redact_paths(
                    [folder], root / f"out{len(names)}", manifest=manifest, mapping=mapping
                )
            )
            failed = [r.error for r in results if not r.ok]
            if failed:
                raise SystemExit(f"{name}: {failed}")
            names[f"{options.mode}/{options.strength}"] = name
        out = args.output or root / "report"
        code = cli.main(
            ["eval", "reid", "--manifest", str(manifest), "--mapping", str(mapping), "-o", str(out)]
        )
        if code:
            raise SystemExit(code)
        report = json.loads((out / "report.json").read_text())
    print("| run | faces | re-identified | rank-1 (chance) | p | verdict | tracks linked (AUC) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for run in report["runs"]:
        name = names[f"{run['mode']}/{run['strength']}"]
        tracks = [t for t in run["tracks"] if t["auc"] is not None]
        aucs = ", ".join(f"{t['auc']:.2f}" for t in tracks) or "-"
        linked = sum(bool(t["links"]) for t in tracks)
        print(
            f"| {name} | {run['faces']} | {run['reidentified']} ({run['share_reidentified']:.3f}) "
            f"| {run['share_rank1']:.3f} ({run['rank1_by_chance']:.3f}) | {run['p_value']:.2g} "
            f"| {'re-identifiable' if run['reidentifiable'] else 'not re-identifiable'} "
            f"| {linked} of {len(tracks)} ({aucs}) |"
        )


if __name__ == "__main__":
    main()
