"""The demo banner's ``export`` line gives a CLI the demo's settings: the same state DB, the
same ``topics.file``, the same source, the same public URL and config file.

A newsroom admin used the banner's exports (the DB and the public URL only) and ran
``topics import one.toml``: the CLI saw no ``topics.file`` (the demo's was its packaged one),
took the whole-file meaning and switched off every other topic, the demo's own with their
subscribers. Now every setting the demo sets is exported, except those of
``demo_exports.SERVING_ONLY`` (where it listens, its poll interval, its admin token); a CLI that
loads exactly the printed exports, in another directory and shell, sees every other setting as
the demo does.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_demo_banner_feeds import ROOT, Start, _banner, _named, demo  # noqa: F401

from feedsvc.cli.demo_cmd import _demo_settings
from feedsvc.config import config_path, load_config

ONE = '[[topic]]\nslug = "cat-ba"\ntitle = "Cát Bà"\nquery = \'"Cát Bà"\'\n'
OWN = '[[topic]]\nslug = "rieng"\ntitle = "Riêng"\nquery = \'"riêng"\'\n'


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and prefix == "":
            out |= _flat(value, f"{key}.")
        else:
            out[prefix + key] = value
    return out


def _seen(settings: Any) -> dict[str, Any]:
    """Every setting but the serving-only ones, paths absolute, an empty source URL unset."""
    from feedsvc.cli.demo_exports import SERVING_ONLY

    flat = _flat(settings.model_dump())
    flat["topics.file"] = Path(flat["topics.file"]).absolute()
    flat["source.url"] = flat["source.url"] or None
    return {k: v for k, v in flat.items() if k not in SERVING_ONLY}


@pytest.mark.parametrize(
    "setup",
    ["nothing set", "config/topics.toml here", "config file with a source", "variables"],
)
def test_a_cli_with_the_printed_exports_sees_the_demos_settings(
    clean_cli: Path, monkeypatch: pytest.MonkeyPatch, setup: str
) -> None:
    from feedsvc.cli.demo_exports import export_line, exports

    monkeypatch.delenv("FEEDSVC_CONFIG")
    here = clean_cli / "here"
    (here / "config").mkdir(parents=True)
    if setup == "config/topics.toml here":  # the default location, relative to here
        (here / "config" / "topics.toml").write_text(OWN, encoding="utf-8")
    if setup == "config file with a source":  # the demo uses its built-in source instead
        (here / "own.toml").write_text(OWN, encoding="utf-8")
        (here / "config" / "feedsvc.toml").write_text(
            '[source]\nurl = "postgresql://cms@127.0.0.1/cms"\n[topics]\nfile = "own.toml"\n'
            '[site]\ntitle = "Tin tức Hải Phòng"\n',
            encoding="utf-8",
        )
    if setup == "variables":
        (here / "own.toml").write_text(OWN, encoding="utf-8")
        monkeypatch.setenv("FEEDSVC_TOPICS__FILE", "own.toml")
        monkeypatch.setenv("FEEDSVC_SOURCE__URL", "sqlite:////nowhere/cms.db")
    monkeypatch.chdir(here)
    demo_settings, config = _demo_settings(here / "var" / "demo", 18231, None)
    printed = export_line(exports(demo_settings, config))
    expected = _seen(demo_settings)  # its relative paths read here, as the demo read them
    # another shell, in another directory: only the variables printed
    for key in list(os.environ):
        if key.startswith("FEEDSVC_"):
            monkeypatch.delenv(key)
    for assignment in shlex.split(printed):
        name, _, value = assignment.partition("=")
        monkeypatch.setenv(name, value)
    elsewhere = clean_cli / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    cli_settings = load_config(config_path(None))
    assert _seen(cli_settings) == expected, printed
    assert cli_settings.topics.file.is_file()  # the demo's file, read from elsewhere


def test_the_banners_exports_import_one_topic_as_another_file(
    demo: Start,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The tester's steps: the demo, the banner's exports, ``topics import one.toml`` from
    another directory: one topic created, none switched off, the demo's topics still on."""
    banner = _banner(demo("--articles", "20"))
    [printed] = _named(r"\n +export (.+)\n", banner)
    [topics_file] = _named(r"\n  topics +(.+)\n", banner)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    for assignment in shlex.split(printed):
        name, _, value = assignment.partition("=")
        env[name] = value
    assert env["FEEDSVC_TOPICS__FILE"] == topics_file, printed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "one.toml").write_text(ONE, encoding="utf-8")

    def feedsvc(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *args],
            cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    imported = feedsvc("topics", "import", "one.toml")
    assert "one.toml: 1 created, 0 updated, 0 unchanged, 0 disabled" in imported, imported
    assert "is not topics.file" in imported, imported
    listed = dict(line.split("\t")[:2] for line in feedsvc("topics", "list").splitlines())
    assert listed.pop("cat-ba").strip() == "enabled"
    assert listed and all(state.strip() == "enabled" for state in listed.values()), listed
