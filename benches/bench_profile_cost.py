"""What ``--profile publish`` costs against the defaults on the batch bench folder.

Run: ``python benches/bench_profile_cost.py`` (the 180-photo folder of
``bench_pipeline.build_folder``; each command twice, interleaved, the faster of each kept;
prints the seconds and the ratio). Both rows are fastredact: no other tool offers profiles.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pipeline import build_folder

ROWS = {"defaults": [], "--profile publish": ["--profile", "publish"]}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        photos = build_folder(root / "in")
        seconds: dict[str, list[float]] = {name: [] for name in ROWS}
        for repeat in range(2):
            for index, (name, flags) in enumerate(ROWS.items()):
                out = root / f"out{index}-{repeat}"
                command = [sys.executable, "-m", "fastredact", "redact", str(root / "in"),
                           "-o", str(out), "--no-progress", *flags]  # fmt: skip
                started = time.perf_counter()
                subprocess.run(command, check=True)
                seconds[name].append(time.perf_counter() - started)
    base = min(seconds["defaults"])
    print(f"| run ({photos} photos) | seconds | images/s | time vs defaults |")
    print("| --- | --- | --- | --- |")
    for name, values in seconds.items():
        best = min(values)
        print(f"| {name} | {best:.1f} | {photos / best:.1f} | {best / base:.2f}x |")


if __name__ == "__main__":
    main()
