"""The state DB's disk in one language's words (``Translator.state_disk``): the admin's status
page's ``fact.state_db_disk_full`` line (:class:`feedsvc.state_disk.StateDisk`; its strings,
``disk.*``, are in :mod:`feedsvc.catalogue.status`). ``feedsvc status``' English text is
``state_disk.said`` (plain digits, the log's words); this is the people's: sizes in kB/MB/GB,
counts grouped, since when as a local time and "… ago". Apart from ``__init__``, which is
at its size."""

from __future__ import annotations

from typing import TYPE_CHECKING

from babel.units import format_unit

if TYPE_CHECKING:
    from feedsvc.catalogue import Translator
    from feedsvc.state_disk import StateDisk

#: The CLDR units a size is said in, from a thousand bytes up (decimal, as ``df -H``).
_UNITS = ("kilobyte", "megabyte", "gigabyte", "terabyte", "petabyte")


def size(t: Translator, n: int) -> str:
    """``812 bytes``, ``4.1 kB``, ``1.7 MB``, ``3.2 GB`` (vi ``4,1 kB``): one decimal, the
    largest unit under a thousand of it."""
    if n < 1000:
        return format_unit(n, "digital-byte", length="long", locale=t.language)
    value, unit = n / 1000, 0
    while round(value, 1) >= 1000 and unit < len(_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    shown = round(value, 1)
    return format_unit(shown, f"digital-{_UNITS[unit]}", length="short", locale=t.language)


def free(t: Translator, disk: StateDisk) -> str:
    """What is left: the size, and the inodes where the file system counts them (none left
    said so: a full inode table refuses a new ``-shm``/WAL with bytes free)."""
    if disk.free_bytes is None:
        return t("disk.free_unknown")
    shown = size(t, disk.free_bytes)
    if disk.free_inodes is None:
        return t("disk.free_size", size=shown)
    if disk.free_inodes == 0:
        return t("disk.no_inode", size=shown)
    return t("disk.free", size=shown, inodes=t.number(disk.free_inodes))


def state_disk(t: Translator, disk: StateDisk) -> str:
    """``disk`` in words: full (since when, what is left, what still works and what to do),
    not full (what is left), or not known. An SQLite file's directory is not in them: the
    page shows it after them as data (``status.html``; a path is never translated)."""
    if disk.full is None:
        return t("disk.unknown")
    since = ""
    if disk.since is not None:
        since = t("disk.since", time=t.time(disk.since), ago=t.ago(disk.since))
    if disk.server or disk.directory is None:  # a server's (or in memory): writes tell
        return t("disk.full_server", since=since) if disk.full else t("disk.room_server")
    return t("disk.full" if disk.full else "disk.room", since=since, free=free(t, disk))
