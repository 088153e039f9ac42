"""The photo pipeline end to end: faces hidden, pixels untouched where nothing was found,
metadata gone, manifest and resume, and every hostile input failing closed."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fastredact import photo
from fastredact._atomic import TEMP_MARKER
from fastredact.run import Redactor, read_manifest
from tests.support import shared_file
from tests.support.video_quality import checker

FACE_PHOTOS = ["redact-client/obama.jpeg", "scikit-image/astronaut.png"]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(workers=1)


def _decode(path: Path) -> np.ndarray:
    return photo.decode_image(path.read_bytes()).frames[0]


def _jpeg_bytes(pixels: np.ndarray, **options: object) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="JPEG", **options)
    return out.getvalue()


@pytest.mark.parametrize("relative", FACE_PHOTOS)
def test_faces_are_hidden_and_the_rest_kept(
    shared_data: Path, tmp_path: Path, redactor: Redactor, relative: str
) -> None:
    src = shared_file(shared_data, relative)
    dst = tmp_path / src.name
    result = redactor.redact_file(src, dst)
    assert result.ok, result.error
    faces = [d for d in result.detections if d["label"] == "face"]
    assert faces, "the face was not found"
    before, after = _decode(src).astype(np.int16), _decode(dst).astype(np.int16)
    assert before.shape == after.shape
    x0, y0, x1, y1 = (int(v) for v in faces[0]["box"])
    inner = (
        slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4),
        slice(x0 + (x1 - x0) // 4, x1 - (x1 - x0) // 4),
    )
    # Inside the face: strongly changed; detail (high frequencies) gone.
    assert np.abs(after[inner] - before[inner]).mean() > 8
    assert (
        np.abs(np.diff(after[inner], axis=1)).mean()
        < 0.5 * np.abs(np.diff(before[inner], axis=1)).mean()
    )
    # Far from any detection: only codec noise.
    mask = np.ones(before.shape[:2], bool)
    for det in result.detections:
        bx0, by0, bx1, by1 = det["box"]
        w, h = (bx1 - bx0) / 2, (by1 - by0) / 2
        mask[max(0, int(by0 - h)) : int(by1 + h), max(0, int(bx0 - w)) : int(bx1 + w)] = False
    assert mask.mean() > 0.2
    assert np.abs(after[mask] - before[mask]).mean() < 3


def test_no_detection_keeps_pixels_byte_identical(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    src = shared_file(shared_data, "scikit-image/coffee.png")
    dst = tmp_path / "coffee.png"
    result = redactor.redact_file(src, dst)
    assert result.ok, result.error
    assert not result.reencoded and not result.detections
    assert np.array_equal(_decode(src), _decode(dst))


def test_gps_and_thumbnail_are_gone(shared_data: Path, tmp_path: Path, redactor: Redactor) -> None:
    src = shared_file(shared_data, "exif-samples/jpg/gps/DSCN0010.jpg")
    dst = tmp_path / "out.jpg"
    result = redactor.redact_file(src, dst)
    assert result.ok, result.error
    im = Image.open(dst)
    exif = im.getexif()
    assert set(exif.keys()) <= {0x0112}
    assert not exif.get_ifd(0x8825)  # GPS IFD
    assert b"NIKON" not in dst.read_bytes()


def test_redacted_output_keeps_orientation_tag(tmp_path: Path, redactor: Redactor) -> None:
    # A gray frame with a face-sized fill region is re-encoded; its orientation survives.
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (64, 96, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "SecretCam"
    src = tmp_path / "in.jpg"
    src.write_bytes(_jpeg_bytes(pixels, exif=exif.tobytes(), quality=90))
    result = Redactor(workers=1, reencode=True).redact_file(src, tmp_path / "out.jpg")
    assert result.ok, result.error
    out = Image.open(tmp_path / "out.jpg")
    assert dict(out.getexif()) == {0x0112: 6}
    assert _decode(tmp_path / "out.jpg").shape == (96, 64, 3)


def _hostile_inputs(root: Path, shared_data: Path) -> dict[str, str]:
    """name → expected error kind fragment."""
    rng = np.random.default_rng(1)
    good = _jpeg_bytes(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
    (root / "zero.jpg").write_bytes(b"")
    (root / "truncated.jpg").write_bytes(good[: len(good) // 2])
    png = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(png, format="PNG")
    bad_crc = bytearray(png.getvalue())
    bad_crc[-20] ^= 0xFF  # inside the IDAT chunk: its CRC no longer matches
    (root / "badcrc.png").write_bytes(bytes(bad_crc))
    (root / "text.jpg").write_text("this is not a photo\n")
    bomb = io.BytesIO()
    Image.new("L", (1, 1)).save(bomb, format="PNG")
    import zlib

    b = bytearray(bomb.getvalue())
    b[16:24] = (50_000).to_bytes(4, "big") * 2
    b[29:33] = zlib.crc32(bytes(b[12:29])).to_bytes(4, "big")
    (root / "bomb.png").write_bytes(bytes(b))
    os.mkfifo(root / "fifo.jpg")
    (root / "loop.jpg").symlink_to(root / "loop.jpg")
    (root / os.fsdecode(b"caf\xe9-latin1.jpg")).write_bytes(good[:100])
    (root / "broken.dng").write_bytes(shared_file(shared_data, "exiftool/DNG.dng").read_bytes())
    (root / "truncated-raf.raf").write_bytes(
        shared_file(shared_data, "exiftool/FujiFilm.raf").read_bytes()
    )
    return {
        "zero.jpg": "UnsupportedFormat",
        "truncated.jpg": "CorruptInput",
        "badcrc.png": "CorruptInput",
        "text.jpg": "UnsupportedFormat",
        "bomb.png": "LimitExceeded",
        "fifo.jpg": "not a regular file",
        "loop.jpg": "cannot read",
        os.fsencode(os.fsdecode(b"caf\xe9-latin1.jpg")).decode(
            "utf-8", "backslashreplace"
        ): "CorruptInput",
        "broken.dng": "CorruptInput",
        "truncated-raf.raf": "CorruptInput",
    }


def test_hostile_inputs_fail_closed_and_batch_goes_on(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    expected = _hostile_inputs(src, shared_data)
    good = shared_file(shared_data, "scikit-image/coffee.png")
    (src / "good.png").write_bytes(good.read_bytes())
    manifest = tmp_path / "manifest.jsonl"
    results = {r.path: r for r in redactor.redact_paths([src], out, manifest=manifest)}
    assert results["good.png"].ok
    for name, fragment in expected.items():
        result = results[name]
        assert result.status == "failed", name
        line = f"{result.error_kind}: {result.error}"
        assert result.error and fragment in line, (name, line)
        assert "\n" not in result.error
    outputs = sorted(p.name for p in out.rglob("*"))
    assert outputs == ["good.png"], outputs
    rows = list(read_manifest(manifest))
    assert len(rows) == len(expected) + 1
    assert all(row["status"] in ("ok", "failed") for row in rows)


def test_exiftool_truncated_fixtures_give_rows_not_outputs(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    names = ["ExifTool.jpg", "QuickTime.heic", "Nikon.nef", "CanonRaw.cr3", "Minolta.mrw"]
    paths = [shared_file(shared_data, f"exiftool/{n}") for n in names]
    results = list(redactor.redact_paths(paths, tmp_path / "out"))
    assert [r.status for r in results] == ["failed"] * len(names)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_resume_skips_done_inputs(shared_data: Path, tmp_path: Path, redactor: Redactor) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for name in ("coffee.png", "rocket.jpg"):
        (src / name).write_bytes(shared_file(shared_data, f"scikit-image/{name}").read_bytes())
    manifest = tmp_path / "m.jsonl"
    first = list(redactor.redact_paths([src], tmp_path / "out", manifest=manifest))
    assert [r.status for r in first] == ["ok", "ok"]
    again = list(redactor.redact_paths([src], tmp_path / "out", manifest=manifest, resume=True))
    assert [r.status for r in again] == ["skipped", "skipped"]
    other = Redactor(workers=1, mode="fill")  # other settings: not the same work
    redone = list(other.redact_paths([src], tmp_path / "out2", manifest=manifest, resume=True))
    assert [r.status for r in redone] == ["ok", "ok"]


def test_cli_exit_codes_and_refusals(shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "coffee.png").write_bytes(
        shared_file(shared_data, "scikit-image/coffee.png").read_bytes()
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "fastredact", "redact", *args, "--no-progress"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    inside = cli(str(src), "-o", str(src / "out"))
    assert inside.returncode == 2 and "inside the input" in inside.stderr
    ok = cli(str(src), "-o", str(tmp_path / "out"), "--workers", "1")
    assert ok.returncode == 0, ok.stderr
    assert "1 ok" in ok.stderr
    (src / "README.md").write_text("not media: skipped, not failed")
    skip = cli(str(src), "-o", str(tmp_path / "out2"), "--workers", "1")
    assert skip.returncode == 0, skip.stderr
    assert "skipped README.md: not a photo or video" in skip.stderr
    (src / "bad.jpg").write_text("nope")
    some = cli(str(src), "-o", str(tmp_path / "out3"), "--workers", "1")
    assert some.returncode == 1
    assert "bad.jpg" in some.stderr and "Traceback" not in some.stderr


def test_a_file_name_with_control_characters_fails_on_one_printed_line(tmp_path: Path) -> None:
    """A newline or a terminal escape in a failing file's name is printed escaped: the error
    stays one line (and cannot recolour or rewrite the user's terminal)."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "bad\nname\x1b[2J.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a JPEG")
    command = [sys.executable, "-m", "fastredact", "redact", str(src), "-o", str(tmp_path / "out")]
    done = subprocess.run(
        [*command, "--no-progress", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2, lines  # the file's error, then the summary
    assert lines[0].startswith("fastredact: bad\\nname\\x1b[2J.jpg: CorruptInput: ")
    assert "\x1b" not in done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("*.jpg"))


def test_kill_mid_run_leaves_no_partial_output(shared_data: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    jpeg = shared_file(shared_data, "redact-client/obama.jpeg").read_bytes()
    for i in range(40):
        (src / f"p{i:02d}.jpg").write_bytes(jpeg)
    manifest = tmp_path / "m.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fastredact",
            "redact",
            str(src),
            "-o",
            str(tmp_path / "out"),
            "--manifest",
            str(manifest),
            "--workers",
            "2",
            "--no-progress",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and (
        not manifest.exists() or manifest.read_text().count("\n") < 3  # run record + 2 rows
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    out = tmp_path / "out"
    finished = {p.name for p in out.glob("*.jpg")} if out.exists() else set()
    # Every visible output is complete (decodes); temp files are the only other trace.
    for name in finished:
        assert photo.decode_image((out / name).read_bytes()).width == 720
    rows = [line for line in manifest.read_text().splitlines() if line.strip()]
    parsed = []
    for line in rows:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            assert line is rows[-1], "only the last line may be torn"
    assert parsed
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "fastredact",
            "redact",
            str(src),
            "-o",
            str(out),
            "--manifest",
            str(manifest),
            "--resume",
            "--workers",
            "2",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert len(list(out.glob("*.jpg"))) == 40
    # --resume also removed the temporary files the killed run left behind.
    assert not [p for p in out.rglob("*") if TEMP_MARKER in p.name]


def test_two_workers_share_detectors_safely(shared_data: Path, tmp_path: Path) -> None:
    # Regression: one OpenCV cascade shared by two threads crashed the process.
    src = tmp_path / "in"
    src.mkdir()
    photo = shared_file(shared_data, "redact-client/obama.jpeg").read_bytes()
    for i in range(6):
        (src / f"p{i}.jpg").write_bytes(photo)
    results = list(Redactor(workers=2).redact_paths([src], tmp_path / "out"))
    assert [r.status for r in results] == ["ok"] * 6
    assert all(len(r.detections) >= 1 for r in results)


def test_video_through_the_pipeline_leaves_no_face(
    shared_data: Path, tmp_path: Path, redactor: Redactor
) -> None:
    import av

    src = shared_file(shared_data, "egoblur/gen2/test_face_video.mp4")
    # Checked output (--verify-video): encoding lifts an ear beside a blurred face over the
    # threshold on some frames (tests/video/test_video_quality.py).
    checked = Redactor(workers=1, verify_video=True)
    result = checked.redact_file(src, tmp_path / "out.mp4")
    assert result.ok, result.error
    assert result.video is not None and result.video["frames"] == 14
    assert any(d["label"] == "face" and d["boxes"] >= 14 for d in result.detections)
    faces = checker(plates=False)  # the default detection at its default threshold
    residual = 0
    with av.open(str(tmp_path / "out.mp4")) as container:
        for frame in container.decode(video=0):
            found = faces.detect(frame.to_ndarray(format="rgb24"))
            residual += sum(1 for label in found.labels if label == "face")
    assert residual == 0


def test_motion_threshold_reuses_boxes_on_a_still_camera(shared_data: Path, tmp_path: Path) -> None:
    import av

    decoded = photo.decode_image(shared_file(shared_data, "redact-client/obama.jpeg").read_bytes())
    still = decoded.frames[0][:960, :720]
    src = tmp_path / "still.mp4"
    with av.open(str(src), "w") as out:
        v = out.add_stream("libx264", rate=10, options={"crf": "12"})
        v.width, v.height, v.pix_fmt = still.shape[1], still.shape[0], "yuv420p"
        for _ in range(12):
            out.mux(v.encode(av.VideoFrame.from_ndarray(still, format="rgb24")))
        out.mux(v.encode(None))
    redactor = Redactor(workers=1, plates=False, motion_threshold=3.0)
    result = redactor.redact_file(src, tmp_path / "out.mp4")
    assert result.ok, result.error
    assert result.video is not None
    assert result.video["frames"] == 12
    assert result.video["frames_reused"] >= 10  # the picture never changes
    assert result.video["frames_detected"] + result.video["frames_reused"] == 12
    faces = checker(plates=False)
    with av.open(str(tmp_path / "out.mp4")) as container:
        for frame in container.decode(video=0):
            assert not len(faces.detect(frame.to_ndarray(format="rgb24")))


def test_broken_video_fails_closed(shared_data: Path, tmp_path: Path, redactor: Redactor) -> None:
    src = shared_file(shared_data, "redact-client/broken_video.mp4")
    result = redactor.redact_file(src, tmp_path / "out.mp4")
    # An 18-byte text file named .mp4: refused from its content, nothing written.
    assert result.status == "failed" and result.error
    assert result.error_kind in ("UnsupportedFormat", "CorruptInput")
    assert list(tmp_path.iterdir()) == []


def test_camera_raw_is_developed_redacted_and_written_as_16_bit_tiff(
    shared_data: Path, tmp_path: Path
) -> None:
    import cv2

    from tests.support.dng import bayer_dng

    rgb = photo.decode_image(
        shared_file(shared_data, "scikit-image/astronaut.png").read_bytes()
    ).frames[0]
    rgb = cv2.resize(np.asarray(rgb), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    src = tmp_path / "shot.dng"
    src.write_bytes(bayer_dng(rgb, make="SecretCam", model="Model X1"))
    result = Redactor(workers=1, plates=False).redact_file(src, tmp_path / "out" / "shot.dng")
    assert result.ok, result.error
    assert (result.format, result.output_format) == ("raw", "tiff")
    out = tmp_path / "out" / "shot.tiff"
    assert result.output == str(out) and not (tmp_path / "out" / "shot.dng").exists()
    assert result.detections and result.detections[0]["label"] == "face"  # + verification
    developed = photo.decode_image(src.read_bytes()).frames[0]
    written = cv2.imread(str(out), cv2.IMREAD_UNCHANGED)[:, :, ::-1]
    assert written.dtype == np.uint16 and written.shape == developed.shape
    x0, y0, x1, y1 = (int(v) for v in result.detections[0]["box"])
    face = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0, x1))
    # The face is hidden; far from it every 16-bit value is the development's, exactly.
    assert np.abs(written[face].astype(int) - developed[face]).mean() > 1000
    assert np.array_equal(written[:, :64], developed[:, :64])
    data = out.read_bytes()
    assert b"SecretCam" not in data and b"Model X1" not in data


@pytest.mark.parametrize("suffix", ["tiff", "png"])
def test_16_bit_gray_photo_is_redacted_and_keeps_16_bits(
    shared_data: Path, tmp_path: Path, suffix: str
) -> None:
    gray = np.asarray(
        Image.open(shared_file(shared_data, "scikit-image/astronaut.png")).convert("L"),
        dtype=np.uint16,
    )
    wide = (gray << 8) | (gray ^ 0x5A)  # distinct low bytes: a scaled-down copy would show
    src = tmp_path / f"scan.{suffix}"
    Image.fromarray(wide).save(src)
    result = Redactor(workers=1, plates=False).redact_file(src, tmp_path / "out" / src.name)
    assert result.ok, result.error
    assert result.detections and result.detections[0]["label"] == "face"
    with Image.open(tmp_path / "out" / src.name) as im:  # Pillow as the independent decoder
        assert im.mode.startswith("I;16")
        written = np.asarray(im, dtype=np.uint16)
    x0, y0, x1, y1 = (int(v) for v in result.detections[0]["box"])
    face = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0, x1))
    assert np.abs(written[face].astype(int) - wide[face]).mean() > 1000
    assert np.array_equal(written[:, :64], wide[:, :64])  # far from the face: all 16 bits


@pytest.mark.parametrize(("suffix", "channels"), [("png", 3), ("png", 4), ("tiff", 3)])
def test_16_bit_rgb_photo_is_redacted_and_keeps_16_bits(
    shared_data: Path, tmp_path: Path, suffix: str, channels: int
) -> None:
    import cv2

    rgb = np.asarray(
        Image.open(shared_file(shared_data, "scikit-image/astronaut.png")).convert("RGB"),
        dtype=np.uint16,
    )
    wide = (rgb << 8) | (rgb ^ 0xA5)  # distinct low bytes: an 8-bit copy would show
    if channels == 4:
        wide = np.dstack([wide, np.full(wide.shape[:2], 0xFFF0, np.uint16)])
    src = tmp_path / f"scan.{suffix}"
    order = [2, 1, 0, 3][:channels]
    assert cv2.imwrite(str(src), np.ascontiguousarray(wide[:, :, order]))
    result = Redactor(workers=1, plates=False).redact_file(src, tmp_path / "out" / src.name)
    assert result.ok, result.error
    assert result.detections and result.detections[0]["label"] == "face"
    written = cv2.imread(str(tmp_path / "out" / src.name), cv2.IMREAD_UNCHANGED)
    assert written is not None and written.dtype == np.uint16
    written = written[:, :, order]
    x0, y0, x1, y1 = (int(v) for v in result.detections[0]["box"])
    face = (slice(y0 + (y1 - y0) // 4, y1 - (y1 - y0) // 4), slice(x0, x1))
    assert np.abs(written[face][..., :3].astype(int) - wide[face][..., :3]).mean() > 1000
    assert np.array_equal(written[:, :64], wide[:, :64])  # far from the face: all 16 bits
