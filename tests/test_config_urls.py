"""Database URLs and sections as the configuration checks them: worded for the operator.

A port that is not a number was "invalid literal for int() with base 10"; 99999 passed; a
section given as a value (``database = 5``) was pydantic's "valid dictionary or instance of
DatabaseSettings"; a MariaDB ``source.url`` whose query PyMySQL's ``connect()`` cannot take
(``?bogusarg=1``: TypeError, ``?charset=nosuch``: AttributeError) was a traceback from every
command. Each is now one line naming the key, exit 2 (``feedsvc config check``, and every
command through it), and never repeats a value that may be a secret.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from processes import free_port
from site_placeholder import unplaced

from feedsvc.cli import cli

SECRET = "s3cr3t-Value-9f8e7d"
JARGON = ("invalid literal", "int()", "valid dictionary", "instance of", "Traceback",
          "AttributeError", "TypeError", "NoneType")  # fmt: skip


def check(tmp_path: Path, text: str = "", **env: str) -> tuple[int, list[str]]:
    """``feedsvc config check`` on ``text`` (plus a topics file) with ``env``: exit code and
    the problem lines."""
    (tmp_path / "topics.toml").write_text("", encoding="utf-8")
    config = tmp_path / "feedsvc.toml"
    config.write_text(f'{text}\n[topics]\nfile = "{tmp_path}/topics.toml"\n', encoding="utf-8")
    clean = {k: None for k in os.environ if k.startswith("FEEDSVC_")}
    result = CliRunner().invoke(cli, ["config", "check", "--config", str(config)],
                                env={**clean, **env})  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, [line.strip() for line in unplaced(result.output).splitlines()[1:]]


def one_problem(tmp_path: Path, key: str, text: str = "", **env: str) -> str:
    code, lines = check(tmp_path, text, **env)
    assert code == 2 and len(lines) == 1, lines
    assert lines[0].startswith(f"{key}: "), lines
    assert not any(word in lines[0] for word in JARGON), lines
    assert SECRET not in lines[0]
    return lines[0]


# -- a section given as a value --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "kind"),
    [
        ("database = 5", "database", "an integer"),
        ('database = "sqlite:///x.db"', "database", "a string"),
        ('[[database]]\nurl = "sqlite:///x.db"', "database", "a list of tables"),
        ("source = true", "source", "true/false"),
        ("http = [8080]", "http", "an array"),
        ("log = 1.5", "log", "a number"),
        ("[source]\ncolumns = 5", "source.columns", "an integer"),
        (f'telegram = "{SECRET}"', "telegram", "a string"),  # a token pasted as the section
    ],
)
def test_a_section_given_as_a_value_must_be_a_table(
    tmp_path: Path, text: str, key: str, kind: str
) -> None:
    line = one_problem(tmp_path, key, text)
    assert f"must be a table: a [{key}] section" in line and f"not {kind}" in line


# -- ports -----------------------------------------------------------------------------------

BAD_PORTS = [
    ("postgresql://u@h:99x/db", "not a number"),
    ("postgresql://u@h:/db", "not a number"),
    ("postgresql://u@h:５４３２/db", "not a number"),
    ("postgresql://u@h:5_432/db", "not a number"),
    ("postgresql://u@h:99999/db", "out of range"),
    ("postgresql://u@h:0/db", "out of range"),
    ("postgresql+psycopg://u@h:65536/db?sslmode=require", "out of range"),
    ("postgresql://u@/db?host=h&port=70000", "out of range"),
    ("postgresql://u@/db?host=h1,h2&port=5432,x", "not a number"),
    (f"postgresql://u:{SECRET}/db", "not a number"),  # '@' forgotten: the password is the port
]


@pytest.mark.parametrize(("url", "words"), BAD_PORTS)
@pytest.mark.parametrize("key", ["database", "source"])
def test_a_bad_port_is_named_in_the_operators_words(
    tmp_path: Path, url: str, words: str, key: str
) -> None:
    line = one_problem(tmp_path, f"{key}.url", **{f"FEEDSVC_{key.upper()}__URL": url})
    assert words in line and "1-65535" in line


@pytest.mark.parametrize("port", ["99999", "0", "x1"])
def test_a_mariadb_source_port_is_checked_too(tmp_path: Path, port: str) -> None:
    url = f"mysql+pymysql://reader:{SECRET}@cms:{port}/news"
    assert "port" in one_problem(tmp_path, "source.url", FEEDSVC_SOURCE__URL=url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h:1/db",
        "postgresql://u@h:65535/db",
        "postgresql://u@/db?host=h1,h2&port=5432,5433",
    ],
)
def test_good_ports_pass(tmp_path: Path, url: str) -> None:
    assert check(tmp_path, FEEDSVC_DATABASE__URL=url, FEEDSVC_SOURCE__URL=url) == (0, [])


# -- a MariaDB source's connection options ---------------------------------------------------

MARIADB = "mysql+pymysql://root@127.0.0.1:3306/test"
BAD_OPTIONS = [
    ("?charset=nosuch", "'charset' is not a character set"),
    ("?bogusarg=1", "unknown connection option(s) in the query: 'bogusarg'"),
    ("?charset=utf8mb4&Charset=x", "'Charset'"),
    (f"?password={SECRET}&bogus_key=1", "'bogus_key'"),
    ("?connect_timeout=abc", "'connect_timeout' has a value of the wrong kind"),
    ("?local_infile=maybe", "'local_infile' has a value of the wrong kind"),
    ("?port=3307", "port after the host"),
    ("?ssl=abc", "'ssl'"),
    ("?cursorclass=DictCursor", "'cursorclass'"),
    ("?defer_connect=1", "'defer_connect'"),
    ("?compress=true", "not supported"),
    ("?ssl_ca=/nonexistent/ca.pem", "cannot read 'ssl_ca'"),
]


@pytest.mark.parametrize(("query", "words"), BAD_OPTIONS)
@pytest.mark.parametrize("scheme", ["mysql+pymysql", "mysql", "mariadb+pymysql"])
def test_connection_options_pymysql_refuses_are_a_config_problem(
    tmp_path: Path, query: str, words: str, scheme: str
) -> None:
    url = MARIADB.replace("mysql+pymysql", scheme) + query
    line = one_problem(tmp_path, "source.url", FEEDSVC_SOURCE__URL=url)
    assert words in line, line


@pytest.mark.parametrize(
    "query", ["", "?charset=utf8mb4", "?charset=utf8", "?connect_timeout=5&local_infile=false",
              "?unix_socket=/run/mysqld/mysqld.sock", f"?passwd={SECRET}", "?ssl_disabled=true",
              "?init_command=SET+time_zone%3D%27%2B07%3A00%27",
              "?ssl_check_hostname=false&ssl_cipher=ECDHE-RSA-AES256-GCM-SHA384"],
)  # fmt: skip
def test_options_pymysql_takes_pass(tmp_path: Path, query: str) -> None:
    assert check(tmp_path, FEEDSVC_SOURCE__URL=MARIADB + query) == (0, [])


def test_a_postgresql_sources_unknown_option_is_asked_of_libpq(tmp_path: Path) -> None:
    """Not guessed here: libpq's own keyword list (it passed, and failed at connect time)."""
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres?bogusarg=1"
    line = one_problem(tmp_path, "source.url", FEEDSVC_SOURCE__URL=url)
    assert 'libpq refuses the connection options: invalid connection option "bogusarg"' in line


def cli_process(tmp_path: Path, *argv: str, **env: str) -> tuple[int, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    (tmp_path / "topics.toml").write_text("", encoding="utf-8")
    config = tmp_path / "feedsvc.toml"
    config.write_text(f'[topics]\nfile = "{tmp_path}/topics.toml"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", *argv, "--config", str(config)],
        env={**clean, "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path}/state.db", **env},
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("query", ["?charset=nosuch", "?bogusarg=1"])
@pytest.mark.parametrize("argv", [["source", "check"], ["run", "--no-bot", "--port", "0"]])
def test_source_check_and_run_refuse_them_in_one_line(
    tmp_path: Path, query: str, argv: list[str]
) -> None:
    """The real process, as the tester ran it: exit 2, the key named, no traceback."""
    if "--port" in argv:
        argv = [*argv[:-1], str(free_port())]
    code, output = cli_process(tmp_path, *argv, FEEDSVC_SOURCE__URL=MARIADB + query)
    assert code == 2, output
    assert "source.url: " in output and "Traceback" not in output, output


# -- libpq options -----------------------------------------------------------------------------

#: PostgreSQL URL queries libpq (or psycopg) refuses, and its words: `config check` said OK and
#: every command failed when connecting. The host never resolves: libpq is asked on a Unix
#: socket that does not exist (feedsvc.db.libpq), never on the network.
LIBPQ_REFUSED = {
    "sslmode=bogus": 'invalid sslmode value: "bogus"',
    "target_session_attrs=nope": 'invalid target_session_attrs value: "nope"',
    "connect_timeout=abc": "bad value for connect_timeout: 'abc'",
    "gssencmode=x": 'invalid gssencmode value: "x"',
    "load_balance_hosts=sometimes": 'invalid load_balance_hosts value: "sometimes"',
    "sslmodee=require": 'invalid connection option "sslmodee"',
    f"sslmode=bogus&sslpassword={SECRET}": 'invalid sslmode value: "bogus"',
}


@pytest.mark.parametrize("query", sorted(LIBPQ_REFUSED))
@pytest.mark.parametrize("key", ["database", "source"])
def test_a_libpq_option_libpq_refuses_is_a_config_problem(
    tmp_path: Path, query: str, key: str
) -> None:
    url = f"postgresql://u:{SECRET}@db.example.invalid:5432/feedsvc?{query}"
    line = one_problem(tmp_path, f"{key}.url", **{f"FEEDSVC_{key.upper()}__URL": url})
    assert f"libpq refuses the connection options: {LIBPQ_REFUSED[query]}" in line, line


@pytest.mark.parametrize(
    "query",
    ["sslmode=require", "sslmode=verify-full&target_session_attrs=read-write",
     "connect_timeout=5&application_name=feedsvc", "options=-csearch_path%3Dfeedsvc",
     "host=h1,h2&port=5432,5433&load_balance_hosts=random", "gssencmode=disable"],
)  # fmt: skip
def test_libpq_options_libpq_takes_pass(tmp_path: Path, query: str) -> None:
    url = f"postgresql://u@db.example.invalid/feedsvc?{query}"
    assert check(tmp_path, FEEDSVC_DATABASE__URL=url) == (0, [])


@pytest.mark.postgres
@pytest.mark.parametrize("query", [q for q in sorted(LIBPQ_REFUSED) if "sslpassword" not in q])
def test_libpq_refuses_each_when_connecting(pg_url: str, query: str) -> None:
    """The problems are true: a real connection to the test server fails on each."""
    import psycopg

    from feedsvc.db.urls import psycopg_url

    parsed = psycopg_url(f"{pg_url.split('?')[0]}?{query}")
    assert parsed is not None
    params = {"connect_timeout": 5} | parsed.psycopg_params()
    with pytest.raises(psycopg.Error):
        psycopg.connect(**params).close()


@pytest.mark.parametrize(
    "url",
    ["sqlite:///sp.db ", " sqlite:///sp.db", "sqlite:///sp.db\t", "postgresql://u@h/db ",
     "sqlite:///sp.db\n"],
)  # fmt: skip
def test_whitespace_around_a_database_url_is_refused(url: str) -> None:
    """A trailing space became part of the SQLite file's name (``sp.db `` beside ``sp.db``);
    a leading one was "not a SQLAlchemy URL"."""
    from feedsvc.config.urls import check_url

    with pytest.raises(ValueError, match="whitespace before or after it"):
        check_url(url)


@pytest.mark.parametrize(
    "host", ["127.0.0.1 ", " 0.0.0.0", "", "a..b", "[::1]", "-x", "a b", "999.1.1.1",
             "192.168.1.300", "10.0.0", "1.2.3.4.5"],
)  # fmt: skip
def test_an_http_host_no_listener_can_take_is_refused(host: str) -> None:
    """``"127.0.0.1 "`` passed ``config check``; ``run`` then could not listen."""
    from feedsvc.config import ConfigError, load_config

    with pytest.raises(ConfigError) as refused:
        load_config(None, {"http": {"host": host}})
    assert [p.key for p in refused.value.problems] == ["http.host"]


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "::", "::1", "localhost", "feeds.lan."])
def test_an_http_host_a_listener_takes_passes(host: str) -> None:
    from feedsvc.config import load_config

    assert load_config(None, {"http": {"host": host}}).http.host == host
