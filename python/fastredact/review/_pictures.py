"""The pictures the review page shows: an output's frame as a JPEG the browser can draw
(whatever the output's format: HEIF, TIFF, 16-bit, video), and the original's pixels inside
one hidden box (PNG), on request.

Photos are shown as displayed (EXIF orientation applied: the manifest's boxes are in those
pixels); video frames as stored (the manifest's video boxes are in stored pixels).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from fastredact.detect._set import as_rgb8
from fastredact.errors import CorruptInput, FastRedactError

__all__ = ["MAX_SIDE", "PictureCache", "crop_png", "frame_jpeg", "read_frame"]

MAX_SIDE = 8192
"""Pictures larger than this (longer side) are scaled down for the page (the page scales
boxes by the picture's own size, so they stay in place)."""
JPEG_QUALITY = 95


def read_frame(path: Path, frame: int, *, video: bool) -> NDArray[np.uint8]:
    """Frame ``frame`` of the photo or video at ``path`` as 8-bit RGB (photos as displayed,
    video as stored). :class:`FastRedactError` when it cannot be read."""
    if video:
        return _video_frame(path, frame)
    from fastredact.photo import decode_image

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FastRedactError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    decoded = decode_image(data)
    if not 0 <= frame < len(decoded.frames):
        raise FastRedactError(f"{path.name} has no frame {frame}")
    return as_rgb8(decoded.frames[frame])


def frame_jpeg(rgb: NDArray[np.uint8]) -> bytes:
    """``rgb`` as a JPEG for the page (scaled down beyond :data:`MAX_SIDE`)."""
    from PIL import Image

    image = Image.fromarray(rgb)
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, subsampling=0)  # 4:4:4: no colour bleed
    return out.getvalue()


def crop_png(rgb: NDArray[np.uint8], box: Sequence[float]) -> bytes:
    """The pixels of ``rgb`` inside ``box`` (x0, y0, x1, y1; rounded outwards, clipped) as
    a PNG."""
    from PIL import Image

    h, w = rgb.shape[:2]
    x0, y0 = max(0, int(np.floor(box[0]))), max(0, int(np.floor(box[1])))
    x1, y1 = min(w, int(np.ceil(box[2]))), min(h, int(np.ceil(box[3])))
    if x1 <= x0 or y1 <= y0:
        raise FastRedactError("the box lies outside the picture")
    out = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1])).save(out, "PNG")
    return out.getvalue()


def _video_frame(path: Path, frame: int) -> NDArray[np.uint8]:
    import av

    try:
        with av.open(str(path)) as container:
            for index, decoded in enumerate(container.decode(video=0)):
                if index == frame:
                    rgb: NDArray[np.uint8] = decoded.to_ndarray(format="rgb24")
                    return rgb
    except (av.error.FFmpegError, OSError) as exc:
        raise CorruptInput(f"cannot decode {path.name}: {exc}") from None
    raise FastRedactError(f"{path.name} has no frame {frame}")


class PictureCache:
    """The last few decoded frames, by key (the page asks for a picture, then for crops of
    its original): bounded, shared by the server's threads."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], NDArray[np.uint8]] = OrderedDict()
        self._lock = threading.Lock()

    def frame(
        self, key: tuple[object, ...], path: Path, frame: int, *, video: bool
    ) -> NDArray[np.uint8]:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        rgb = read_frame(path, frame, video=video)
        with self._lock:
            self._items[key] = rgb
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return rgb
