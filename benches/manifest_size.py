"""The manifest's size: a run of the bench folder (``bench_pipeline.build_folder``, ~90
distinct photos times ``FASTREDACT_BENCH_COPIES``; 11 copies give 990 photos) with the
defaults, against the same rows in the format written before run records existed (every
row carrying the settings, the models and every field; rebuilt by
:func:`fastredact.read_manifest`, which reads both formats).

    FASTREDACT_BENCH_COPIES=11 python -m benches.manifest_size
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import build_folder
from fastredact import Redactor, read_manifest


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder, manifest = Path(tmp) / "photos", Path(tmp) / "manifest.jsonl"
        photos = build_folder(folder)
        results = list(Redactor().redact_paths([folder], Path(tmp) / "out", manifest=manifest))
        new = manifest.stat().st_size
        old = sum(
            len(json.dumps(row, ensure_ascii=False, separators=(",", ":"), default=str)) + 1
            for row in read_manifest(manifest)
        )
    ok = sum(r.ok for r in results)
    copies = os.environ.get("FASTREDACT_BENCH_COPIES", "2")
    print(f"{photos} photos ({copies} copies of the bench folder), {ok} ok")
    print(f"manifest now: {new:,} bytes, {new / len(results):.0f} per row")
    print(f"the same rows in the old format: {old:,} bytes, {old / len(results):.0f} per row")
    print(f"ratio: {new / old:.3f}")


if __name__ == "__main__":
    main()
