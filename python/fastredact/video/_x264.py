"""libx264 without its AVX-512 code, so that the same frames always give the same file.

x264's AVX-512 functions read memory they did not write when the frame width is not a
multiple of 64: measured with PyAV's libx264 (CRF 18, medium, one thread), 8 encodes of the
same 60 frames 608 px wide gave 4 to 8 different files; with the instruction sets up to AVX2
(or at 640 px, or without assembly) every encode gave the same file. The decoded pictures
differ by a few grey levels near the right edge (what is hidden does not change), but the
output's SHA-256 in the manifest would change from one run to the next.

On an x86-64 CPU whose ``/proc/cpuinfo`` lists ``avx512f``, x264 is told which instruction
sets to use: those that file lists, up to AVX2 (x264's names, :data:`X264_NAMES`). Elsewhere
(no AVX-512, another architecture, no ``/proc``) x264 detects them itself. Naming a set the
CPU lacks would crash the encoder, so only what the kernel reports is named.
"""

from __future__ import annotations

import functools
import platform
from pathlib import Path

__all__ = ["X264_NAMES", "x264_cpu_params"]

X264_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MMX2", ("sse",)),
    ("SSE", ("sse",)),
    ("SSE2", ("sse2",)),
    ("SSE2Fast", ("sse2",)),
    ("SSE3", ("pni",)),
    ("SSSE3", ("ssse3",)),
    ("SSE4", ("sse4_1",)),
    ("SSE4.2", ("sse4_2",)),
    ("LZCNT", ("abm", "lzcnt")),
    ("AVX", ("avx",)),
    ("FMA3", ("fma",)),
    ("BMI1", ("bmi1",)),
    ("BMI2", ("bmi2",)),
    ("AVX2", ("avx2",)),
)
"""x264's name for each instruction set up to AVX2, and the ``/proc/cpuinfo`` flags (any
one) that show the CPU has it."""


def x264_cpu_params(
    cpuinfo: Path = Path("/proc/cpuinfo"), machine: str | None = None
) -> str | None:
    """``x264-params`` that keep x264 off AVX-512 on this CPU, or ``None`` when it has none
    (or this cannot be known)."""
    return _cpu_params(cpuinfo, machine or platform.machine())


@functools.cache
def _cpu_params(cpuinfo: Path, machine: str) -> str | None:
    if machine.lower() not in ("x86_64", "amd64"):
        return None
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    if "avx512f" not in flags:
        return None
    names = [name for name, shown_by in X264_NAMES if flags.intersection(shown_by)]
    return "asm=" + ",".join(names)
