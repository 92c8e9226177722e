"""Configuration: defaults, the TOML file, env overrides, and reporting every problem by key."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from site_placeholder import unplaced
from test_config_urls import cli_process

from feedsvc.cli import cli
from feedsvc.config import (
    MIN_ADMIN_TOKEN_CHARS,
    ConfigError,
    load_config,
    secrets_in_config_file,
)

SHIPPED = Path(__file__).parent.parent / "config" / "feedsvc.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDSVC_CONFIG", raising=False)
    s = load_config(None)
    assert s.database.url.startswith("sqlite:///var/")
    assert s.http.host == "127.0.0.1"
    assert s.site.timezone == "Asia/Ho_Chi_Minh"
    assert s.telegram.global_rate == 25
    assert s.telegram_token() is None


def test_shipped_config_is_valid_and_documents_every_key() -> None:
    s = load_config(SHIPPED)
    text = SHIPPED.read_text(encoding="utf-8")
    for key in (
        "topics.file",
        "database.url",
        "source.url",
        "source.table",
        "source.poll_seconds",
        "http.host",
        "http.port",
        "http.public_url",
        "telegram.token",
        "telegram.base_url",
        "telegram.admins",
        "telegram.global_rate",
        "admin.token",
        "site.title",
        "site.url",
        "site.timezone",
    ):
        section, name = key.split(".")
        assert hasattr(getattr(s, section), name), key
        assert f"[{section}]" in text and name in text, f"{key} not documented"


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[http]\nport = 9000\n[telegram]\nadmins = [1]\n")
    monkeypatch.setenv("FEEDSVC_HTTP__PORT", "9100")
    monkeypatch.setenv("FEEDSVC_TELEGRAM__ADMINS", "[5, 6]")
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", "123:secret-token")
    s = load_config(path)
    assert s.http.port == 9100
    assert s.telegram.admins == [5, 6]
    assert s.telegram_token() == "123:secret-token"
    assert "secret-token" not in repr(s)


def test_every_problem_is_reported_with_its_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[http]\nport = "eighty"\nprot = 1\n[site]\ntimezone = "Mars/Olympus"\n'
        'url = "example.vn"\n[telegram]\nglobal_rate = 100\n[sorce]\nurl = "x"\n',
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    keys = {p.key for p in info.value.problems}
    assert keys == {
        "http.port",
        "http.prot",
        "site.timezone",
        "site.url",
        "telegram.global_rate",
        "sorce",
    }
    text = str(info.value)
    assert "'eighty'" in text and "Mars/Olympus" in text and "unknown key" in text


def test_toml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[http]\nport = 80\nhost = \n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "line 3" in str(info.value)


def test_token_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("42:from-a-file\n")
    path = write(tmp_path, f'[telegram]\ntoken_file = "{secret}"\n')
    assert load_config(path).telegram_token() == "42:from-a-file"
    missing = write(tmp_path, '[admin]\ntoken_file = "/nonexistent/token"\n')
    with pytest.raises(ConfigError, match=r"admin\.token_file"):
        load_config(missing)


def test_secret_in_file_is_refused(tmp_path: Path) -> None:
    """(``test_config_secrets_in_file.py``: every command's answer.)"""
    path = write(tmp_path, '[admin]\ntoken = "hunter2-long"\n')
    found = secrets_in_config_file(path)
    assert [p.key for p in found] == ["admin.token"]
    assert "hunter2" not in str(found[0])
    with pytest.raises(ConfigError, match=r"admin\.token: a secret may not be written"):
        load_config(path)


def test_config_check_cli(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(cli, ["config", "check", "--config", str(SHIPPED)])
    assert good.exit_code == 0, good.output
    bad = write(tmp_path, "[http]\nport = -5\n[source]\npoll_seconds = 0\n")
    result = runner.invoke(cli, ["config", "check", "--config", str(bad)])
    assert result.exit_code == 2
    assert "http.port" in result.output and "source.poll_seconds" in result.output
    assert "Traceback" not in result.output


def test_config_before_the_command_name(clean_cli: Path) -> None:
    """``feedsvc --config FILE COMMAND`` reads FILE as ``COMMAND --config FILE`` does (the
    README: "every command reads one TOML file: --config FILE"); it was "No such option
    '--config'", exit 2. A file after the command name wins; neither: FEEDSVC_CONFIG."""
    runner = CliRunner()
    db = clean_cli / "state" / "before.db"
    before = write(clean_cli, f'[database]\nurl = "sqlite:///{db}"\n')
    after = clean_cli / "after.toml"
    after.write_text('[site]\ntitle = "After"\n', encoding="utf-8")

    shown = runner.invoke(cli, ["--config", str(before), "config", "show"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["database"]["url"] == f"sqlite:///{db}"
    both = runner.invoke(cli, ["--config", str(before), "config", "show", "--config", str(after)])
    assert both.exit_code == 0, both.output
    settings = json.loads(both.output)
    assert settings["site"]["title"] == "After"
    assert settings["database"]["url"] == "sqlite:///var/feedsvc.db"

    (clean_cli / "state").mkdir()
    upgraded = runner.invoke(cli, ["--config", str(before), "db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert db.is_file()  # the root's file named the state DB the command wrote
    listed = runner.invoke(cli, ["--config", str(before), "topics", "list"])
    assert listed.exit_code == 0, listed.output

    bad = runner.invoke(cli, ["--config", str(clean_cli / "missing.toml"), "status"])
    assert bad.exit_code == 2
    assert "missing.toml" in bad.output and "cannot read" in bad.output
    assert "No such option" not in bad.output


def test_run_refuses_bad_config(tmp_path: Path) -> None:
    bad = write(tmp_path, "[database]\nurl = 'not a url'\n[http]\nport = 'x'\n")
    result = CliRunner().invoke(cli, ["run", "--config", str(bad)])
    assert result.exit_code == 2
    assert "database.url" in result.output and "http.port" in result.output


def test_short_admin_token_is_warned_about_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path, "[http]\nport = 8080\n")
    runner = CliRunner()
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", "hunter2")
    weak = runner.invoke(cli, ["config", "check", "--config", str(cfg)])
    assert weak.exit_code == 0  # a warning, not a refusal
    assert "warning: admin.token: only 7 characters" in weak.output
    assert "hunter2" not in weak.output
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", "q" * MIN_ADMIN_TOKEN_CHARS)
    strong = runner.invoke(cli, ["config", "check", "--config", str(cfg)])
    assert strong.exit_code == 0 and "admin.token" not in strong.output


def test_env_overrides_nest_and_merge_with_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``FEEDSVC_<SECTION>__<KEY>[__<KEY>]``, names in any case, lists and sections as JSON;
    env wins key by key, the file's other keys in the same section stay (issue #17 §1: read by
    feedsvc.config itself since pydantic-settings was dropped)."""
    path = write(
        tmp_path,
        '[source]\nurl = "sqlite:///cms.db"\ntable = "posts"\n[source.columns]\ntitle = "t"\n'
        '[http]\nport = 9000\nhost = "0.0.0.0"\n',
    )
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cms.db").touch()  # a source is read, never created: the file must exist
    monkeypatch.setenv("FEEDSVC_SOURCE__COLUMNS__ID", "nid")
    monkeypatch.setenv("feedsvc_http__port", "9100")
    monkeypatch.setenv("FEEDSVC_HTTP__TRUSTED_PROXIES", '["10.0.0.0/8"]')
    monkeypatch.setenv("FEEDSVC_SITE", '{"title": "Báo"}')
    monkeypatch.setenv("FEEDSVC_CONFIG", str(path))  # not a setting: ignored here
    s = load_config(path)
    assert (s.source.columns.id, s.source.columns.title, s.source.table) == ("nid", "t", "posts")
    assert (s.http.port, s.http.host, s.http.trusted_proxies) == (9100, "0.0.0.0", ["10.0.0.0/8"])
    assert s.site.title == "Báo" and s.site.timezone == "Asia/Ho_Chi_Minh"


def test_bad_env_values_are_reported_by_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list that is not JSON, a misspelt key and a bad number: one ConfigError naming each
    (pydantic-settings raised its own error, a traceback, for the list)."""
    monkeypatch.setenv("FEEDSVC_TELEGRAM__ADMINS", "five")
    monkeypatch.setenv("FEEDSVC_HTTP__PROT", "1")
    monkeypatch.setenv("FEEDSVC_SOURCE__COLUMNS__NID", "x")
    monkeypatch.setenv("FEEDSVC_HTTP__PORT", "eighty")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, ""))
    keys = {p.key for p in caught.value.problems}
    assert {"telegram.admins", "http.prot", "source.columns.nid", "http.port"} <= keys


def test_sqlite_urls_are_checked_without_sqlalchemy(tmp_path: Path) -> None:
    """Loading a config with an SQLite state DB imports neither SQLAlchemy nor asyncio: every CLI
    command pays for what the config imports (issue #17 §1)."""
    import subprocess
    import sys

    path = write(tmp_path, '[database]\nurl = "sqlite:///state.db"\n')
    code = (
        "import sys; from feedsvc.config import load_config; from pathlib import Path;"
        f"s = load_config(Path({str(path)!r})); assert s.database.url == 'sqlite:///state.db';"
        "heavy = ('sqlalchemy', 'asyncio', 'pydantic_settings');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    with pytest.raises(ConfigError) as caught:  # other URLs are still parsed by SQLAlchemy
        load_config(write(tmp_path, '[database]\nurl = "postgresql://u:p@h:notaport/db"\n'))
    assert [p.key for p in caught.value.problems] == ["database.url"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("FEEDSVC_TELEGRAM_TOKEN", "two underscores after the section, FEEDSVC_TELEGRAM__TOKEN"),
        ("feedsvc_database_url", "two underscores after the section, FEEDSVC_DATABASE__URL"),
        ("FEEDSVC_ZALO_WEBHOOK_SECRET", "FEEDSVC_ZALO__WEBHOOK_SECRET"),
        ("FEEDSVC_TELEGRAMM__TOKEN", "no section 'telegramm' (did you mean telegram?)"),
        ("FEEDSVC_NOSUCH__X", "no section 'nosuch': this is not a setting"),
        # an empty part between the separators was skipped in silence, the token unset
        ("FEEDSVC_TELEGRAM____TOKEN", "an empty part between '__'; meant FEEDSVC_TELEGRAM__TOKEN"),
        ("FEEDSVC_TELEGRAM__TOKEN__", "an empty part between '__'; meant FEEDSVC_TELEGRAM__TOKEN"),
        ("FEEDSVC_SOURCE__COLUMNS____ID", "meant FEEDSVC_SOURCE__COLUMNS__ID"),
    ],
)
def test_env_names_meant_as_settings_are_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, words: str
) -> None:
    """A misnamed variable was skipped in silence: with the token in ``FEEDSVC_TELEGRAM_TOKEN``
    the bot ran in console mode. ``config check`` and ``run`` refuse it by name, value unshown."""
    monkeypatch.setenv(name, "123456:never-shown")
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, ""))
    [problem] = raised.value.problems
    assert problem.key == name and words in problem.message
    assert "never-shown" not in str(raised.value)


@pytest.mark.parametrize(
    "name", ["FEEDSVC_CONFIG", "FEEDSVC_TEST_PG", "FEEDSVC_SCREENSHOTS", "FEEDSVC_TELEGRAMS"]
)
def test_other_feedsvc_variables_are_not_settings_and_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "x")
    assert load_config(write(tmp_path, "")).http.port == 8080


def test_a_problem_with_an_env_value_names_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_HTTP__PORT", "eighty")
    monkeypatch.setenv("FEEDSVC_HTTP__PROT", "1")
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, "[http]\nhost = '0.0.0.0'\n"))
    shown = {p.key: p.message for p in raised.value.problems}
    assert shown["http.port"].endswith("(set by FEEDSVC_HTTP__PORT)")
    assert shown["http.prot"].endswith("(set by FEEDSVC_HTTP__PROT)")


#: A list or table given in the environment: (variable, value, the problem's key, the message's
#: end). Text that is not JSON said "Input should be a valid list" with no word of how to write
#: it; an item of a JSON value named no variable; a key inside a table given as one JSON
#: variable named a variable nobody set (FEEDSVC_SOURCE__COLUMNS__ID).
ENV_SHAPES = [
    ("FEEDSVC_TELEGRAM__ADMINS", "5,6", "telegram.admins",
     "in the environment a list is JSON, e.g. FEEDSVC_TELEGRAM__ADMINS='[5, 6]' "
     "(set by FEEDSVC_TELEGRAM__ADMINS)"),
    ("FEEDSVC_TELEGRAM__ADMINS", "5", "telegram.admins",
     "a list is JSON, e.g. FEEDSVC_TELEGRAM__ADMINS='[5, 6]' (set by FEEDSVC_TELEGRAM__ADMINS)"),
    ("FEEDSVC_TELEGRAM__ADMINS", "[5, 'x']", "telegram.admins",
     "a list is JSON, e.g. FEEDSVC_TELEGRAM__ADMINS='[5, 6]' (set by FEEDSVC_TELEGRAM__ADMINS)"),
    ("feedsvc_telegram__admins", '[5, "x"]', "telegram.admins.1",
     "(got 'x') (set by FEEDSVC_TELEGRAM__ADMINS)"),
    ("FEEDSVC_SOURCE__COLUMNS", "id=nid", "source.columns",
     """a table is JSON, e.g. FEEDSVC_SOURCE__COLUMNS='{"key": "value"}' """
     "(set by FEEDSVC_SOURCE__COLUMNS)"),
    ("FEEDSVC_SOURCE__COLUMNS", '{"id": 5}', "source.columns.id",
     "(got 5) (set by FEEDSVC_SOURCE__COLUMNS)"),
    ("FEEDSVC_SOURCE__COLUMNS__ID", "[1]", "source.columns.id", ""),  # a column named "[1]"
    # JSON null was "NoneType"; a key of a section given as JSON blamed FEEDSVC_DATABASE__URL,
    # which nobody set; a table given for a list lost its variable
    ("FEEDSVC_TELEGRAM__ADMINS", "null", "telegram.admins",
     "(got null); in the environment a list is JSON, e.g. FEEDSVC_TELEGRAM__ADMINS='[5, 6]' "
     "(set by FEEDSVC_TELEGRAM__ADMINS)"),
    ("FEEDSVC_SOURCE__COLUMNS", "null", "source.columns",
     "not null; in the environment a table is JSON, e.g. "
     """FEEDSVC_SOURCE__COLUMNS='{"key": "value"}' (set by FEEDSVC_SOURCE__COLUMNS)"""),
    ("FEEDSVC_SOURCE__COLUMNS", '{"id": null}', "source.columns.id",
     "(got null) (set by FEEDSVC_SOURCE__COLUMNS)"),
    ("FEEDSVC_DATABASE", '{"url": 5}', "database.url",
     "(got an integer) (set by FEEDSVC_DATABASE)"),
    ("FEEDSVC_HTTP", '{"port": "x"}', "http.port", "(got 'x') (set by FEEDSVC_HTTP)"),
    ("FEEDSVC_DATABASE", "5", "database",
     "not an integer; in the environment a table is JSON, e.g. "
     """FEEDSVC_DATABASE='{"key": "value"}' (set by FEEDSVC_DATABASE)"""),
    ("FEEDSVC_TELEGRAM__ADMINS", '{"a": 1}', "telegram.admins",
     "(got a table); in the environment a list is JSON, e.g. FEEDSVC_TELEGRAM__ADMINS='[5, 6]' "
     "(set by FEEDSVC_TELEGRAM__ADMINS)"),
    ("FEEDSVC_TELEGRAM", '{"admins": "5,6"}', "telegram.admins",
     "e.g. FEEDSVC_TELEGRAM__ADMINS='[5, 6]' (set by FEEDSVC_TELEGRAM)"),
    # a list of addresses was given the numbers' example, '[5, 6]', which it refuses
    ("FEEDSVC_HTTP__TRUSTED_PROXIES", "127.0.0.1", "http.trusted_proxies",
     """in the environment a list is JSON, e.g. FEEDSVC_HTTP__TRUSTED_PROXIES='["127.0.0.1", """
     """"10.0.0.0/8"]' (set by FEEDSVC_HTTP__TRUSTED_PROXIES)"""),
    ("FEEDSVC_HTTP", '{"trusted_proxies": "10.0.0.1"}', "http.trusted_proxies",
     """e.g. FEEDSVC_HTTP__TRUSTED_PROXIES='["127.0.0.1", "10.0.0.0/8"]' (set by FEEDSVC_HTTP)"""),
]  # fmt: skip


@pytest.mark.parametrize(("name", "value", "key", "end"), ENV_SHAPES)
def test_a_list_or_table_in_the_environment_says_how_to_write_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, key: str, end: str
) -> None:
    for other in list(os.environ):
        if other.upper().startswith("FEEDSVC_"):
            monkeypatch.delenv(other)
    monkeypatch.setenv(name, value)
    if not end:
        load_config(write(tmp_path, ""))
        return
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, ""))
    shown = {p.key: p.message for p in raised.value.problems}
    assert shown[key].endswith(end), shown


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.mkdir(), "is a directory, not a file"),
        (lambda p: os.mkfifo(p), "is not a regular file"),
        (lambda p: None, "file not found"),
    ],
    ids=["directory", "fifo", "missing"],
)
def test_a_token_file_that_is_no_file_says_what_it_is(
    tmp_path: Path, make: Callable[[Path], object], words: str
) -> None:
    """A directory given as the token file was "file not found", which sent the operator
    looking for a file that was there; a FIFO would have blocked the read."""
    target = tmp_path / "token"
    make(target)
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, f'[telegram]\ntoken_file = "{target}"\n'))
    [problem] = raised.value.problems
    assert problem.key == "telegram.token_file" and words in problem.message


#: Secrets that cannot be what was meant: (text, refused for every secret or only bot tokens).
#: A file of two lines, a token pasted with a space inside: `config check` said OK and the
#: service sent both lines (or the space) as the token.
BROKEN_SECRETS = [
    ("SeCr3tPart-one\nSeCr3tPart-two", "all"),
    ("SeCr3tPart-one\r\nSeCr3tPart-two\n\n", "all"),
    ("SeCr3tPart-one\rSeCr3tPart-two", "all"),
    ("SeCr3tPart-one\x00SeCr3tPart-two", "all"),
    ("SeCr3tPart-one\u2028SeCr3tPart-two", "all"),
    ("SeCr3tPart-one\x85SeCr3tPart-two", "all"),
    ("SeCr3tPart-one SeCr3tPart-two", "bot"),
    ("SeCr3tPart-one\tSeCr3tPart-two", "all"),
    ("SeCr3tPart-one\u00a0SeCr3tPart-two", "bot"),
]


def _secret_keys() -> list[tuple[str, str]]:
    from feedsvc.config.secrets import SECRET_KEYS

    return list(SECRET_KEYS)


#: Each broken secret given in a file and in the environment, but NUL in the environment: an
#: environment variable cannot hold it (``os.environ`` refuses it), so that case never runs.
GIVEN_BROKEN = [
    pytest.param(given, text, refused_for, id=f"{given}-{text!r}")
    for text, refused_for in BROKEN_SECRETS
    for given in ("file", "env")
    if not (given == "env" and "\x00" in text)
]


@pytest.mark.parametrize(("given", "text", "refused_for"), GIVEN_BROKEN)
@pytest.mark.parametrize(
    ("section", "key"), _secret_keys(), ids=[".".join(k) for k in _secret_keys()]
)
def test_a_secret_that_is_two_lines_or_a_split_token_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    section: str,
    key: str,
    given: str,
    text: str,
    refused_for: str,
) -> None:
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)
    if given == "file":
        secret = tmp_path / "secret"
        secret.write_text(text, encoding="utf-8", newline="")
        config = write(tmp_path, f'[{section}]\n{key}_file = "{secret}"\n')
        named = f"{section}.{key}_file"
    else:
        monkeypatch.setenv(f"FEEDSVC_{section.upper()}__{key.upper()}", text)
        config = write(tmp_path, "")
        named = f"{section}.{key}"
    refused = refused_for == "all" or (key == "token" and section != "admin")  # a bot's token
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(config)])
    assert "SeCr3tPart" not in result.output  # never shown
    if not refused:  # e.g. an admin passphrase with a space in it
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 2, result.output
    assert f"  {named}: " in result.output, result.output
    with pytest.raises(ConfigError):  # `run` and every command refuse it alike
        load_config(config)


@pytest.mark.parametrize("text", ["42:from-a-file\n", "\n  42:from-a-file  \n\n", "42:a-b_C"])
def test_a_token_file_with_blank_ends_is_still_read(tmp_path: Path, text: str) -> None:
    secret = tmp_path / "token"
    secret.write_text(text, encoding="utf-8")
    settings = load_config(write(tmp_path, f'[telegram]\ntoken_file = "{secret}"\n'))
    assert settings.telegram_token() == text.strip()


#: A key given a value of the wrong TOML type: (the file's line, its section, what the problem
#: ends with). "Input should be a valid string" said nothing of what was there when the value
#: is not shown (a key that may hold a secret, an array, a table), and a path said "not a valid
#: path for <class 'pathlib.Path'>".
WRONG_KINDS = [
    ("token = 12345", "telegram",
     "telegram.token: Input should be a valid string (got an integer)"),
    ("token = [1]", "admin", "admin.token: Input should be a valid string (got an array)"),
    ("url = true", "database", "database.url: Input should be a valid string (got true/false)"),
    ("title = ['a']", "site", "site.title: Input should be a valid string (got an array)"),
    ("title = {a = 1}", "site", "site.title: Input should be a valid string (got a table)"),
    ("port = [80]", "http", "http.port: Input should be a valid integer (got an array)"),
    ("file = 5", "topics", "topics.file: Input should be a valid string (a file's path) (got 5)"),
    ("file = 2024-01-01", "topics",
     "topics.file: Input should be a valid string (a file's path) (got a date)"),
    ("file = [1]", "topics",
     "topics.file: Input should be a valid string (a file's path) (got an array)"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "section", "said"), WRONG_KINDS)
def test_a_value_of_the_wrong_toml_type_is_named_by_its_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: str, section: str, said: str
) -> None:
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)
    # as a command that needs no secret reads it: one that does says only that no secret may be
    # written in the file (test_config_secrets_in_file.py)
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, f"[{section}]\n{line}\n"), secrets=False)
    assert [str(p) for p in raised.value.problems] == [said]
    assert "12345" not in str(raised.value)  # a secret's value is never shown


#: Telegram bot tokens as pasted wrong, and what the problem says (never the token).
BAD_BOT_TOKENS = [
    ("bot123456:AAFakeTokenX_y-z", "starts with 'bot', which the Bot API's URL adds itself"),
    ('"123456:AAFakeTokenX_y-z"', "is quoted twice"),
    ("'123456:AAFakeTokenX_y-z'", "is quoted twice"),
    ("123456", "is not a Telegram bot token"),
    ("AAFakeTokenX_y-z", "is not a Telegram bot token"),
    ("123456:", "is not a Telegram bot token"),
    (":AAFakeTokenX_y-z", "is not a Telegram bot token"),
    ("id:AAFakeTokenX_y-z", "is not a Telegram bot token"),
    ("123456:AAFake☃TokenX", "is not a Telegram bot token"),
    ("true", "is not a Telegram bot token"),
]


@pytest.mark.parametrize(("token", "said"), BAD_BOT_TOKENS)
@pytest.mark.parametrize("given", ["file", "env", "config"])
def test_a_telegram_token_of_the_wrong_shape_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str, said: str, given: str
) -> None:
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)
    text, key = "", "telegram.token"
    if given == "file":
        (tmp_path / "token").write_text(token + "\n", encoding="utf-8")
        text, key = f'[telegram]\ntoken_file = "{tmp_path / "token"}"\n', "telegram.token_file"
    elif given == "env":
        monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", token)
    else:
        text = f"[telegram]\ntoken = {json.dumps(token)}\n"
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    [problem] = raised.value.problems
    if given == "config":  # no secret in the file: that is its one line, whatever its shape
        said = "a secret may not be written in the config file"
    assert problem.key == key and said in problem.message, problem
    assert "FakeToken" not in str(raised.value)


@pytest.mark.parametrize("token", ["123456789:AAFakeTokenForTests_do-not-leak", "42:a-b_C", "1:x"])
def test_a_telegram_token_of_botfathers_shape_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, token: str
) -> None:
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FEEDSVC_TELEGRAM__TOKEN", token)
    assert load_config(write(tmp_path, "")).telegram_token() == token


@pytest.mark.parametrize("what", ["directory", "dangling link"])
def test_a_default_config_path_that_is_no_file_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, what: str
) -> None:
    """A directory at config/feedsvc.toml (Docker makes one for a bind mount of a missing host
    file) or a link to nothing was passed over in silence: the service ran on the defaults."""
    for name in list(os.environ):
        if name.startswith("FEEDSVC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    default = tmp_path / "config" / "feedsvc.toml"
    if what == "directory":
        default.mkdir()
    else:
        default.symlink_to(tmp_path / "missing.toml")
    for argv in (["config", "check"], ["status"]):
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code == 2, result.output
        said = "is a directory, not a file" if what == "directory" else "cannot read: No such file"
        assert f"config/feedsvc.toml: {said}" in result.output, result.output


@pytest.mark.parametrize(
    "url", ["sqlite:///ext/cms.db", "sqlite:///file:ext/cms.db?uri=true&mode=ro"]
)
def test_an_sqlite_source_file_not_there_is_a_warning_not_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    """F4 (tester): a CMS file moved or on a share not mounted made the configuration invalid,
    so every command exited 2, `status` and a web-only `run` included. The configuration is
    right and the CMS is absent, as a CMS server may be down: `config check` warns (exit 0) and
    nothing creates the file."""
    from feedsvc.config import source_warnings

    monkeypatch.chdir(tmp_path)
    path = write(tmp_path, f'[source]\nurl = "{url}"\ntable = "posts"\n')
    settings = load_config(path)  # no ConfigError
    [warning] = source_warnings(settings)
    said = f"the SQLite file {tmp_path}/ext/cms.db does not exist (a source is read, never created)"
    assert warning.key == "source.url" and warning.message.startswith(said), warning
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert f"warning: source.url: {said}: feedsvc run starts and its ingest retries" in (
        result.output
    )
    assert not (tmp_path / "ext").exists()
    (tmp_path / "ext").mkdir()
    (tmp_path / "ext" / "cms.db").write_bytes(b"")
    assert source_warnings(load_config(path)) == []
    again = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    assert again.exit_code == 0 and "warning" not in unplaced(again.output), again.output


@pytest.mark.parametrize(
    "key",
    ["telegram.token_file", "admin.token_file", "zalo.token_file", "zalo.webhook_secret_file"],
)
@pytest.mark.parametrize("content", ["", "\n", "  \t\n\n"])
def test_an_empty_secret_file_is_refused(tmp_path: Path, key: str, content: str) -> None:
    """An empty ``admin.token_file`` passed ``config check`` and switched the admin off without
    a word; an empty ``zalo.webhook_secret_file`` put Zalo on long polling instead of its
    webhook; an empty ``telegram.token_file`` was "not a Telegram bot token"."""
    secret = tmp_path / "secret"
    secret.write_text(content, encoding="utf-8")
    section, name = key.split(".")
    config = write(tmp_path, f'[{section}]\n{name} = "{secret}"\n')
    out = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env={
        k: None for k in os.environ if k.startswith("FEEDSVC_")
    })  # fmt: skip
    assert out.exit_code == 2, out.output
    assert f"{key}: the secret in {secret} is empty: put the " in out.output, out.output
    assert "or unset the key" in out.output and "not a Telegram bot token" not in out.output


@pytest.mark.parametrize(
    "key", ["telegram.token", "admin.token", "zalo.token", "zalo.webhook_secret"]
)
@pytest.mark.parametrize("where", ["env", "file"])
def test_an_empty_or_blank_secret_value_is_refused(tmp_path: Path, key: str, where: str) -> None:
    """``FEEDSVC_TELEGRAM__TOKEN=`` (a template whose variable was unset) read as "no token":
    the console stood in and real chats' alerts were logged and counted as sent, lost once
    the token came back; ``FEEDSVC_ADMIN__TOKEN=" "`` let anyone log in with a space (a
    tester's). Both are refused by every command, before anything starts (exit 2): here
    ``config check``; ``run`` below."""
    section, name = key.split(".")
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    for value, said in (("", "is set but empty"), ("   ", "is only whitespace")):
        if where == "env":
            env[f"FEEDSVC_{section.upper()}__{name.upper()}"] = value
            config = write(tmp_path, "")
        else:
            config = write(tmp_path, f'[{section}]\n{name} = "{value}"\n')
        out = CliRunner().invoke(cli, ["config", "check", "--config", str(config)], env=env)
        assert out.exit_code == 2, (value, out.output)
        assert f"{key}: " in out.output and said in out.output, out.output


@pytest.mark.parametrize("value", ["", "  "])
def test_run_refuses_an_empty_telegram_token_before_it_starts(tmp_path: Path, value: str) -> None:
    """The tester's case end to end: ``run`` with the token's variable set but empty started,
    the console consuming real chats' alerts; now exit 2 before anything starts (a process
    with a deadline: the old code served until killed)."""
    code, output = cli_process(tmp_path, "run", "--port", "0", FEEDSVC_TELEGRAM__TOKEN=value)
    assert code == 2, output
    assert "telegram.token: " in output and not (tmp_path / "state.db").exists()


TOKEN = "123456789:AAFsecretTOKENxyz_-09"


@pytest.mark.parametrize(
    ("env", "secret"),
    [
        ({"FEEDSVC_TELEGRAM__BASE_URL": f"https://api.telegram.org/bot{TOKEN}"}, TOKEN),
        ({"FEEDSVC_TELEGRAM__BASE_URL": f"https://proxy.example/tg/{TOKEN}/"}, TOKEN),
        ({"FEEDSVC_ZALO__BASE_URL": "https://zl.example/ZaloTok3n", "FEEDSVC_ZALO__TOKEN":
          "ZaloTok3n"}, "ZaloTok3n"),
        ({"FEEDSVC_HTTP__WEBSUB_HUB": "https://feeds:hubSecret@hub.example/"}, "hubSecret"),
        ({"FEEDSVC_HTTP__WEBSUB_HUB": "https://hub.example/?admin=S3cretAdminTok3n!"},
         "S3cretAdminTok3n!"),
        ({"FEEDSVC_HTTP__WEBSUB_HUB": "https://hub.example/?password=PWsecret1"}, "PWsecret1"),
        ({"FEEDSVC_HTTP__WEBSUB_HUB": "https://hub.example/?x=1&hub_token=T0kHub"}, "T0kHub"),
        ({"FEEDSVC_HTTP__WEBSUB_HUB": "https://hub.example/?api_key=K3yHub"}, "K3yHub"),
    ],
)  # fmt: skip
def test_config_show_never_prints_a_secret_held_by_another_key(
    env: dict[str, str], secret: str
) -> None:
    """A bot token pasted into ``telegram.base_url`` and a hub URL's password were printed by
    ``config show`` (the ``token`` key itself was masked)."""
    base = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    tokens = {"FEEDSVC_TELEGRAM__TOKEN": TOKEN, "FEEDSVC_ADMIN__TOKEN": "S3cretAdminTok3n!"}
    out = CliRunner().invoke(cli, ["config", "show", "--config", "/dev/null"],
                             env=base | tokens | env)  # fmt: skip
    assert secret not in out.output, out.output
    if "BASE_URL" in str(env):  # refused (the next test); shown nowhere either
        assert out.exit_code == 2 and "holds the bot token" in out.output, out.output
    elif "@" in str(env):  # a hub's user and password: refused, it is published in every feed
        assert out.exit_code == 2 and "must not hold a user name" in out.output, out.output
    else:
        assert out.exit_code == 0 and "***" in out.output, out.output


@pytest.mark.parametrize(
    "shape", ["https://api.example/bot{t}", "https://api.example/BOT{t}", "https://api.example/{q}",
              "https://api.example/bot?x={t}", "https://api.example/p/{t}/"],
)  # fmt: skip
@pytest.mark.parametrize("section", ["telegram", "zalo"])
def test_a_bot_token_in_its_base_url_is_refused(section: str, shape: str) -> None:
    base = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    quoted = "".join(f"%{ord(c):02X}" if c.isdigit() else c for c in TOKEN)  # %31%32…
    env = {f"FEEDSVC_{section.upper()}__TOKEN": TOKEN,
           f"FEEDSVC_{section.upper()}__BASE_URL": shape.format(t=TOKEN, q=quoted)}  # fmt: skip
    out = CliRunner().invoke(cli, ["config", "check", "--config", "/dev/null"], env=base | env)
    assert out.exit_code == 2 and TOKEN not in out.output, out.output
    assert f"{section}.base_url: holds the bot token, which feedsvc adds itself" in out.output


@pytest.mark.parametrize(("seconds", "warned"), [("0.001", True), ("0.5", True), ("1", False),
                                                 ("30", False)])  # fmt: skip
def test_a_poll_interval_below_a_second_is_warned_about(seconds: str, warned: bool) -> None:
    """``source.poll_seconds = 0.001`` was taken without a word (~90 % of a core, ~300 CMS
    queries a second); it still works, with a warning naming the key."""
    base = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    out = CliRunner().invoke(cli, ["config", "check", "--config", "/dev/null"],
                             env=base | {"FEEDSVC_SOURCE__POLL_SECONDS": seconds})  # fmt: skip
    assert out.exit_code == 0, out.output
    assert ("warning: source.poll_seconds: " in out.output) is warned, out.output


@pytest.mark.parametrize("key", ["admin.token_file", "telegram.token_file", "zalo.token_file"])
def test_a_secret_files_bom_is_no_part_of_the_secret(tmp_path: Path, key: str) -> None:
    """Notepad writes a BOM: it was part of the admin token, and every login was refused."""
    token = "123456789:AAFsecretTOKENxyz_-09abcdef"
    secret = tmp_path / "secret"
    secret.write_bytes(b"\xef\xbb\xbf" + token.encode() + b"\r\n")
    section, name = key.split(".")
    settings = load_config(write(tmp_path, f'[{section}]\n{name} = "{secret}"\n'))
    read = {"admin": settings.admin_token, "telegram": settings.telegram_token,
            "zalo": settings.zalo_token}[section]  # fmt: skip
    assert read() == token


@pytest.mark.parametrize(
    "content", ["\u200b", "abc\u200bdefghijklmnopqrst", "\ufeff\ufeff", "\u2060x"]
)
def test_a_secret_holding_an_invisible_character_is_refused(tmp_path: Path, content: str) -> None:
    secret = tmp_path / "secret"
    secret.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_config(write(tmp_path, f'[admin]\ntoken_file = "{secret}"\n'))
    [problem] = refused.value.problems
    assert problem.key == "admin.token_file" and "invisible character (U+" in problem.message


SECRET_FILE_KEYS = [
    "telegram.token_file", "admin.token_file", "zalo.token_file", "zalo.webhook_secret_file",
]  # fmt: skip


#: key × command in full (the bugs were a key's own reads in one command: the admin token's
#: length warning and the Zalo secret's length check in ``config check``, the webhook secret in
#: ``status``), each of them with a FIFO or ``/dev/zero`` (either hangs or exhausts memory in
#: a read that bypasses the one reader), alternating so each key meets both; a large regular
#: file, which only the one reader's size cap (``secret_file.read_secret_file``, whatever the
#: key) concerns, in two cases, one per command: 10 cases, not 24.
_PIPE_CASES = [
    (key, ("fifo", "/dev/zero")[(k + c) % 2], command)
    for k, key in enumerate(SECRET_FILE_KEYS)
    for c, command in enumerate([["config", "check"], ["status"]])
]
PIPE_CASES = [
    *_PIPE_CASES,
    ("admin.token_file", "large", ["config", "check"]),
    ("zalo.webhook_secret_file", "large", ["status"]),
]


@pytest.mark.parametrize(
    ("key", "target", "command"),
    PIPE_CASES,
    ids=[f"{k}-{t}-{' '.join(c)}" for k, t, c in PIPE_CASES],
)
def test_a_secret_file_that_is_a_pipe_a_device_or_huge_is_a_problem_at_once(
    tmp_path: Path, key: str, target: str, command: list[str]
) -> None:
    """``admin.token_file`` or ``zalo.webhook_secret_file`` naming a FIFO made ``config check``
    (the admin token's length warning, the Zalo secret's length check read the file
    themselves) and, for the webhook secret, ``status`` wait for ever; ``/dev/zero`` read until
    memory ran out (a ``MemoryError`` traceback). Each secret file is now one problem naming
    its key, exit 2, in a real process; a file larger than any secret is not read whole."""
    import resource
    import subprocess
    import sys

    def bounded_memory() -> None:  # a regression reads /dev/zero: fail, never take the machine
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    if target == "fifo":
        path = tmp_path / "secret"
        os.mkfifo(path)
    elif target == "large":
        path = tmp_path / "secret"
        path.write_text("x" * (1 << 20), encoding="utf-8")
    else:
        path = Path(target)
    section, name = key.split(".")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")} | {
        f"FEEDSVC_{section.upper()}__{name.upper()}": str(path),
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *command],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30,
            preexec_fn=bounded_memory,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"feedsvc {' '.join(command)} with {key} = {target} did not end in 30 s")
    assert done.returncode == 2, done.stderr
    output = done.stdout + done.stderr
    assert key in output and "Traceback" not in output and "x" * 100 not in output


def test_every_list_keys_example_is_taken_as_it_is_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example a list key's refusal shows, set as shown, is a value the key takes: the
    numbers' '[5, 6]' was shown for `http.trusted_proxies` too, which refuses it."""
    from pydantic import BaseModel

    from feedsvc.config.models import Settings
    from feedsvc.config.sources import env_name, json_shape

    def lists(model: type[BaseModel], path: list[str]) -> list[list[str]]:
        found = []
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += lists(kind, [*path, name])
            elif (shape := json_shape([*path, name])) is not None and shape[0] == "a list":
                found.append([*path, name])
        return found

    keys = lists(Settings, [])
    assert ["http", "trusted_proxies"] in keys and ["telegram", "admins"] in keys
    for key in keys:
        shape = json_shape(key)
        assert shape is not None
        monkeypatch.setenv(env_name(".".join(key)), shape[1])
    load_config(write(tmp_path, ""))  # every example at once: no problem
