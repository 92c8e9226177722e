"""``[site]`` left at its built-in placeholders (``https://example.vn/``, "Tin tức"): a fresh
install passed ``config check`` as "built-in defaults: OK" and ``run`` published feeds and pages
linking the placeholder (a newcomer's walk-through). A warning of ``config check`` (exit
unchanged) and of ``run``'s start (once), naming the key and its variable; never the demo's
(``tests/test_startup_logs.py``'s demo log has no WARNING)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from processes import run_then_sigterm

from feedsvc.cli import cli
from feedsvc.config import advice, load_config


def check(*args: str, **env: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["config", "check", *args], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output.splitlines()


@pytest.mark.usefixtures("clean_cli")
def test_config_check_on_built_in_defaults_warns_of_the_placeholder_site() -> None:
    code, lines = check()
    assert code == 0, lines  # a warning, not a problem: the README's exit codes stand
    assert lines[-1].endswith(": OK"), lines
    url = [line for line in lines if line.startswith("warning: site.url: ")]
    title = [line for line in lines if line.startswith("warning: site.title: ")]
    assert len(url) == 1 and len(title) == 1, lines
    assert "'https://example.vn/'" in url[0] and "FEEDSVC_SITE__URL" in url[0]
    assert "'Tin tức'" in title[0] and "FEEDSVC_SITE__TITLE" in title[0]


def test_a_set_site_has_no_placeholder_warning(clean_cli: Path) -> None:
    path = clean_cli / "feedsvc.toml"
    path.write_text('[site]\ntitle = "Báo Kiến Thụy"\n', encoding="utf-8")
    code, lines = check("--config", str(path), FEEDSVC_SITE__URL="https://kienthuy.vn/")
    assert code == 0, lines
    assert not [line for line in lines if "site." in line], lines
    # the placeholder written out again is still the placeholder
    placeholder = '[site]\ntitle = "Báo Kiến Thụy"\nurl = "https://example.vn/"\n'
    path.write_text(placeholder, encoding="utf-8")
    code, lines = check("--config", str(path))
    assert code == 0, lines
    assert [line.split(":")[1] for line in lines if "placeholder" in line] == [" site.url"]


@pytest.mark.usefixtures("clean_cli")
def test_the_demo_is_not_told_of_the_placeholders() -> None:
    settings = load_config(None)
    assert {w.key for w in advice(settings)} >= {"site.url", "site.title"}
    assert not [w for w in advice(settings, placeholders=False) if w.key.startswith("site.")]


@pytest.mark.slow
def test_run_logs_the_placeholder_warning_once_at_start(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["FEEDSVC_CONFIG"] = "/dev/null"  # no config file: the built-in defaults
    code, _, text = run_then_sigterm(
        tmp_path, env, ["--no-bot"], lambda log: "feedsvc started" in log(), 120, "run to start"
    )
    assert code == 0, text
    lines = text.splitlines()
    url = [line for line in lines if " WARNING " in line and "site.url: " in line]
    title = [line for line in lines if " WARNING " in line and "site.title: " in line]
    assert len(url) == 1 and len(title) == 1, text
    assert "FEEDSVC_SITE__URL" in url[0]
