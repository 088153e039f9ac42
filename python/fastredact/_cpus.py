"""How many CPU cores this process may really use.

``os.cpu_count()`` counts the machine's cores. In a container or a batch job the process is
often allowed far fewer: a CPU affinity mask (``taskset``, Slurm, Kubernetes' static CPU
manager) or a CFS quota (Docker ``--cpus``, Kubernetes CPU limits, cgroup v2 ``cpu.max`` or
v1 ``cpu.cfs_quota_us``). Sizing workers and threads by the machine there starts dozens of
threads that fight over two cores and multiply the memory use. :func:`usable_cpus` takes the
smallest of the three.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path

__all__ = ["usable_cpus"]

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def usable_cpus(cgroup_root: Path = _CGROUP_ROOT) -> int:
    """Cores this process may use: machine cores, affinity mask and CFS quota, the least."""
    cores = os.cpu_count() or 1
    with contextlib.suppress(AttributeError, OSError):  # no affinity masks outside Linux
        cores = min(cores, len(os.sched_getaffinity(0)))
    quota = _cfs_quota(cgroup_root)
    if quota is not None:
        cores = min(cores, max(1, math.ceil(quota)))
    return max(1, cores)


def _cfs_quota(root: Path) -> float | None:
    """The CFS quota in cores (cgroup v2 ``cpu.max``, else v1), or None when unlimited."""
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        parts = v2.split()
        if len(parts) == 2 and parts[0] != "max":
            return _ratio(parts[0], parts[1])
        return None
    quota = _read(root / "cpu" / "cpu.cfs_quota_us") or _read(root / "cpu.cfs_quota_us")
    period = _read(root / "cpu" / "cpu.cfs_period_us") or _read(root / "cpu.cfs_period_us")
    if quota is None or period is None:
        return None
    return _ratio(quota, period)


def _ratio(quota: str, period: str) -> float | None:
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None
