"""``local_time``: **the one wording of a moment on a command line** — ``2026-12-06 00:23:23
+07:00``: the site's zone (``site.timezone``), to the second, with its offset. Every time
``feedsvc status``, ``subs list`` and the other commands print (a 429 pause's end, a sample's
publication, a quarantined row's last sighting, the ingest cursor), directly or through the
CLI's translator (:class:`feedsvc.catalogue.Translator` made with ``seconds=True``,
:func:`feedsvc.cli.common.cli_words`). Why to the second: a 429 pause of 90 s shown as
"until 17:47" hid 22 of its seconds, and README promises seconds. The admin's pages and the
bot keep the catalogue's minutes (README: "to the minute"). No Babel: ``status`` must start
fast — pure."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo


def local_time(moment: datetime, tz: tzinfo) -> str:
    """``moment`` in ``tz`` to the second with its offset: ``2026-12-06 00:23:23 +07:00``
    (``+00:00`` for UTC). A naive ``moment`` is UTC (SQLite gives its datetimes back naive);
    fractions of a second are dropped, never rounded up into the next second."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    local = aware.astimezone(tz)
    offset = local.strftime("%z")  # +0700
    return f"{local:%Y-%m-%d %H:%M:%S} {offset[:3]}:{offset[3:5]}"
