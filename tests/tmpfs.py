"""A real small file system for the tests of a full disk: a tmpfs mounted for one test.

Why: a disk that fills is only believable on a real file system (SQLite's ``-shm`` and WAL
writes, ``statvfs``' figures, ENOSPC from the kernel); a tmpfs of a few MB is one, made and
gone in milliseconds. Mounting needs root (CI runs as root); elsewhere the test is skipped
with the reason."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def tmpfs(size: str, inodes: int | None = None, prefix: str = "feedsvc-disk-") -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (``2m``, mount(8)'s units) and ``inodes`` (tmpfs'
    ``nr_inodes``) at a new directory, mode 0755 (readable by the postgres user); unmounted
    lazily and its directory removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = Path(tempfile.mkdtemp(prefix=prefix))
    mount.chmod(0o755)
    options = f"size={size},mode=0755" + (f",nr_inodes={inodes}" if inodes else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
        mount.rmdir()
