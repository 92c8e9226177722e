"""An operator's mistake never ends in a traceback (issue #17 §3).

``test_every_command_*`` walks the whole Click tree (a command added later is covered without
touching this file) in three directories: empty, with an empty state DB file, and with an
initialised state DB. Every command must end with a documented exit code (0 ok, 1 failed, 2
usage/config) and, when it fails, a message instead of a traceback; commands that only read the
state DB must name `feedsvc db upgrade` when it is missing, and must not create it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from migrated import copy_template
from site_placeholder import unplaced

from feedsvc.cli import cli

#: Commands that only read the state DB: never create it, and say how to initialise it.
READS_STATE_DB = {
    "status",
    "render",
    "topics list",
    "topics export",
    "topics preview",
    "subs list",
    "source check",
    "articles find",
}
#: Read only too, and answer "empty" for a DB that has no schema (the hint goes to stderr).
REPORTS_STATE_DB = {"db current"}
#: Long-running commands, run as processes (with their port taken, so they end at once).
SERVICES = {"run", "demo"}


def leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def command_at(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    return command


def placeholder(param: click.Parameter) -> str:
    """A plausible value an operator might type for a required parameter."""
    kind = param.type
    if isinstance(kind, click.Choice):
        return str(kind.choices[0])
    if isinstance(kind, click.File):
        return "-"  # stdin, empty
    if isinstance(kind, click.Path):
        return "missing.toml"
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType):
        return "1"
    return "kien-thuy"


def argv_for(path: tuple[str, ...]) -> list[str]:
    argv = list(path)
    for param in command_at(path).params:
        if not param.required:
            continue
        if isinstance(param, click.Option):
            argv += [param.opts[0], placeholder(param)]
        else:
            argv.append(placeholder(param))
    return argv


ALL = sorted(leaf_commands(cli))
IN_PROCESS = [p for p in ALL if " ".join(p) not in SERVICES]


def test_the_walk_sees_the_whole_tree() -> None:
    names = {" ".join(p) for p in ALL}
    assert {"run", "demo", "status", "db upgrade", "topics list", "config check"} <= names
    assert names >= READS_STATE_DB


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key in list(os.environ):
        if key.startswith("FEEDSVC_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def initialised(cwd: Path) -> None:
    """The default state DB (``var/feedsvc.db`` under ``cwd``) at head: a copy of the migrated
    template, as ``db upgrade`` leaves it (the command is tested above and in test_db; 136
    parameter cases each ran it, ~17 s of CPU)."""
    (cwd / "var").mkdir()
    assert copy_template(f"sqlite:///{cwd / 'var' / 'feedsvc.db'}")


def invoke(argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, argv, input="")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{argv}: uncaught {result.exception!r}\n{result.output}")
    return result.exit_code, result.output


def check(argv: list[str], code: int, output: str) -> None:
    assert "Traceback" not in output, f"{argv}:\n{output}"
    assert code in (0, 1, 2), f"{argv}: exit {code}\n{output}"
    if code != 0:
        assert output.strip(), f"{argv}: exit {code} without a message"


STATES = ["empty dir", "empty DB file"]
#: Each command once per state where the state DB's absence is what it is checked for (the
#: readers: their answer and what they leave differ by state); every other command in one
#: state, rotating (each-choice: its only check, no traceback, does not depend on whether the
#: file is there: the state DB is opened by the one shared opener).
WITHOUT_STATE_DB = [
    (path, state)
    for i, path in enumerate(IN_PROCESS)
    for state in (
        STATES if " ".join(path) in READS_STATE_DB | REPORTS_STATE_DB else [STATES[i % len(STATES)]]
    )
]


@pytest.mark.parametrize(
    ("path", "state"), WITHOUT_STATE_DB, ids=[f"{' '.join(p)}-{s}" for p, s in WITHOUT_STATE_DB]
)
def test_every_command_without_a_state_db(
    clean_env: Path, path: tuple[str, ...], state: str
) -> None:
    db_file = clean_env / "var" / "feedsvc.db"
    if state == "empty DB file":
        db_file.parent.mkdir()
        db_file.touch()
    argv = argv_for(path)
    code, output = invoke(argv)
    check(argv, code, output)
    name = " ".join(path)
    if name in READS_STATE_DB:
        assert code == 1 and "feedsvc db upgrade" in output, output
    if name in REPORTS_STATE_DB:
        assert code == 0 and "feedsvc db upgrade" in output, output
    if name in READS_STATE_DB | REPORTS_STATE_DB:
        assert db_file.exists() == (state == "empty DB file")
        # not even its directory (`Database()` made ./var/ for any command that opened it)
        assert db_file.parent.exists() == (state == "empty DB file"), name


@pytest.mark.parametrize("path", IN_PROCESS, ids=[" ".join(p) for p in IN_PROCESS])
def test_every_command_with_an_initialised_state_db(clean_env: Path, path: tuple[str, ...]) -> None:
    initialised(clean_env)
    argv = argv_for(path)
    code, output = invoke(argv)
    check(argv, code, output)


def test_db_current_on_a_new_dir_answers_empty_and_names_db_upgrade(clean_env: Path) -> None:
    """The state DB named by its file (a newcomer's: ``sqlite:///var/feedsvc.db``, relative,
    read as ``/var/feedsvc.db``)."""
    result = CliRunner().invoke(cli, ["db", "current"])
    assert (result.exit_code, result.stdout) == (0, "empty\n")
    db = (clean_env / "var" / "feedsvc.db").resolve()
    assert result.stderr == (
        f"feedsvc: the state DB {db} is not initialised: run `feedsvc db upgrade`\n"
    )
    assert not (clean_env / "var").exists()


@pytest.mark.parametrize(
    "argv",
    [["db", "upgrade"], ["topics", "add", "a", "--title", "A", "--query", "x"], ["import", "-"]],
)
def test_an_absolute_state_db_path_in_a_missing_directory_is_refused(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """`sqlite:////nonexistent/dir/x.db`: a typo or a volume not mounted; `db upgrade` made the
    directories (as root: /nonexistent/dir) and went on."""
    missing = clean_env / "not" / "there"
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{missing / 'x.db'}")
    code, output = invoke(argv)
    assert code == 2, output
    assert f"the state DB's directory {missing} does not exist" in output
    assert not (clean_env / "not").exists()


def test_a_relative_state_db_path_gets_its_directories(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", "sqlite:///data/state/x.db")
    assert invoke(["db", "upgrade"])[0] == 0
    assert (clean_env / "data" / "state" / "x.db").is_file()


def test_an_unreachable_state_db_is_one_line(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(
        "FEEDSVC_DATABASE__URL", f"postgresql+psycopg://feedsvc:hunter2pw@127.0.0.1:{port}/feedsvc"
    )
    for argv in (
        ["status"],
        ["topics", "list"],
        ["topics", "add", "x", "--title", "X", "--query", "x"],
        ["db", "upgrade"],
    ):
        code, output = invoke(argv)
        check(argv, code, output)
        assert code == 1 and "hunter2pw" not in output, output
        assert "Connection refused; Is the server running" in output, output  # not run together


@pytest.mark.postgres
def test_an_uninitialised_postgresql_state_db_names_db_upgrade(
    clean_env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty schema, read by psycopg directly (``topics list``, ``status``) or through
    SQLAlchemy (``subs list``): the same message, the password masked, nothing created."""
    url = pg_url.replace("postgres@", "postgres:hunter2pw@")  # trusted: any password works
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    masked = pg_url.replace("postgres@", "postgres:***@")
    for argv in (["status"], ["status", "--json"], ["topics", "list"], ["subs", "list"]):
        code, output = invoke(argv)
        check(argv, code, output)
        assert code == 1, output
        assert f"the state DB {masked} is not initialised: run `feedsvc db upgrade`" in output
        assert "hunter2pw" not in output
    import psycopg

    from feedsvc.db.urls import psycopg_url

    parsed = psycopg_url(pg_url)
    assert parsed is not None
    with psycopg.connect(**parsed.psycopg_params()) as conn:
        tables = "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
        assert conn.execute(tables).fetchone() == (0,)  # a read created nothing


# -- the long-running commands ------------------------------------------------------------------


def busy_port() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


@pytest.mark.parametrize("command", sorted(SERVICES))
def test_a_busy_port_is_named_before_anything_starts(tmp_path: Path, command: str) -> None:
    repo = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {
        "FEEDSVC_TOPICS__FILE": str(repo / "config" / "topics.toml"),
        "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}",
    }
    with busy_port() as sock:
        port = sock.getsockname()[1]
        argv = [command, "--port", str(port)]
        if command == "demo":
            argv += ["--dir", str(tmp_path / "demo")]
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert f"127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    if command == "demo":  # http.port unset: the demo's line names no config key (below)
        assert done.stderr == (
            f"feedsvc: cannot listen on 127.0.0.1:{port}: already in use; stop what holds it, "
            "or choose another port with --port\n"
        )
    assert done.stdout == ""  # no banner, no "seeded", nothing that says it worked
    assert not (tmp_path / "state.db").exists()  # nothing started: not even the DB


def test_run_in_an_empty_dir_starts_and_stops_cleanly(tmp_path: Path) -> None:
    """The one command that succeeds in an empty directory: the service on defaults."""
    from processes import CLIENT, free_port, wait_until

    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(
            lambda: (tmp_path / "var" / "feedsvc.db").exists() or proc.poll() is not None,
            60,
            "the service to create its DB",
        )
        import httpx

        def ready() -> bool:
            try:
                return CLIENT.get(f"http://127.0.0.1:{port}/healthz").status_code == 200
            except httpx.HTTPError:
                return proc.poll() is not None

        wait_until(ready, 60, "the service to answer /healthz")
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    # no topics file at the default path: said once, as information (config check says OK)
    [line] = [x for x in out.splitlines() if "topics file" in x]
    assert " INFO " in line and "no topics file at config/topics.toml" in line, out


# -- configuration mistakes ----------------------------------------------------------------------

BROKEN_TOML = [  # (text, line number the message must name)
    ("[http]\nport = 8080\nhost =\n", 3),
    ('[database]\nurl = "sqlite:///x.db"\n[database]\nurl = "y"\n', 3),
    ('[topics\nfile = "t.toml"\n', 1),
    ('[site]\ntitle = "Tin tức\n', 2),
]


@pytest.mark.parametrize(("text", "line"), BROKEN_TOML)
@pytest.mark.parametrize(
    "argv", [["config", "check"], ["config", "show"], ["run"], ["status"], ["demo", "--port", "0"]]
)
def test_a_toml_syntax_error_names_the_line_and_exits_2(
    clean_env: Path, text: str, line: int, argv: list[str]
) -> None:
    config = clean_env / "feedsvc.toml"
    config.write_text(text, encoding="utf-8")
    code, output = invoke([*argv, "--config", str(config)])
    check(argv, code, output)
    assert code == 2, output
    assert f"line {line}" in output


SECRET = "s3cr3t-Value-9f8e7d"
MISPLACED = [
    f'[http]\ntoken = "{SECRET}"\n',
    f'[telegram]\ntokn = "{SECRET}"\n',
    f'[admin]\ntoken_fil = "{SECRET}"\n',
    f'tokens = "{SECRET}"\n',
    f'telegram = "{SECRET}"\n',
    f'[[admin]]\ntoken = "{SECRET}"\n',
    f'[telegram]\ntoken = ["{SECRET}"]\n',
    f'[database]\nurl = "postgresql//feedsvc:{SECRET}@db/feedsvc"\n',
    f'[source]\nurl = "mysql+pymysql//reader:{SECRET}@cms/news"\n',
    f'[source]\nurl = "mysql+pymysql://reader:{SECRET}@cms/news"\nbogus = 1\n',
    f'[http]\npublic_url = "ftp://user:{SECRET}@host/"\n',
]


@pytest.mark.parametrize("text", MISPLACED)
@pytest.mark.parametrize("argv", [["config", "check"], ["config", "show"], ["run"], ["status"]])
def test_a_misplaced_secret_is_never_echoed(clean_env: Path, text: str, argv: list[str]) -> None:
    config = clean_env / "feedsvc.toml"
    config.write_text(text, encoding="utf-8")
    code, output = invoke([*argv, "--config", str(config)])
    check(argv, code, output)
    assert code == 2, output
    assert SECRET not in output


def test_config_show_masks_db_passwords(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"postgresql+psycopg://feedsvc:{SECRET}@db/fs")
    monkeypatch.setenv("FEEDSVC_SOURCE__URL", f"mysql+pymysql://reader:{SECRET}@cms/news")
    monkeypatch.setenv("FEEDSVC_ADMIN__TOKEN", SECRET)
    code, output = invoke(["config", "show"])
    assert code == 0, output
    assert SECRET not in output
    assert "feedsvc:***@db" in output and "reader:***@cms" in output


@pytest.mark.postgres
def test_source_check_never_prints_the_state_db_password(
    clean_env: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the test server trusts loopback, so the password is accepted whatever it is
    url = pg_url.replace("postgres@", f"postgres:{SECRET}@")
    assert SECRET in url
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    assert invoke(["db", "upgrade"])[0] == 0
    for argv in (
        ["source", "check"],
        ["status"],
        ["db", "upgrade"],
        ["db", "current"],
        ["config", "show"],
        ["topics", "list"],
    ):
        code, output = invoke(argv)
        assert code == 0, output
        assert SECRET not in output, argv


def integer_params() -> list[tuple[tuple[str, ...], click.Parameter]]:
    return [
        (path, param)
        for path in IN_PROCESS
        for param in command_at(path).params
        if isinstance(param.type, click.types.IntParamType)
    ]


def test_every_integer_parameter_is_bounded() -> None:
    """A plain ``int`` passes any number to the database driver: every one is a range within
    what a state DB column holds (the class behind ``subs list --chat 10**30``)."""
    from feedsvc.cli.params import Int
    from feedsvc.digits import MAX_ID

    found = integer_params()
    assert {(" ".join(p), param.name) for p, param in found} >= {
        ("subs list", "chat_id"),
        ("subs add", "chat_id"),
        ("subs remove", "sub_id"),
    }
    for path, param in found:
        kind = param.type
        # Int: bounded, and ASCII digits only (click's INT takes "１２３")
        assert isinstance(kind, Int), f"{' '.join(path)} {param.name}: not cli.params.Int"
        low = kind.min if kind.min is not None else -MAX_ID - 1
        high = kind.max if kind.max is not None else MAX_ID + 1
        assert low >= -MAX_ID and high <= MAX_ID, f"{' '.join(path)} {param.name}: {kind}"


HUGE = ["9223372036854775808", "-9223372036854775808", "1" + "0" * 30, "-" + "9" * 400]
#: Numbers int() reads (or str.isdigit() accepts) that are not ASCII digits: full-width,
#: Arabic-Indic, Devanagari, mathematical bold, superscript, and int()'s own leniencies.
NOT_ASCII = ["１２３", "١٢٣", "४२", "𝟓", "²", "-１", "1_0", "+5", " 5", "5 ", "0x1f", "--5", "1e3"]


@pytest.mark.parametrize("value", HUGE + NOT_ASCII)
@pytest.mark.parametrize(
    ("path", "param"), integer_params(),
    ids=[f"{' '.join(p)} {param.name}" for p, param in integer_params()],
)  # fmt: skip
def test_out_of_range_numbers_are_usage_errors(
    clean_env: Path, path: tuple[str, ...], param: click.Parameter, value: str
) -> None:
    """``subs remove 10**30`` and the like: exit 2 naming the parameter, never a traceback."""
    initialised(clean_env)
    options: list[str] = []
    arguments: list[str] = []
    for other in command_at(path).params:
        given = value if other is param else placeholder(other) if other.required else None
        if given is None:
            continue
        if isinstance(other, click.Option):
            options += [other.opts[0], given]
        else:
            arguments.append(given)
    argv = [*path, *options, "--", *arguments]  # "--": a negative number is no option
    code, output = invoke(argv)
    check(argv, code, output)
    assert code == 2, f"{argv}: exit {code}\n{output}"
    named = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    assert "Invalid value for '" in output and f"{named}" in output, output


def float_params() -> list[tuple[tuple[str, ...], click.Parameter]]:
    return [
        (path, param)
        for path in ALL
        for param in command_at(path).params
        if isinstance(param.type, click.types.FloatParamType)
    ]


def test_every_number_parameter_takes_ascii_digits_only() -> None:
    from feedsvc.cli.params import Float

    found = float_params()
    assert {(" ".join(p), param.name) for p, param in found} >= {("demo", "every")}
    for path, param in found:
        assert isinstance(param.type, Float), f"{' '.join(path)} {param.name}: not Float"


@pytest.mark.parametrize("value", ["３０", "٣", "1e3", "nan", "inf", "+1", " 1", "1_0", "½"])
def test_a_non_ascii_number_is_a_usage_error(clean_env: Path, value: str) -> None:
    """``topics backfill --days ３０``: float() reads it; the CLI names the option, exit 2."""
    initialised(clean_env)
    code, output = invoke(["topics", "backfill", "kien-thuy", "--days", value])
    assert code == 2 and "Invalid value for '--days'" in output, output


RANGES = [
    (["topics", "backfill", "kien-thuy", "--days", "-1"], "-1 is not in the range 0<=x<=36500."),
    (["topics", "backfill", "kien-thuy", "--days", "36501"],
     "36501 is not in the range 0<=x<=36500."),
    (["topics", "backfill", "kien-thuy", "--days", "-007"],
     "-007 is not in the range 0<=x<=36500."),
    (["demo", "--every", "0.10"], "0.10 is not in the range 0.2<=x<=3600."),
    (["demo", "--every", "-1"], "-1 is not in the range 0.2<=x<=3600."),
    (["demo", "--port", "070000"], "070000 is not in the range 0<=x<=65535."),
    (["articles", "find", "x", "--limit", "0"], "0 is not in the range"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "said"), RANGES, ids=[" ".join(a) for a, _ in RANGES])
def test_a_number_out_of_range_is_named_as_typed(
    clean_env: Path, argv: list[str], said: str
) -> None:
    """`topics backfill kt --days -1`: "-1.0 is not in the range 0<=x<=36500." (a tester's):
    Click names the number it converted, not the one typed."""
    code, output = invoke(argv)
    assert code == 2 and f"Invalid value for '{argv[-2]}': {said}" in output, output


@pytest.mark.parametrize("value", ["1.5", "0.5", "30.0", "-0.5"])
def test_backfill_days_are_whole_days(clean_env: Path, value: str) -> None:
    """README: "the stored articles of the last N days" (``--days N``, ``{"days": 0}``), as
    ``source reconcile --days``: 1.5 was taken (a float option), and the API's 200."""
    initialised(clean_env)
    code, output = invoke(["topics", "backfill", "kien-thuy", "--days", value])
    assert code == 2, output
    assert f"Invalid value for '--days': {value!r} is not an integer" in output, output


@pytest.mark.parametrize("extra", [[], ["--explain"]])
def test_a_reader_that_leaves_the_pipe_gets_no_error_line(tmp_path: Path, extra: list[str]) -> None:
    """`feedsvc match … | head -1`: once the reader closes the pipe the command stops quietly
    (exit 1, as click does for EPIPE), not with "feedsvc: Broken pipe" or a traceback."""
    lines = tmp_path / "articles.jsonl"
    lines.write_text("".join(
        f'{{"source_key": "K{i}", "url": "https://e.vn/{i}", "title": "Công an xã {i}", '
        f'"published_at": "2026-11-20T10:00:00+07:00"}}\n' for i in range(20000)
    ), encoding="utf-8")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    with lines.open("rb") as stdin:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "match", "--query", '"công an"', *extra],
            cwd=tmp_path, env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(10)  # a first match arrives, then the reader leaves
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=120) == 1
    assert err == ""


def test_a_host_not_on_this_machine_points_at_http_host(tmp_path: Path) -> None:
    """192.0.2.1 (TEST-NET-1) is no address of this machine: the port is not the problem, so
    the advice names ``http.host`` (it said "choose another port with --port")."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_HTTP__HOST": "192.0.2.1",
            "FEEDSVC_DATABASE__URL": f"sqlite:///{tmp_path / 'state.db'}"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "feedsvc", "run", "--port", "18093"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
                          check=False)  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cannot listen on 192.0.2.1:18093: not an address of this machine; set http.host" in (
        done.stderr
    )
    assert "--port" not in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "state.db").exists()


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (OSError(errno.EADDRINUSE, "Address already in use"), "already in use; stop what holds"),
        (OSError(errno.EACCES, "Permission denied"), "ports below 1024 need privileges); choose"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "no such host; set"),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign"), "not an address of this machine"),
        (OSError(errno.EINVAL, "Invalid argument"), "invalid argument; check http.host and"),
    ],
)
def test_each_bind_failure_has_its_own_advice(error: OSError, advice: str) -> None:
    """A name that does not resolve is worded without a real lookup (no test leaves loopback)."""
    from feedsvc.cli.listening import _listen_advice

    assert advice in _listen_advice(error)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EADDRINUSE, "Address already in use"),
        OSError(errno.EACCES, "Permission denied"),
        OSError(errno.EINVAL, "Invalid argument"),
    ],
)
def test_the_demo_bind_advice_names_only_its_port_option(error: OSError) -> None:
    """The demo listens on 127.0.0.1 at its --port whatever the config says: no config key."""
    from feedsvc.cli.listening import _listen_advice

    advice = _listen_advice(error, configurable=False)
    assert advice.endswith("choose another port with --port"), advice
    assert "http." not in advice


@pytest.mark.parametrize("config_port", ["18094"])
def test_a_busy_demo_port_names_no_config_key(tmp_path: Path, config_port: str | None) -> None:
    """`feedsvc demo` on a taken port said "(or http.port in the config)": the demo ignores
    http.port, so following that advice changed nothing; with the key set here, without it in
    ``test_a_busy_port_is_named_before_anything_starts[demo]`` (the same exact line)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null"}
    if config_port is not None:
        env["FEEDSVC_HTTP__PORT"] = config_port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "demo", "--port", str(taken), "--dir", "d"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"feedsvc: cannot listen on 127.0.0.1:{taken}: already in use; stop what holds it, "
        "or choose another port with --port\n"
    )


def test_run_with_every_role_off_is_a_usage_error(tmp_path: Path) -> None:
    """It started, did nothing and exited 0 on SIGTERM, looking like a healthy worker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null"}
    done = subprocess.run(
        [sys.executable, "-m", "feedsvc", "run", "--no-http", "--no-scheduler", "--no-bot"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "leave nothing to run" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()


# -- Ctrl-C ----------------------------------------------------------------------------------


def _interrupted(*_args: object, **_kwargs: object) -> None:
    raise KeyboardInterrupt


def _terminated(*_args: object, **_kwargs: object) -> None:
    from feedsvc.cli.terminate import Terminated

    raise Terminated


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_ctrl_c_in_any_command_is_exit_130_in_one_line(
    clean_env: Path, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Click said "Aborted!" and exit 1, the code of work that failed; only `import` said 130."""
    monkeypatch.setattr(command_at(path), "callback", _interrupted)
    result = CliRunner().invoke(cli, argv_for(path), input="")
    assert result.exit_code == 130, result.output
    assert result.output == "feedsvc: interrupted\n"


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_sigterm_in_any_command_is_exit_143_in_one_line(
    clean_env: Path, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tester F9: SIGTERM (what `timeout`, systemd, cron send) ends a command as Ctrl-C does,
    worded, exit 143 (128 + SIGTERM), where Python's default action printed nothing."""
    monkeypatch.setattr(command_at(path), "callback", _terminated)
    result = CliRunner().invoke(cli, argv_for(path), input="")
    assert result.exit_code == 143, result.output
    assert result.output == "feedsvc: terminated (SIGTERM)\n"


@pytest.mark.parametrize("path", ALL, ids=[" ".join(p) for p in ALL])
def test_the_sigterm_handler_is_the_commands_and_put_back(
    clean_env: Path, path: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every command but `run` and `demo` (an orderly stop of their own, exit 0: server.serve)
    runs with SIGTERM raising Terminated; the default action is back once it ends."""
    import signal

    from feedsvc import entry
    from feedsvc.cli import terminate

    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        pytest.skip("SIGTERM has a handler in this test process")
    seen: list[object] = []
    monkeypatch.setattr(
        command_at(path), "callback", lambda *a, **k: seen.append(signal.getsignal(signal.SIGTERM))
    )
    CliRunner().invoke(cli, argv_for(path), input="")
    own = path[0] in terminate.OWN_HANDLING
    assert seen == [signal.SIG_DFL if own else entry.handle]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


@pytest.mark.parametrize(
    ("sig", "code", "words"),
    [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated (SIGTERM)")],
    ids=["SIGINT", "SIGTERM"],
)
def test_ctrl_c_while_match_waits_for_input(
    tmp_path: Path, sig: str, code: int, words: str
) -> None:
    """The real process and signal: SIGINT (or SIGTERM: it died silently, tester F9) while
    `match` waits on an open stdin."""
    import signal

    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONFAULTHANDLER"] = "1"  # a hang's dump on SIGABRT (below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "match", "--query", '"công an"'],
        cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    proc.stdin.write(
        b'{"source_key": "K1", "url": "https://e.vn/1", "title": "C\xc3\xb4ng an x\xc3\xa3", '
        b'"published_at": "2026-11-20T10:00:00+07:00"}\n'
    )
    proc.stdin.flush()
    assert proc.stdout.readline() == b"K1\n"  # matched: now it waits for the next line
    proc.send_signal(getattr(signal, sig))
    try:
        exit_code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:  # where it waits: faulthandler's dump (CI, once)
        proc.send_signal(signal.SIGABRT)
        proc.wait()
        raise AssertionError(proc.stderr.read().decode()[-4000:]) from None
    assert exit_code == code
    assert proc.stderr.read().decode() == f"feedsvc: {words}\n"
    proc.stdin.close()


# -- a state DB path that cannot hold an SQLite database -------------------------------------

#: (what is at the path, exit code, the message's words). A directory or a path under a file
#: said "not initialised: run `feedsvc db upgrade`", and that then said "unable to open
#: database file" or "File exists: …"; another file said "DatabaseError: file is not a
#: database", naming no file.
BAD_PATHS = [
    ("a directory", 2, "is a directory, not an SQLite file: set database.url"),
    ("under a file", 2, "cannot be created: {root}/afile is a file, not a directory"),
    ("not a database", 1, "is not an SQLite database (another file, or damaged): set database"),
]


def _bad_state_db(root: Path, kind: str) -> str:
    if kind == "a directory":
        (root / "state").mkdir()
        return f"sqlite:///{root}/state"
    if kind == "under a file":
        (root / "afile").write_text("x")
        return f"sqlite:///{root}/afile/x.db"
    (root / "other.db").write_bytes(bytes(range(256)) * 20)
    return f"sqlite:///{root}/other.db"


@pytest.mark.parametrize(("kind", "code", "words"), BAD_PATHS, ids=[k for k, _, _ in BAD_PATHS])
@pytest.mark.parametrize("path", IN_PROCESS, ids=[" ".join(p) for p in IN_PROCESS])
def test_a_state_db_path_that_cannot_be_a_database_is_named(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: tuple[str, ...],
    kind: str,
    code: int,
    words: str,
) -> None:
    url = _bad_state_db(clean_env, kind)
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", url)
    argv = argv_for(path)
    got, output = invoke(argv)
    check(argv, got, output)
    name = " ".join(path)
    if name in READS_STATE_DB | REPORTS_STATE_DB | {"db upgrade", "topics add", "import"}:
        assert got == code, output
        # a directory: the configuration's refusal, database.url's (config check's too)
        shown = url.removeprefix("sqlite:///")  # the file's path (db.urls.shown_db)
        lead = "database.url: " if kind == "a directory" else f"feedsvc: the state DB {shown} "
        assert lead in output, output
        assert words.format(root=clean_env) in output, output
        assert "feedsvc db upgrade" not in output or kind == "not a database", output


def test_run_names_a_state_db_path_that_cannot_be_a_database(tmp_path: Path) -> None:
    """A path refused before it is opened ("a directory") and a file that opens as no
    database: the two checks `run` goes through. "under a file" is the first check's (every
    other command's, above), and `run` meets it in
    ``test_readers_say_why_db_upgrade_cannot_create_the_state_db``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    for kind, code, words in BAD_PATHS:
        if kind == "under a file":
            continue
        url = _bad_state_db(tmp_path, kind)
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", "run", "--no-http"],
            cwd=tmp_path, env=env | {"FEEDSVC_DATABASE__URL": url}, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == code, done.stderr
        assert words.format(root=tmp_path) in done.stderr and "Traceback" not in done.stderr


# -- an empty path -----------------------------------------------------------------------------


def path_params() -> list[tuple[tuple[str, ...], click.Parameter]]:
    return [
        (path, param)
        for path in ALL
        for param in command_at(path).params
        if isinstance(param.type, click.Path)
    ]


def test_every_path_parameter_refuses_an_empty_path() -> None:
    from feedsvc.cli.params import PathParam

    found = path_params()
    assert {(" ".join(p), param.name) for p, param in found} >= {
        ("run", "config_file"), ("topics import", "file"), ("demo", "directory"),
        ("match", "topics_file"),
    }  # fmt: skip
    for path, param in found:
        assert isinstance(param.type, PathParam), f"{' '.join(path)} {param.name}"


@pytest.mark.parametrize("value", ["", " ", "\t"])
@pytest.mark.parametrize(
    ("path", "param"), path_params(),
    ids=[f"{' '.join(p)} {param.name}" for p, param in path_params()],
)  # fmt: skip
def test_an_empty_path_is_a_usage_error(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    path: tuple[str, ...],
    param: click.Parameter,
    value: str,
) -> None:
    """``--config ''`` (``--config "$UNSET"`` in a script) fell back to ``$FEEDSVC_CONFIG`` or
    the default file without a word; ``topics import ''`` to ``topics.file``."""
    monkeypatch.setenv("FEEDSVC_CONFIG", "/dev/null")  # what it fell back to
    argv = [*path]
    for other in command_at(path).params:
        given = value if other is param else placeholder(other) if other.required else None
        if given is None:
            continue
        argv += [other.opts[0], given] if isinstance(other, click.Option) else [given]
    # run and demo too: Click refuses the value before anything starts
    code, output = invoke(argv)
    assert code == 2, f"{argv}: exit {code}\n{output}"
    named = param.opts[0] if isinstance(param, click.Option) else param.human_readable_name
    assert (
        f"Invalid value for '{named}': an empty path" in output
        or f"Invalid value for '[{named}]': an empty path" in output
    ), output


# -- an SQLite source file that is not there (F4) ----------------------------------------------

#: What the source's absence may change: `config check` warns (exit 0 both ways), `source check`
#: cannot connect and `source reconcile` cannot read it (exit 1; a pass reads the table even
#: with nothing held). Every other command does not read the source.
READS_SOURCE = {"source check": "cannot connect to", "source reconcile": "cannot read"}


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An initialised state DB to copy (one migration for the module)."""
    from feedsvc.db import Database, upgrade

    path = tmp_path_factory.mktemp("template") / "state.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db)
    db.dispose()
    return path


@pytest.mark.parametrize("path", IN_PROCESS, ids=[" ".join(p) for p in IN_PROCESS])
def test_every_command_but_source_check_ignores_a_missing_sqlite_source_file(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, migrated: Path, path: tuple[str, ...]
) -> None:
    """F4 (tester): with `source.url` an SQLite file that was moved (or on a share not mounted)
    every command exited 2 "invalid configuration": `status`, `topics list`, `render`, `db
    current`, `articles find`. Each command now ends as it does with the file there, on a state
    DB of its own, and never creates the file."""
    cms = clean_env / "ext" / "cms.db"
    cms.parent.mkdir()
    with closing(sqlite3.connect(cms)) as conn:
        conn.execute(  # the default mapping's columns: a command that reads it finds them
            "CREATE TABLE posts (id INTEGER PRIMARY KEY, modified TIMESTAMP NOT NULL, "
            "source_key TEXT, url TEXT, title TEXT, published_at TEXT)"
        )
    monkeypatch.setenv("FEEDSVC_SOURCE__URL", f"sqlite:///{cms}")
    monkeypatch.setenv("FEEDSVC_SOURCE__TABLE", "posts")
    monkeypatch.setenv("FEEDSVC_SOURCE__COLUMNS__CURSOR", "modified")
    argv = argv_for(path)
    ends = []
    for there, state in ((True, "there.db"), (False, "gone.db")):
        shutil.copyfile(migrated, clean_env / state)
        monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{clean_env / state}")
        if not there:
            cms.rename(cms.with_name("cms.moved"))
        code, output = invoke(argv)
        check(argv, code, output)
        assert "invalid configuration" not in output, output
        ends.append((code, output))
    name = " ".join(path)
    said = f"the SQLite file {cms} does not exist (a source is read, never created)"
    if name in READS_SOURCE:
        assert ends[1][0] == 1, ends[1][1]
        assert f"feedsvc: {READS_SOURCE[name]} the source: {said}" in ends[1][1], ends[1][1]
    else:
        assert ends[1][0] == ends[0][0], (ends[0], ends[1])
        assert (said in ends[1][1]) == (name == "config check"), ends[1][1]
    assert not cms.exists()


# -- a state DB path `db upgrade` cannot create: readers say so too (F13) ----------------------

#: Where a missing state DB cannot be created: (name, the URL given the test's directory).
UNCREATABLE = [
    ("absolute path, directory missing", lambda root: f"sqlite:///{root}/not/there/x.db"),
    ("a directory that takes no file", lambda root: "sqlite:////proc/x.db"),
    ("the same as an SQLite URI", lambda root: "sqlite:///file:/proc/x.db?uri=true"),
]


@pytest.mark.parametrize(("where", "url_at"), UNCREATABLE, ids=[u[0] for u in UNCREATABLE])
def test_readers_say_why_db_upgrade_cannot_create_the_state_db(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, where: str, url_at: Callable[[Path], str]
) -> None:
    """F13 (tester): `status` (and every reader, through the driver or SQLAlchemy) said "not
    initialised: run `feedsvc db upgrade`" and `db upgrade` then failed on the directory. Each
    now ends with `db upgrade`'s own line and exit 2 (a configuration problem), and `run` too;
    nothing is created. `run` as a process (it must not start), in one case: the three URLs
    meet the one check `db upgrade` and the readers share, and `run`'s is that check too;
    `db upgrade` and the readers in this process (a process each was ~60 process starts, ~20 s
    of CPU)."""
    url = url_at(clean_env)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env |= {"FEEDSVC_CONFIG": "/dev/null", "FEEDSVC_DATABASE__URL": url}

    def ends(*argv: str) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "feedsvc", *argv], cwd=clean_env, env=env, input="",
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, unplaced(done.stderr)

    for key, value in env.items():
        if key.startswith("FEEDSVC_"):
            monkeypatch.setenv(key, value)
    code, upgrade = invoke(["db", "upgrade"])
    assert "Traceback" not in upgrade, upgrade
    assert code == 2, upgrade
    [line] = upgrade.splitlines()
    directory = "/proc" if "proc" in url else f"{clean_env}/not/there"
    assert directory in line and "not initialised" not in line, line
    if where == "the same as an SQLite URI":
        assert ends("run", "--no-http") == (2, upgrade)
    for name in sorted(READS_STATE_DB | REPORTS_STATE_DB):
        argv = argv_for(tuple(name.split()))
        code, output = invoke(argv)
        assert "Traceback" not in output, (name, output)
        assert (code, output) == (2, upgrade), name
    assert sorted(p.name for p in clean_env.iterdir()) == []  # not a probe file left either


@pytest.mark.parametrize(
    ("sig", "code", "words"),
    [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated (SIGTERM)")],
    ids=["SIGINT", "SIGTERM"],
)
def test_the_stop_line_begins_a_fresh_line_on_a_terminal_only(
    tmp_path: Path, sig: str, code: int, words: str
) -> None:
    """A terminal has ``^C`` (or a progress bar) on the cursor's line: the stop line begins a
    line of its own there. On a pipe or a file (above) that line break was a blank first line."""
    import pty
    import signal

    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    env["PYTHONUNBUFFERED"] = "1"
    master, terminal = pty.openpty()
    with closing(os.fdopen(master, "rb", buffering=0)) as screen:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "match", "--query", '"công an"'],
            cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=terminal,
        )  # fmt: skip
        os.close(terminal)
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(
            b'{"source_key": "K1", "url": "https://e.vn/1", "title": "C\xc3\xb4ng an", '
            b'"published_at": "2026-11-20T10:00:00+07:00"}\n'
        )
        proc.stdin.flush()
        assert proc.stdout.readline() == b"K1\n"
        proc.send_signal(getattr(signal, sig))
        assert proc.wait(timeout=60) == code
        said = b""
        with contextlib.suppress(OSError):  # EIO once the process's side is closed
            while chunk := screen.read(4096):
                said += chunk
        proc.stdin.close()
        proc.stdout.close()
    assert said.decode() == f"\r\nfeedsvc: {words}\r\n"
