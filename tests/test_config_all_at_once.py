"""``feedsvc config check`` reports every problem it can find in one run (defects §9).

It reported in stages: the model's errors first, and only once those were fixed the missing
token file, the unknown time zone, the Zalo secret's length, the source URL, then the topics
file. Now each invalid key is reported and set aside (its default stands in), the checks that
need settings run on the rest, and the topics file is read too. A TOML syntax error still stops
(nothing more can be read); ``feedsvc run`` refuses with the same full list.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from feedsvc.cli import cli
from feedsvc.config import ConfigError, load_config

BAD_TOPICS = '[[topic]]\nslug = "Bad Slug"\ntitle = "x"\nquery = "a OR"\n'


def write(tmp_path: Path, config: str, topics: str | None = None) -> Path:
    if topics is not None:
        (tmp_path / "topics.toml").write_text(topics, encoding="utf-8")
    path = tmp_path / "feedsvc.toml"
    path.write_text(config.replace("TOPICS", str(tmp_path / "topics.toml")), encoding="utf-8")
    return path


def check(path: Path, **env: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


CASES = {
    "model errors, then files, zone, secret, topics": (
        '[http]\nport = 99999\npublic_url = "not a url"\n'
        '[telegram]\ntoken_file = "/nonexistent/token"\n'
        '[source]\ntimezone = "Mars/Olympus"\npoll_seconds = -1\n'
        '[topics]\nfile = "TOPICS"\n'
        '[zalo]\nwebhook_secret_file = "/nonexistent/secret"\n',
        BAD_TOPICS,
        ["http.port", "http.public_url", "telegram.token_file", "source.timezone",
         "source.poll_seconds", "zalo.webhook_secret_file", "topics.file: topic #1 (Bad Slug)",
         "topics.file: topic Bad Slug: query"],
    ),
    "unknown section, bad source URL, short secret": (
        '[sorce]\nurl = "x"\n[source]\nurl = "::not a url::"\n'
        '[zalo]\nwebhook_secret = "short"\n[admin]\ntoken_file = "/nonexistent/admin"\n',
        None,
        ["sorce", "source.url", "zalo.webhook_secret", "admin.token_file"],
    ),
    "a bad list item and a whole section of the wrong type": (
        'admin = 5\n[http]\ntrusted_proxies = ["not-a-network"]\n'
        '[topics]\nfile = "TOPICS"\nimport_on_start = true\n'
        '[source]\ntimezone = "Nowhere/Town"\n',
        BAD_TOPICS,
        ["admin", "http.trusted_proxies", "source.timezone", "topics.file: topic #1"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(CASES))
def test_every_problem_in_one_run(tmp_path: Path, case: str) -> None:
    config, topics, expected = CASES[case]
    path = write(tmp_path, config, topics)
    code, output = check(path)
    assert code == 2
    for key in expected:
        assert f"  {key}" in output, (key, output)
    assert f"{len(output.splitlines()) - 1 - output.count('warning:')} problem(s)" in output


def test_run_refuses_with_the_same_full_list(tmp_path: Path) -> None:
    config, topics, _ = CASES["model errors, then files, zone, secret, topics"]
    path = write(tmp_path, config, topics)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    keys = {p.key for p in caught.value.problems}
    assert {"http.port", "telegram.token_file", "source.timezone",
            "zalo.webhook_secret_file"} <= keys  # fmt: skip
    ran = CliRunner().invoke(cli, ["run", "--config", str(path)])
    assert ran.exit_code == 2 and "telegram.token_file" in ran.output


def test_env_and_file_problems_together(tmp_path: Path) -> None:
    path = write(tmp_path, '[telegram]\ntoken_file = "/nonexistent/token"\n')
    code, output = check(path, FEEDSVC_HTTP__PORT="eighty", FEEDSVC_SITE__TIMEZONE="Mars/Base")
    assert code == 2
    assert "http.port" in output and "telegram.token_file" in output
    assert "site.timezone" in output


def test_a_refused_topics_file_key_reads_no_other_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``topics.file`` of the wrong type: the default file is not read in its place."""
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "topics.toml").write_text(BAD_TOPICS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # the default topics.file, config/topics.toml, is this one
    path = write(tmp_path, '[topics]\nfile = 5\n[admin]\ntoken_file = "/nonexistent/a"\n')
    code, output = check(path)
    assert code == 2 and "topics.file" in output and "admin.token_file" in output
    assert "topic #" not in output and "file not found: config/topics.toml" not in output


def test_toml_syntax_error_still_stops_there(tmp_path: Path) -> None:
    path = write(tmp_path, '[http]\nport = 80\nhost = \n[telegram]\ntoken_file = "/nope"\n')
    code, output = check(path)
    assert code == 2 and "invalid TOML" in output and "line 3" in output
    assert "1 problem(s)" in output and "token_file" not in output
