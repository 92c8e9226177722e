"""How many match worker processes ``source.match_workers = "auto"`` means on this machine.

Apart from the settings models because it reads the machine (the CPU affinity and the cgroup's
CPU quota), not the configuration file: the models only declare the key and its bounds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

#: cgroup v2's CPU limit of this process's group (a container's ``--cpus``): "<quota|max> <period>"
CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


def quota_cores(cpu_max: str) -> int | None:
    """Whole cores a cgroup v2 ``cpu.max`` line allows, at least 1 (``"150000 100000"`` → 1);
    None when it sets no limit (``"max 100000"``) or cannot be read as one."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return max(1, quota // period) if quota > 0 and period > 0 else None


def match_processes(setting: int | Literal["auto"]) -> int:
    """Match worker processes for ``source.match_workers``: ``"auto"`` is one per core this
    process may use beyond the first — the cores it may run on, capped by its cgroup's CPU
    quota (``docker --cpus=1`` on a 16-core host is one core) — so 0 on one core: matching
    stays in-process."""
    if setting != "auto":
        return setting
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    try:
        quota = quota_cores(CPU_MAX.read_text(encoding="ascii"))
    except (OSError, ValueError):  # no cgroup v2 here
        quota = None
    return max(0, min(cores, quota or cores) - 1)
