"""``fastredact eval``: the numbers a release needs, on the user's own data.

- :func:`truth_report`: what a run found and hid against ground-truth labels of its
  originals (COCO, YOLO, Pascal VOC, WIDER), by label, object height and scenario, with the
  misses listed;
- :func:`residual_report`: every detector, with the small-face schedule, over every output
  photo and video frame: what a detector still finds;
- :func:`reid_report`: whether hidden faces still match their originals (dlib's face
  descriptor, ``pip install 'fastredact[reid]'``), per mode and strength, and whether a video
  track's redacted faces still link across frames.

Each writes ``report.md``, ``report.json`` and PNG plots (``pip install 'fastredact[eval]'``)
into a folder. See docs/eval.md.
"""

from fastredact.evaluate._api import manifest_runs, reid_report, residual_report, truth_report
from fastredact.evaluate._labels import LabelledObject, Truth, read_labels
from fastredact.evaluate._reid import ReidReport
from fastredact.evaluate._residual import Residual, ResidualScan, scan_outputs
from fastredact.evaluate._truth import MATCH_RULE, TruthReport, evaluate_truth

__all__ = [
    "MATCH_RULE",
    "LabelledObject",
    "ReidReport",
    "Residual",
    "ResidualScan",
    "Truth",
    "TruthReport",
    "evaluate_truth",
    "manifest_runs",
    "read_labels",
    "reid_report",
    "residual_report",
    "scan_outputs",
    "truth_report",
]
