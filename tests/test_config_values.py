"""Config values a newcomer gets wrong, each reported as one problem naming the key once, in
``feedsvc config check`` and ``feedsvc run``'s refusal alike (found by the `breaker` helper).

- ``source.match_workers`` is "a number or "auto"": a bad value was two problems named by
  pydantic's union tags (``source.match_workers.constrained-int`` and
  ``source.match_workers.literal['auto']``), from the file and from
  ``FEEDSVC_SOURCE__MATCH_WORKERS`` alike.
- ``database.url`` / ``source.url`` that SQLAlchemy parses but cannot open: ``postgres://``
  (a scheme SQLAlchemy does not know; Heroku-style URLs) passed the check and every command then
  failed with "NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:postgres";
  ``postgresql+psycopg2://`` (driver not installed) passed and ``feedsvc status`` printed a
  traceback (ModuleNotFoundError: psycopg2).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from combos import each_choice
from conftest import mariadb_database
from site_placeholder import unplaced

from feedsvc.cli import cli
from feedsvc.config import cores, load_config, match_processes, models
from feedsvc.config.cores import quota_cores
from feedsvc.config.models import (
    DatabaseSettings,
    Settings,
    SourceColumns,
    TelegramSettings,
)

EXPECTED = 'source.match_workers: a number of processes (0-64) or "auto"'


def check(path: Path, **env: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(path)], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, unplaced(result.output).splitlines()[1:]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("value", ['"two"', "-1", "65", "1.5", "[2]", '"AUTO"', "true", '""'])
def test_a_bad_match_workers_in_the_file_is_one_problem(tmp_path: Path, value: str) -> None:
    code, lines = check(write(tmp_path, f"[source]\nmatch_workers = {value}\n"))
    assert code == 2
    assert len(lines) == 1 and lines[0].strip().startswith(EXPECTED), lines


@pytest.mark.parametrize("value", ["-1", "65", "abc", "2.5", "", "true", "null", "Auto"])
def test_a_bad_match_workers_in_the_environment_is_one_problem(tmp_path: Path, value: str) -> None:
    code, lines = check(write(tmp_path, ""), FEEDSVC_SOURCE__MATCH_WORKERS=value)
    assert code == 2
    assert len(lines) == 1 and lines[0].strip().startswith(EXPECTED), lines
    assert f"(got {value!r})" in lines[0] or value in ("true",)


@pytest.mark.parametrize(("value", "workers"), [("auto", "auto"), ("0", 0), (" 3", 3), ("64", 64)])
def test_good_match_workers_still_read(tmp_path: Path, value: str, workers: object) -> None:
    from feedsvc.config import load_config

    assert check(write(tmp_path, ""), FEEDSVC_SOURCE__MATCH_WORKERS=value) == (0, [])
    shown = '"auto"' if workers == "auto" else str(workers)
    assert (
        load_config(write(tmp_path, f"[source]\nmatch_workers = {shown}\n")).source.match_workers
        == workers
    )


SECRET = "s3cr%40t"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"postgres://u:{SECRET}@127.0.0.1/db", "unknown database kind 'postgres://'"),
        (f"foo+bar://u:{SECRET}@127.0.0.1/db", "unknown database kind 'foo+bar://'"),
        (f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/db", "driver of 'postgresql+psycopg2://'"),
        (f"mysql+mysqldb://u:{SECRET}@127.0.0.1/db", "driver of 'mysql+mysqldb://' is not"),
        (f"oracle://u:{SECRET}@127.0.0.1/db", "driver of 'oracle://' is not installed"),
    ],
)
@pytest.mark.parametrize("key", ["database", "source"])
def test_a_url_whose_driver_cannot_load_is_a_config_problem(
    tmp_path: Path, url: str, words: str, key: str
) -> None:
    env = {f"FEEDSVC_{key.upper()}__URL": url}
    code, lines = check(write(tmp_path, ""), **env)
    assert code == 2
    assert len(lines) == 1 and lines[0].strip().startswith(f"{key}.url: "), lines
    assert words in lines[0]
    assert "s3cr" not in lines[0]


@pytest.mark.parametrize(
    "url",
    [
        f"foo://u:{SECRET}@bar/db",
        f"postgres://u:{SECRET}@127.0.0.1/db",
        f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/db",
        f"oracle://u:{SECRET}@127.0.0.1/db",
    ],
)
def test_a_url_hint_names_only_the_kinds_its_key_takes(url: str) -> None:
    """``database.url = "foo://bar"`` was told "MariaDB/MySQL 'mysql+pymysql://'", which the
    state DB refuses; ``source.url`` (where MariaDB is a source) keeps naming it."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as state:
        DatabaseSettings(url=url)
    said = str(state.value)
    assert "mysql" not in said.lower() and "MariaDB" not in said, said
    assert "postgresql://" in said and ("sqlite:///" in said or "SQLite" in said), said
    from feedsvc.config.urls import check_url

    with pytest.raises(ValueError, match="mysql\\+pymysql://"):
        check_url(url)  # source.url's check (config.checks._source_url_problem)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db?timeout=5",
        "sqlite+pysqlite:///x.db",
        "postgresql://u:p@127.0.0.1/db",
        "postgresql+psycopg://u@/db?host=/run/postgresql",
    ],
)
def test_state_db_urls_with_installed_drivers_still_pass(tmp_path: Path, url: str) -> None:
    assert check(write(tmp_path, ""), FEEDSVC_DATABASE__URL=url) == (0, [])


@pytest.mark.parametrize(
    "url",
    [
        f"mysql+pymysql://u:{SECRET}@127.0.0.1/db",
        f"mariadb+pymysql://u:{SECRET}@127.0.0.1:3306/db?charset=utf8mb4",
        f"mysql+pymysql://u:{SECRET}@/db?unix_socket=/run/mysqld/mysqld.sock",
    ],
)
def test_mariadb_is_a_source_not_a_state_db(tmp_path: Path, url: str) -> None:
    """The state DB's migrations are SQLite and PostgreSQL only (on MariaDB they stopped at
    0009 with a syntax error, the schema half built): refused by name, accepted as a source."""
    code, lines = check(write(tmp_path, ""), FEEDSVC_DATABASE__URL=url)
    kind = url.split("://")[0]
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip().startswith("database.url: ") and "s3cr" not in lines[0]
    assert f"'{kind}://' cannot hold the state DB" in lines[0] and "source.url" in lines[0]
    assert check(write(tmp_path, ""), FEEDSVC_SOURCE__URL=url) == (0, [])


@pytest.mark.parametrize("command", [["status"], ["topics", "list"], ["run"]])
def test_commands_refuse_an_unloadable_driver_in_one_line(
    tmp_path: Path, command: list[str]
) -> None:
    """The real CLI process: one line on stderr, exit 2, no traceback, no password."""
    env = {
        "FEEDSVC_CONFIG": "/dev/null",
        "FEEDSVC_DATABASE__URL": f"postgresql+psycopg2://u:{SECRET}@127.0.0.1/db",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", *command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "s3cr" not in done.stderr + done.stdout
    assert "driver of 'postgresql+psycopg2://' is not installed" in done.stderr


# A TOML file saved in another encoding was a traceback (UnicodeDecodeError from tomllib) in
# config check, run, topics import and match --topics; a BOM (Windows editors) was "Invalid
# statement (at line 1, column 1)".
NOT_UTF8 = {
    "latin-1": '[site]\nname = "Báo Hải Phòng"\n'.encode("latin-1", "replace"),
    "cp1258": '[site]\nname = "Báo"\n'.encode("cp1258"),
    "utf-16": '[site]\nname = "Báo"\n'.encode("utf-16"),
    "0xff": b'[site]\nname = "\xff"\n',
}


@pytest.mark.parametrize("kind", sorted(NOT_UTF8))
def test_a_config_file_not_in_utf8_is_one_worded_problem(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "feedsvc.toml"
    path.write_bytes(NOT_UTF8[kind])
    code, lines = check(path)
    assert code == 2
    assert len(lines) == 1 and "not UTF-8 text" in lines[0] and "save the file as UTF-8" in lines[0]


@pytest.mark.parametrize("kind", sorted(NOT_UTF8))
def test_a_topics_file_not_in_utf8_is_worded_everywhere(tmp_path: Path, kind: str) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_bytes(NOT_UTF8[kind].replace(b"[site]", b"[[topic]]"))
    config = write(tmp_path, f'[topics]\nfile = "{topics}"\n')
    code, lines = check(config)
    assert code == 2 and len(lines) == 1 and lines[0].strip().startswith("topics.file: not UTF-8")
    env = {"FEEDSVC_CONFIG": str(config), "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/s.db"}
    for args, stdin in (
        (["topics", "import", str(topics)], None),
        (["match", "--topics", str(topics)], ""),
    ):
        done = CliRunner().invoke(cli, args, env=env, input=stdin)
        assert done.exit_code == 2, done.output
        assert "Traceback" not in done.output
        assert done.exception is None or isinstance(done.exception, SystemExit)
        assert "not UTF-8 text" in done.output


def test_a_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    from feedsvc.config import load_config

    path = tmp_path / "feedsvc.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b"[http]\nport = 8081\n[topics]\nimport_on_start = false\n")
    assert check(path) == (0, [])
    assert load_config(path).http.port == 8081


SECRET_FILE_KEYS = [
    "telegram.token_file", "admin.token_file", "zalo.token_file", "zalo.webhook_secret_file",
]  # fmt: skip
NOT_UTF8_SECRETS = [b"\xff\xfes3cr3t", "s3cr3tĐ".encode("utf-16"), b"s3cr3t\xe1"]
#: ``config check`` (in-process, cheap) judges every key × content; ``run`` (a process) only
#: each-choice: both read the file through ``secret_file.read_secret_file``, the one reader,
#: whose decoding does not depend on which key names the file.
RUN_NOT_UTF8 = each_choice(SECRET_FILE_KEYS, NOT_UTF8_SECRETS)


@pytest.mark.parametrize("key", SECRET_FILE_KEYS)
@pytest.mark.parametrize("content", NOT_UTF8_SECRETS)
def test_a_secret_file_not_in_utf8_is_a_problem_not_a_traceback(
    tmp_path: Path, key: str, content: bytes
) -> None:
    """It passed ``config check`` and ``run`` stopped on a UnicodeDecodeError traceback."""
    secret = tmp_path / "secret"
    secret.write_bytes(content)
    section, name = key.split(".")
    config = write(
        tmp_path, f'[{section}]\n{name} = "{secret}"\n[topics]\nimport_on_start = false\n'
    )
    code, lines = check(config)
    assert code == 2 and len(lines) == 1, lines
    assert (
        lines[0].strip()
        == f"{key}: {secret} is not UTF-8 text (a secret file holds the secret as plain text)"
    )
    if (key, content) not in RUN_NOT_UTF8:
        return
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-http", "--config", str(config)],
        env={"PATH": "/usr/bin:/bin", "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/s.db"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "s3cr3t" not in done.stderr
    assert f"{key}: " in done.stderr


@pytest.mark.parametrize(
    ("cpu_max", "cores"),
    [("max 100000", None), ("100000 100000", 1), ("150000 100000", 1), ("200000 100000", 2),
     ("50000 100000", 1), ("800000 100000", 8), ("", None), ("garbage", None), ("0 100000", None),
     ("100000 0", None), ("x 100000", None)],
)  # fmt: skip
def test_quota_cores(cpu_max: str, cores: int | None) -> None:
    assert quota_cores(cpu_max) == cores


@pytest.mark.parametrize(("cpu_max", "workers"), [("100000 100000", 0), ("max 100000", 3),
                                                  ("200000 100000", 1), (None, 3)])  # fmt: skip
def test_auto_match_workers_respect_a_cpu_quota(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cpu_max: str | None, workers: int
) -> None:
    """Four cores to run on; ``docker --cpus=1`` (cgroup v2 ``cpu.max`` "100000 100000") leaves
    one: before, "auto" started three workers that could only share that one core."""
    monkeypatch.setattr(cores.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max + "\n", encoding="ascii")
    monkeypatch.setattr(cores, "CPU_MAX", path)
    assert match_processes("auto") == workers
    assert match_processes(2) == 2


@pytest.mark.mysql
@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"], ["status"]])
def test_a_mariadb_state_db_is_refused_before_anything_is_written(
    tmp_path: Path, command: list[str]
) -> None:
    """A real MariaDB database given as the state DB: one line, exit 2, and no table made."""
    import pymysql

    with mariadb_database("feedsvc_notstate") as url:
        env = {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url, "PATH": "/usr/bin:/bin"}
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *command], env=env, cwd=tmp_path,
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert "'mysql+pymysql://' cannot hold the state DB" in done.stderr
        name = url.rsplit("/", 1)[1].split("?")[0]
        conn = pymysql.connect(host="127.0.0.1", user="root", database=name)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW TABLES")
                assert cur.fetchall() == ()
        finally:
            conn.close()


def number_settings() -> list[tuple[str, type]]:
    """Every int or float setting as (dotted key, type), walked from the models: a key added
    later is covered without touching this file."""
    from pydantic import BaseModel

    def walk(model: type[BaseModel], prefix: str) -> list[tuple[str, type]]:
        found: list[tuple[str, type]] = []
        for name, field in model.model_fields.items():
            kind = field.annotation
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found += walk(kind, f"{prefix}{name}.")
            elif kind in (int, float):
                found.append((f"{prefix}{name}", kind))
        return found

    return walk(models.Settings, "")


def test_every_number_setting_has_an_upper_bound() -> None:
    """``telegram.alert_max_age_hours`` had none: ``1e12`` passed the check and every ingest
    tick of ``run`` ended in ``OverflowError`` (``timedelta(hours=1e12)``)."""
    import annotated_types

    keys = number_settings()
    assert {"http.port", "telegram.alert_max_age_hours", "source.poll_seconds"} <= dict(keys).keys()
    for key, _kind in keys:
        section, name = key.rsplit(".", 1)
        model: type = models.Settings
        for part in section.split("."):
            model = model.model_fields[part].annotation
        metadata = model.model_fields[name].metadata
        bounds = [m for m in metadata if isinstance(m, annotated_types.Le | annotated_types.Lt)]
        assert bounds, f"{key}: no upper bound"


@pytest.mark.parametrize("value", ["inf", "+inf", "-inf", "nan", "1e400"])
@pytest.mark.parametrize(
    "key", [k for k, kind in number_settings() if kind is float], ids=lambda k: str(k)
)
def test_a_number_that_is_not_finite_is_refused(tmp_path: Path, key: str, value: str) -> None:
    """In the file (TOML's ``inf``/``nan``) and in the environment alike: one problem naming
    the key. ``alert_max_age_hours = inf`` passed ``gt=0`` and ``config check`` said OK."""
    section, name = key.rsplit(".", 1)
    code, lines = check(write(tmp_path, f"[{section}]\n{name} = {value}\n"))
    assert code == 2 and len(lines) == 1 and lines[0].strip().startswith(f"{key}: "), lines
    env = {f"FEEDSVC_{section.upper().replace('.', '__')}__{name.upper()}": value}
    code, lines = check(write(tmp_path, ""), **env)
    assert code == 2 and len(lines) == 1 and lines[0].strip().startswith(f"{key}: "), lines


@pytest.mark.parametrize("value", ["inf", "1e12"])
def test_run_refuses_an_alert_age_it_cannot_use(tmp_path: Path, value: str) -> None:
    """It started and logged an OverflowError traceback at every ingest tick."""
    config = write(tmp_path, f"[telegram]\nalert_max_age_hours = {value}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-http", "--config", str(config)],
        env=env | {"FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/s.db"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "telegram.alert_max_age_hours: " in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "s.db").exists()


@pytest.mark.parametrize("value", ["true", "false"])
@pytest.mark.parametrize("key", [k for k, _ in number_settings()], ids=lambda k: str(k))
def test_a_boolean_is_no_number(tmp_path: Path, key: str, value: str) -> None:
    """``port = true`` was port 1 and ``batch_size = true`` one row per batch: pydantic's lax
    mode reads a boolean as 1 or 0, and ``config check`` said OK."""
    section, name = key.rsplit(".", 1)
    code, lines = check(write(tmp_path, f"[{section}]\n{name} = {value}\n"))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip() == f"{key}: must be a number, not true/false"


@pytest.mark.parametrize("value", ["true", "false"])
def test_visible_as_a_boolean_is_told_what_it_takes(tmp_path: Path, value: str) -> None:
    """``visible = true`` read "Input should be a valid string (got True)", no word of SQL."""
    code, lines = check(write(tmp_path, f"[source.columns]\nvisible = {value}\n"))
    assert code == 2 and len(lines) == 1, lines
    said = lines[0].strip()
    assert said.startswith("source.columns.visible: must be an SQL boolean expression"), said
    assert "status = 'published'" in said and "leave it out" in said


def test_a_list_of_numbers_takes_no_boolean(tmp_path: Path) -> None:
    code, lines = check(write(tmp_path, "[telegram]\nadmins = [5, true]\n"))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip() == "telegram.admins: must be a list of numbers, not of true/false"
    assert check(write(tmp_path, "[telegram]\nadmins = [5, 6]\n")) == (0, [])


def http_url_settings() -> list[str]:
    """Every http(s) URL setting: a ``*url`` string key outside the two database sections."""
    from pydantic import BaseModel

    found = []
    for section, field in models.Settings.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        if section in ("database", "source"):
            continue  # database URLs: tests/test_config_urls.py
        found += [f"{section}.{name}" for name in model.model_fields if name.endswith("url")]
    return found


BAD_HTTP_URLS = ["not a url", "http://", "https://", "ftp://example.vn/", "https://exa mple.vn/",
                 "https://example.vn:99999/", "https://example.vn:0/", "https://example.vn:x/",
                 "https://[::1/", "https://example.vn/\tx", "/relative/bot"]  # fmt: skip


@pytest.mark.parametrize("value", BAD_HTTP_URLS)
@pytest.mark.parametrize("key", http_url_settings())
def test_every_http_url_setting_is_checked(tmp_path: Path, key: str, value: str) -> None:
    """``telegram.base_url = "not a url"`` passed ``config check``; ``run`` then retried
    ``UnsupportedProtocol`` forever. ``"http://"`` (no host) passed every URL setting."""
    assert {"telegram.base_url", "zalo.base_url", "http.public_url", "site.url"} <= set(
        http_url_settings()
    )
    section, name = key.split(".")
    env = {f"FEEDSVC_{section.upper()}__{name.upper()}": value}
    code, lines = check(write(tmp_path, ""), **env)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip().startswith(f"{key}: must be an absolute http(s) URL"), lines


@pytest.mark.parametrize(
    "value", ["https://api.telegram.org/bot", "http://127.0.0.1:8081/bot", "http://[::1]:80/x"]
)
@pytest.mark.parametrize("key", http_url_settings())
def test_good_http_urls_pass(tmp_path: Path, key: str, value: str) -> None:
    section, name = key.split(".")
    if key == "telegram.base_url" and not value.endswith("/bot"):
        value += "/bot"  # the token is appended to it: its own rule, the next test
    assert check(write(tmp_path, ""), **{f"FEEDSVC_{section.upper()}__{name.upper()}": value}) == (
        0,
        [],
    )


@pytest.mark.parametrize(
    "value",
    ["https://api.telegram.org", "https://api.telegram.org/", "https://api.telegram.org/bot/",
     "http://127.0.0.1:8081", "https://tg-proxy.example.vn/telegram"],
)  # fmt: skip
def test_a_telegram_base_url_without_bot_is_refused(tmp_path: Path, value: str) -> None:
    """The token is appended to ``telegram.base_url`` as it is: ``https://api.telegram.org``
    passed ``config check``, and ``run``'s bot then asked ``https://api.telegram.org123456:AAF…
    /getMe``, an invalid URL, at every retry for ever. Zalo's base URL takes ``/bot<TOKEN>``
    itself (``zalo.base_url`` stays any http(s) URL)."""
    code, lines = check(write(tmp_path, ""), FEEDSVC_TELEGRAM__BASE_URL=value)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip().startswith("telegram.base_url: must end in /bot"), lines
    assert check(write(tmp_path, ""), FEEDSVC_ZALO__BASE_URL=value) == (0, [])


@pytest.mark.parametrize(
    "value",
    ["https://api.telegram.org/bot", "http://127.0.0.1:8081/bot", "https://p.example/tg/bot",
     "https://p.example/x/bot{token}/"],
)  # fmt: skip
def test_a_telegram_base_url_ending_in_bot_or_placing_the_token_passes(
    tmp_path: Path, value: str
) -> None:
    assert check(write(tmp_path, ""), FEEDSVC_TELEGRAM__BASE_URL=value) == (0, [])


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('title = "Tin\\u0007tức"', "holds a control character (U+0007)"),
        ('title = "Tin tức\\u001b]0;x"', "holds a control character (U+001B)"),
        ('title = "\\u202eTin tức"', "holds a control character (U+202E)"),
        ('title = "Tin\\u0085tức"', "holds a control character (U+0085)"),
        ('title = ""', "must not be empty"),
        ('title = "  \\t "', "must not be empty"),
    ],
)
def test_a_site_title_no_page_can_show_is_a_problem(
    tmp_path: Path, toml: str, message: str
) -> None:
    """``site.title`` is in every feed's and page's title: a control character passed
    ``config check`` and each output then dropped or replaced it its own way; a blank one made
    every topic feed's title end in "— "."""
    code, lines = check(write(tmp_path, f"[site]\n{toml}\n"))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip().startswith(f"site.title: {message}"), lines


@pytest.mark.parametrize(
    "title", ["Tin tức Hải Phòng", "Báo\\tHải Phòng", "Báo Hải Phòng\\u200b", "Tin ⠀ tức"]
)
def test_a_printable_site_title_passes(tmp_path: Path, title: str) -> None:
    assert check(write(tmp_path, f'[site]\ntitle = "{title}"\n')) == (0, [])


@pytest.mark.parametrize(
    ("toml", "section", "keys"),
    [
        ('[telegram]\ntokn = "x"', "[telegram]", TelegramSettings.model_fields),
        ("[database]\nzzzzzz = 1", "[database]", DatabaseSettings.model_fields),
        ('[source.columns]\ntitel = "t"', "[source.columns]", SourceColumns.model_fields),
        ('[sitee]\ntitle = "a"', "sections", Settings.model_fields),
    ],
)
def test_an_unknown_key_is_told_the_keys_it_may_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, section: str, keys: list[str]
) -> None:
    """The line names every key of the section (or the sections), not "config/feedsvc.toml
    lists every key": that is the operator's own file in the README's and the systemd unit's
    layout (a copy of the sample, edited: the typo is in it), and no file at all where feedsvc
    was installed without the repository."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    own = tmp_path / "config" / "feedsvc.toml"
    own.write_text(toml + "\n", encoding="utf-8")
    code, lines = check(own)
    assert code == 2 and len(lines) == 1, lines
    assert "feedsvc.toml" not in lines[0].split(":", 1)[1], lines
    assert f"{section}: {', '.join(sorted(keys))}" in lines[0], lines


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ('[telegram]\ntokn = "x"', "telegram.tokn: unknown key: did you mean telegram.token?"),
        ('[site]\ntimezon = "UTC"', "site.timezon: unknown key: did you mean site.timezone?"),
        ('[sitee]\ntitle = "a"', "sitee: unknown key: did you mean site?"),
        ('[database]\nurll = "x"', "database.urll: unknown key: did you mean database.url?"),
        ('[source.columns]\ntitel = "t"', "source.columns.titel: unknown key: did you mean"),
        ("[database]\nzzzzzz = 1", "database.zzzzzz: unknown key (check spelling;"),
    ],
)
def test_a_misspelt_key_in_the_file_is_told_the_key_it_meant(
    tmp_path: Path, toml: str, line: str
) -> None:
    """A misspelt ``FEEDSVC_`` variable was told what it meant; the same key misspelt in the
    file was only told to check its spelling. Only known names are suggested."""
    code, lines = check(write(tmp_path, toml + "\n"))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip().startswith(line), lines


@pytest.mark.parametrize("written", ["@tin_bot", "tin_bot", " @tin_bot "])
def test_a_bot_username_is_taken_with_or_without_its_at(tmp_path: Path, written: str) -> None:
    """``username = "@tin_bot"``, as Telegram and the README write a bot's name, was refused
    as "String should match pattern '^[A-Za-z][A-Za-z0-9_]{3,31}$'"; it is the name ``tin_bot``
    (the reader pages' ``t.me/tin_bot`` links, getMe's comparison)."""
    path = write(tmp_path, f'[telegram]\nusername = "{written}"\n')
    assert check(path) == (0, [])
    assert load_config(path).telegram.username == "tin_bot"


@pytest.mark.parametrize("written", ["@", "tin bot", "@@tin_bot", "1tin_bot", "t.me/tin_bot"])
def test_a_name_that_is_no_bot_username_is_told_the_rule(tmp_path: Path, written: str) -> None:
    code, lines = check(write(tmp_path, f'[telegram]\nusername = "{written}"\n'))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip() == (
        "telegram.username: must be the bot's username as @BotFather gave it: a letter, then 3 "
        "to 31 letters, digits or _ (the @ may be left out)"
    ), lines


@pytest.mark.parametrize("key", ["site", "source"])
@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Asia/Hanoi", "write an IANA zone name such as Asia/Ho_Chi_Minh (Vietnam's, the default)"),
        ("GMT+7", "an offset is not a zone name; write an IANA zone name such as Asia/Ho_Chi_Minh"),
        ("UTC+7", "or for a fixed +07:00 all year Etc/GMT-7 (IANA's Etc/GMT names reverse the"),
        ("+07:00", "or for a fixed +07:00 all year Etc/GMT-7"),
        ("asia/ho chi minh", "did you mean Asia/Ho_Chi_Minh?"),
    ],
)
def test_an_unknown_time_zone_is_told_what_to_write(
    tmp_path: Path, key: str, written: str, said: str
) -> None:
    """ "unknown IANA timezone 'Asia/Hanoi'" said nothing of what to write (IANA has no
    Asia/Hanoi; Vietnam's zone is Asia/Ho_Chi_Minh); an offset is named as one, with the fixed
    zone of that offset (IANA's reversed sign spelt out: a plain close match named Etc/GMT+7 for
    "GMT+7", fourteen hours away); a name off only in case or spaces is named right. The same
    words for site.timezone and source.timezone (one check, ``config.zones``)."""
    code, lines = check(write(tmp_path, f'[{key}]\ntimezone = "{written}"\n'))
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].strip().startswith(f"{key}.timezone: unknown IANA timezone {written!r}: ")
    assert said in lines[0], lines
    assert "Etc/GMT+7" not in lines[0], lines
