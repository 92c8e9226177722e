"""The one check of a time zone setting (``site.timezone``, ``source.timezone``) and its words.

"unknown IANA timezone 'Asia/Hanoi'" said nothing of what to write instead, and IANA has no
Asia/Hanoi: Vietnam's zone is Asia/Ho_Chi_Minh, the default. An offset (``UTC+7``, ``GMT+7``,
``+07:00``) is no zone name either, and IANA's fixed-offset names reverse the sign
(``Etc/GMT+7`` is UTC-7): a close-match suggestion for ``GMT+7`` would have named the zone
fourteen hours away. So the line names the zone the operator most likely meant. Pure.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

#: ``UTC+7``, ``GMT +07:00``, ``+7``, ``UTC-03:30``: an offset written where a zone name goes.
_OFFSET = re.compile(r"(?:UTC|GMT)?\s*(?P<sign>[+-])\s*(?P<hours>\d{1,2})(?::?(?P<mins>\d\d))?")
#: An example that is right for the newsrooms feedsvc is for, named in every refusal.
_EXAMPLE = "an IANA zone name such as Asia/Ho_Chi_Minh (Vietnam's, the default) or UTC"


def zone_problem(value: str) -> str | None:
    """Why ``value`` is no time zone ``zoneinfo`` has, with what to write instead; None when
    it is one."""
    try:
        ZoneInfo(value)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    said = f"unknown IANA timezone {value!r}"
    offset = _OFFSET.fullmatch(value.strip())
    if offset is not None:
        hours, whole = int(offset["hours"]), offset["mins"] in (None, "00")
        fixed = f"Etc/GMT{'-' if offset['sign'] == '+' else '+'}{hours}"
        if whole and hours and fixed in available_timezones():
            return (
                f"{said}: an offset is not a zone name; write {_EXAMPLE}, or for a fixed "
                f"{offset['sign']}{hours:02d}:00 all year {fixed} (IANA's Etc/GMT names reverse "
                "the sign)"
            )
        return f"{said}: an offset is not a zone name; write {_EXAMPLE}"
    meant = _same_but_case(value.strip())
    if meant is not None:
        return f"{said}: did you mean {meant}?"
    return f"{said}: write {_EXAMPLE}"


def _same_but_case(value: str) -> str | None:
    """The zone whose name differs from ``value`` only in case, spaces or underscores
    (``asia/ho chi minh``): never a merely similar name (``Asia/Hanoi`` is not Asia/Yangon)."""
    key = value.lower().replace(" ", "_")
    return next((z for z in sorted(available_timezones()) if z.lower() == key), None)
