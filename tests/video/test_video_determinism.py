"""The same input and settings give the same output file, byte for byte (the manifest records
its SHA-256), whatever else the process allocated before and however many frames were
detected at once; and the x264 settings that make it so name only what the CPU has."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from fastredact._spare_cores import SpareCores
from fastredact.video import redact_video
from fastredact.video._x264 import X264_NAMES, x264_cpu_params
from tests.support.videoclips import SquareDetector, fill_black, make_square_clip


def test_the_same_frames_give_the_same_file(tmp_path: Path) -> None:
    # 608 px: not a multiple of 64, where x264's AVX-512 code read memory it had not written
    src = make_square_clip(tmp_path / "in.mp4", frames=30, width=608, height=360)
    digests = set()
    litter = []
    for run, spare in enumerate([None, SpareCores(2), None, SpareCores(3), None, None]):
        litter.append(
            [bytearray(np.random.default_rng(run).integers(64, 9000)) for _ in range(300)]
        )
        out = tmp_path / f"out{run}.mp4"
        redact_video(
            src, out, detector=SquareDetector(), redact_frame=fill_black, spare_cores=spare
        )
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


AVX512_FLAGS = "fpu sse sse2 pni ssse3 fma sse4_1 sse4_2 avx abm bmi1 avx2 bmi2 avx512f avx512bw"


@pytest.mark.parametrize(
    ("flags", "machine", "expected"),
    [
        (
            AVX512_FLAGS,
            "x86_64",
            "asm=MMX2,SSE,SSE2,SSE2Fast,SSE3,SSSE3,SSE4,SSE4.2,LZCNT,AVX,FMA3,BMI1,BMI2,AVX2",
        ),
        (
            "fpu sse sse2 ssse3 sse4_1 avx avx512f",
            "AMD64",
            "asm=MMX2,SSE,SSE2,SSE2Fast,SSSE3,SSE4,AVX",
        ),
        ("fpu sse sse2 pni ssse3 sse4_1 sse4_2 avx avx2 fma bmi1 bmi2", "x86_64", None),
        (AVX512_FLAGS, "aarch64", None),
    ],
)
def test_x264_is_kept_off_avx512_naming_only_what_the_cpu_has(
    tmp_path: Path, flags: str, machine: str, expected: str | None
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: {flags}\n\n")
    got = x264_cpu_params(cpuinfo, machine)
    assert got == expected
    if got is not None:
        named = got.removeprefix("asm=").split(",")
        shown = dict(X264_NAMES)
        assert all(set(shown[name]) & set(flags.split()) for name in named)
        assert "AVX512" not in named


def test_no_cpuinfo_leaves_x264_to_detect(tmp_path: Path) -> None:
    assert x264_cpu_params(tmp_path / "missing", "x86_64") is None
