"""PNG plots of the ``eval`` reports, where a picture says it faster than a table. matplotlib
is optional (``pip install 'fastredact[eval]'``): each function raises ImportError without
it, and the report says the plots were not drawn."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastredact.evaluate._reid import ReidReport
    from fastredact.evaluate._residual import ResidualScan
    from fastredact.evaluate._truth import TruthReport

__all__ = ["recall_by_height", "reid_distances", "residual_scores"]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: no display, no GUI toolkit
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def recall_by_height(report: TruthReport, folder: Path) -> list[Path]:
    """Found and hidden recall per height bin, one panel per label."""
    from fastredact.evaluate._truth import HEIGHT_BINS

    plt = _pyplot()
    labels = [label for label in report.labels if report.overall[label].objects]
    fig, axes = plt.subplots(1, max(1, len(labels)), figsize=(5.5 * max(1, len(labels)), 4))
    axes = axes if hasattr(axes, "__len__") else [axes]
    names = [name for name, _, _ in HEIGHT_BINS]
    for ax, label in zip(axes, labels, strict=False):
        cells = [report.by_height[label][name] for name in names]
        for attr, style in (("found", "o-"), ("hidden", "s--")):
            ys = [getattr(c, attr) / c.objects if c.objects else float("nan") for c in cells]
            ax.plot(names, ys, style, label=attr)
        for x, c in enumerate(cells):
            ax.annotate(str(c.objects), (x, 0.02), ha="center", fontsize=8, color="grey")
        ax.set_ylim(0, 1.05)
        ax.set_xlabel(f"{label} height (px); grey: how many")
        ax.set_ylabel("recall")
        ax.set_title(f"{label}: recall by height")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    return [_save(plt, fig, folder / "recall_by_height.png")]


def residual_scores(scan: ResidualScan, folder: Path) -> list[Path]:
    """Histogram of the residual detections' scores, per label."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = sorted({r.label for r in scan.residuals})
    for label in labels:
        scores = [r.score for r in scan.residuals if r.label == label]
        ax.hist(scores, bins=20, range=(0, 1), alpha=0.6, label=f"{label} ({len(scores)})")
    for label, t in scan.thresholds.items():
        ax.axvline(t, linestyle=":", color="grey")
        ax.annotate(f"{label} threshold", (t, 0), rotation=90, fontsize=8, color="grey")
    ax.set_xlabel("score")
    ax.set_ylabel("residual detections")
    ax.set_title(f"residual detections in {scan.files} files ({scan.frames} frames)")
    if labels:
        ax.legend()
    return [_save(plt, fig, folder / "residual_scores.png")]


def reid_distances(reports: Sequence[ReidReport], folder: Path) -> list[Path]:
    """Distance of each redacted face to its own original, per run, with dlib's 0.6."""
    import numpy as np

    from fastredact.evaluate._reid import SAME_PERSON_DISTANCE

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for report in reports:
        d = [float(np.linalg.norm(s.original - s.redacted)) for s in report.samples]
        if d:
            strength = "" if report.strength is None else f" {report.strength}"
            ax.hist(d, bins=30, range=(0, 1.2), alpha=0.5,
                    label=f"{report.mode}{strength} ({report.fingerprint[:8]})")  # fmt: skip
    ax.axvline(SAME_PERSON_DISTANCE, color="red", linestyle="--")
    ax.annotate("same person below", (SAME_PERSON_DISTANCE, 0), rotation=90, fontsize=8)
    ax.set_xlabel("distance, redacted face to its original (dlib descriptor)")
    ax.set_ylabel("faces")
    ax.legend(fontsize=8)
    return [_save(plt, fig, folder / "reid_distances.png")]
