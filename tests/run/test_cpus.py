"""Usable cores: the machine, the affinity mask and the cgroup CPU quota, the smallest."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fastredact._cpus import usable_cpus
from fastredact.options import RedactOptions


def _affinity() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()  # type: ignore[return-value]


def test_no_cgroup_files_means_affinity(tmp_path: Path) -> None:
    assert usable_cpus(tmp_path) == _affinity()


@pytest.mark.parametrize(
    ("content", "expected"),
    [("150000 100000", 2), ("50000 100000", 1), ("max 100000", None), ("garbage", None)],
)
def test_cgroup_v2_cpu_max(tmp_path: Path, content: str, expected: int | None) -> None:
    (tmp_path / "cpu.max").write_text(content + "\n")
    assert usable_cpus(tmp_path) == min(_affinity(), expected or 10**6)


def test_cgroup_v1_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert usable_cpus(tmp_path) == 1
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")  # unlimited
    assert usable_cpus(tmp_path) == _affinity()


def test_threads_per_worker() -> None:
    assert RedactOptions(workers=1, threads=1).threads_per_worker == 1
    assert RedactOptions(workers=1).threads_per_worker == usable_cpus()
    assert RedactOptions(workers=10**3).threads_per_worker == 1
    with pytest.raises(ValueError, match="threads"):
        RedactOptions(threads=0)
    # Threads change nothing in the output: not part of the resume fingerprint.
    assert RedactOptions(threads=1).fingerprint() == RedactOptions(threads=2).fingerprint()
