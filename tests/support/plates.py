"""Plates annotated by hand in shared photos (x0, y0, x1, y1 in pixels of the file as
stored), for the detector test and the end-to-end redaction test."""

from __future__ import annotations

__all__ = ["HAND_ANNOTATED"]

HAND_ANNOTATED = {
    "anonymizer/coco02.jpg": [(97, 220, 125, 229), (491, 251, 530, 263)],
    "open-image-models/car_image.webp": [(17, 325, 178, 388)],
    "egoblur/gen2/test_lp_image.png": [(1404, 1103, 1478, 1201)],
}
