"""Ray Data against the built-in pool on one machine: the overhead of ``--engine ray``, and
what a second actor buys.

Run: ``python benches/bench_ray.py [--copies 125]`` (``pip install '.[ray]'``): the 8 photos
of ``coco8`` (640 px) copied into a folder of ``8 x copies`` photos (1,000 by default),
redacted with the defaults by the built-in pool (``fastredact redact``, 2 workers), and by
``fastredact.ray.redact_files`` on a local Ray of 2 CPUs with 1 actor (1 CPU) and with 2
actors (0.75 CPU each; 0.5 CPU is kept for the manifest writes, which the CPU guard asks
for). Prints seconds, photos/s and each row's ratio to the built-in pool.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=125)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    import ray

    from fastredact import RedactOptions
    from fastredact.ray import redact_files

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        photos = sorted((args.data / "coco8" / "images").rglob("*.jpg"))
        folder = root / "in"
        folder.mkdir()
        for copy in range(args.copies):
            for photo in photos:
                shutil.copyfile(photo, folder / f"{copy:04d}_{photo.name}")
        count = len(photos) * args.copies
        rows: list[tuple[str, float]] = []
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "fastredact", "redact", str(folder), "-o",
                        str(root / "local"), "--no-progress"], check=True)  # fmt: skip
        rows.append(("built-in pool, 2 workers (fastredact redact)", time.perf_counter() - started))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        for actors, cpus in ((1, 1.0), (2, 0.75)):
            started = time.perf_counter()
            run = redact_files([folder], root / f"ray{actors}", root / f"m{actors}",
                               RedactOptions(), actors=actors, cpus_per_actor=cpus)  # fmt: skip
            assert run.ok == count, run
            rows.append((f"Ray local, {actors} actor(s) x {cpus:g} CPU",
                         time.perf_counter() - started))  # fmt: skip
        ray.shutdown()
    base = rows[0][1]
    print(f"| run ({count} photos, coco8 copies) | seconds | photos/s | time vs built-in |")
    print("| --- | --- | --- | --- |")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {count / seconds:.1f} | {seconds / base:.2f}x |")


if __name__ == "__main__":
    main()
