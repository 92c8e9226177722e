"""``feedsvc source check`` (or ``config check``) on a CMS table, as an operator runs it: a
config file with a throw-away state DB, the source's URL, table and ``[source.columns]``, and
no ``FEEDSVC_*`` variables of the test's environment."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner, Result

from feedsvc.cli import cli


def run_check(
    tmp_path: Path, url: str, table: str, columns: dict[str, str], command: str = "source",
    source: str = "", site: str = "",
) -> Result:  # fmt: skip
    """``feedsvc <command> check --config …`` with ``columns`` as ``[source.columns]``;
    ``source``/``site``: more lines of ``[source]`` and ``[site]``."""
    mapping = "".join(f'{key} = "{value}"\n' for key, value in columns.items())
    config = tmp_path / "feedsvc.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "s.db"}"\n'
        f'[source]\nurl = "{url}"\ntable = "{table}"\n{source}[source.columns]\n{mapping}'
        f"[site]\n{site}",
        encoding="utf-8",
    )
    env = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    return CliRunner().invoke(cli, [command, "check", "--config", str(config)], env=env)
