"""How long ``fastredact review`` takes to open a 1,000-photo manifest and draw its sample.

Run: ``python benches/bench_review_open.py [--photos DIR] [--files N]`` (default: the 180-photo
bench folder of ``bench_pipeline.build_folder``). One real run over the photos, then its rows
and outputs repeated under scenario folders (outputs hard-linked) until the manifest holds
``N`` photos (default 1,000): reading the manifest, checking the outputs, drawing a sample of
100 (and of all) and the first picture are timed. No other tool reviews a manifest: one row
each, no ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import build_folder
from fastredact.review import ReviewSession, SampleSpec, load_review_run
from fastredact.run import Redactor


def _grow(root: Path, files: int) -> Path:
    """``root/big.jsonl``: the run's record and rows, repeated under ``s0/``, ``s1/``, …
    until ``files`` ok rows, with the outputs hard-linked to match."""
    lines = (root / "out" / "manifest.jsonl").read_text().splitlines()
    record, rows = lines[0], [json.loads(line) for line in lines[1:]]
    ok = [r for r in rows if r.get("status") == "ok"]
    big = root / "big"
    out = [record]
    copy = 0
    while len(out) - 1 < files:
        for row in ok:
            if len(out) - 1 >= files:
                break
            path = f"s{copy}/{row['path']}"
            target = big / path
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(root / "out" / row["path"], target)
            out.append(json.dumps(dict(row, path=path)))
        copy += 1
    manifest = big / "manifest.jsonl"
    manifest.write_text("\n".join(out) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--photos", type=Path, help="a folder of photos (default: bench folder)")
    parser.add_argument("--files", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        photos = args.photos or root / "in"
        if args.photos is None:
            build_folder(photos)
        started = time.perf_counter()
        manifest = root / "out" / "manifest.jsonl"
        list(Redactor().redact_paths([photos], root / "out", manifest=manifest))
        print(f"the run itself: {time.perf_counter() - started:.1f} s", file=sys.stderr)
        manifest = _grow(root, args.files)
        print("| step | seconds |")
        print("| --- | --- |")
        t = time.perf_counter()
        run = load_review_run(manifest, None, [])
        seconds = time.perf_counter() - t
        print(f"| read the manifest, find {len(run.files)} outputs | {seconds:.2f} |")
        for size, name in ((100, "sample of 100"), (None, "every picture (--all)")):
            t = time.perf_counter()
            session = ReviewSession(run, root / f"review-{name[:3]}", SampleSpec(size, 0), "bench")
            drawn = len(session.sample.items)
            print(f"| draw the {name}: {drawn} pictures | {time.perf_counter() - t:.2f} |")
            t = time.perf_counter()
            state = json.dumps(session.state())
            seconds = time.perf_counter() - t
            print(f"| the page's state ({len(state) // 1024} KiB) | {seconds:.2f} |")
            t = time.perf_counter()
            session.picture(0)
            print(f"| first picture (decode, JPEG) | {time.perf_counter() - t:.2f} |")
            session.close()
        print(f"| `fastredact review` until its URL is printed | {_until_url(manifest):.2f} |")


def _until_url(manifest: Path) -> float:
    """Seconds from starting the command to the URL it prints (imports included)."""
    command = [sys.executable, "-m", "fastredact", "review", str(manifest), "--no-open",
               "-o", str(manifest.parent / "review-cli")]  # fmt: skip
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        seconds = time.perf_counter() - started
        process.terminate()
    if not line.startswith("open http"):
        raise SystemExit(f"unexpected output: {line!r}")
    return seconds


if __name__ == "__main__":
    main()
