"""docker-compose.yml cannot run on this machine (no docker), so check what can be checked:
structure and service names, every FEEDSVC_* key against the config schema, every referenced
file, and — on the real MariaDB — that the sample CMS schema loads and the mounted mapping reads
it (``feedsvc source check`` exits 0 and every sample row parses).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import mariadb_database
from processes import answers_ok, free_port, wait_until
from pydantic import BaseModel
from sqlalchemy import create_engine

from feedsvc.cli import cli
from feedsvc.config import Settings, load_config
from feedsvc.publish.warm_start import fingerprint

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
REPLICAS = ("feedsvc-1", "feedsvc-2")
NOT_SETTINGS = {"FEEDSVC_CONFIG"}  # read by config_path(), not a Settings field


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def settings_key(env_key: str) -> str | None:
    """``FEEDSVC_SOURCE__COLUMNS__TITLE`` → ``source.columns.title`` if that is a real key."""
    parts = env_key.removeprefix("FEEDSVC_").lower().split("__")
    model: type[BaseModel] | None = Settings
    for part in parts:
        if model is None or part not in model.model_fields:
            return None
        annotation = model.model_fields[part].annotation
        is_model = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_model else None  # type: ignore[assignment]
    return ".".join(parts) if model is None else None  # a leaf, not a whole section


def test_services_and_structure(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "cms", *REPLICAS}
    for name, service in services.items():
        assert "healthcheck" in service and service["healthcheck"]["test"], name
    assert services["cms"]["image"].startswith("mariadb:")
    assert services["postgres"]["image"].startswith("postgres:")
    host_ports = []
    for name in REPLICAS:
        service = services[name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        (port,) = service["ports"]  # one published port each
        host_ports.append(port.split(":")[0])
        env = env_of(service)
        assert env["FEEDSVC_DATABASE__URL"].startswith("postgresql+psycopg://")
        assert "@postgres:" in env["FEEDSVC_DATABASE__URL"]
        assert "@cms:" in env["FEEDSVC_SOURCE__URL"]
    assert len(set(host_ports)) == len(REPLICAS)


def test_every_feedsvc_env_key_is_a_config_key(compose: dict[str, Any]) -> None:
    seen = 0
    for name, service in compose["services"].items():
        for key in env_of(service):
            if not key.startswith("FEEDSVC_") or key in NOT_SETTINGS:
                continue
            seen += 1
            assert settings_key(key) is not None, f"{name}: {key} is not a config key"
    assert seen >= 2 * 6
    assert settings_key("FEEDSVC_SOURCE__COLUMNS__TITLE") == "source.columns.title"
    assert settings_key("FEEDSVC_SOURCE__COLUMS__TITLE") is None
    assert settings_key("FEEDSVC_SOURCE") is None  # a section is not a key


def test_referenced_files_exist(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        build = service.get("build")
        if build is not None:
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            assert (context / (dockerfile or "Dockerfile")).is_file(), name
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            if host.startswith(("./", "/", "../")):
                assert (ROOT / host).exists(), f"{name}: {host} does not exist"
    mounts = compose["services"]["cms"]["volumes"]
    assert any(v.startswith("./deploy/cms/schema.sql:/docker-entrypoint-initdb.d/") for v in mounts)


def replica_settings(service: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The mounted TOML plus the replica's env (secrets left empty)."""
    env = env_of(service)
    mount = next(v for v in service["volumes"] if v.endswith(env["FEEDSVC_CONFIG"] + ":ro"))
    with monkeypatch.context() as patch:
        for key, value in env.items():
            if key.startswith("FEEDSVC_") and key not in NOT_SETTINGS and "${" not in value:
                patch.setenv(key, value)
        return load_config(ROOT / mount.split(":")[0])


def test_replica_config_loads(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The mounted TOML plus the replica's env (secrets left empty) is a valid configuration."""
    settings = replica_settings(compose["services"]["feedsvc-1"], monkeypatch)
    assert settings.source.url and settings.source.table == "bai_viet"
    assert settings.source.columns.cursor == "ngay_cap_nhat"
    assert (ROOT / settings.topics.file).is_file()  # baked into the image from config/


def test_replicas_render_the_same_bytes(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replicas serve each other's snapshots: whatever a render reads besides the data (the
    public URL in every self link, the site, the hub, the bot's name) must be the same, or
    they keep replacing each other's feeds and every start renders everything again."""
    prints = {
        name: fingerprint(replica_settings(compose["services"][name], monkeypatch))
        for name in REPLICAS
    }
    assert len(set(prints.values())) == 1, prints


def test_cms_user_is_read_only_and_matches_env(compose: dict[str, Any]) -> None:
    sql = (ROOT / "deploy/cms/schema.sql").read_text(encoding="utf-8")
    url = env_of(compose["services"]["feedsvc-1"])["FEEDSVC_SOURCE__URL"]
    user, password = re.match(r"mysql\+pymysql://([^:]+):([^@]+)@", url).groups()  # type: ignore[union-attr]
    assert f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'" in sql
    grants = re.findall(r"GRANT (.+?) ON", sql)
    assert grants == ["SELECT"]


@pytest.fixture
def sample_cms() -> Iterator[str]:
    """deploy/cms/schema.sql loaded into a fresh MariaDB database (users and grants skipped)."""
    sql = (ROOT / "deploy/cms/schema.sql").read_text(encoding="utf-8")
    body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
    with mariadb_database("feedsvc_cmsdemo") as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            for statement in body.split(";\n"):
                skip = ("CREATE DATABASE", "USE ", "CREATE USER", "GRANT")
                if statement.strip() and not statement.strip().startswith(skip):
                    conn.exec_driver_sql(statement.replace("%", "%%"))
        engine.dispose()
        yield url


@pytest.mark.mysql
def test_sample_cms_maps_cleanly(
    sample_cms: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FEEDSVC_SOURCE__URL", sample_cms)
    monkeypatch.setenv("FEEDSVC_DATABASE__URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.chdir(ROOT)  # topics.file is relative, as in the image's /app
    result = CliRunner().invoke(
        cli, ["source", "check", "--config", str(ROOT / "deploy/feedsvc-cms.toml")]
    )
    assert result.exit_code == 0, result.output
    assert "REJECTED" not in result.output
    assert "BV-0005 | Công an phường giúp người dân" in result.output
    assert "tags ['Công an']" in result.output
    assert "compared as naive" in result.output


# -- the image alone (`docker run -p 8080:8080`) -------------------------------------------

DOCKERFILE = ROOT / "Dockerfile"


def dockerfile_env() -> dict[str, str]:
    """The ``ENV KEY=value`` lines of the Dockerfile (the one form it uses)."""
    found = re.findall(r"^ENV\s+(\w+)=(\S+)\s*$", DOCKERFILE.read_text(encoding="utf-8"), re.M)
    return dict(found)


def test_the_image_listens_where_a_published_port_reaches_it(tmp_path: Path) -> None:
    """The image runs `feedsvc run` in /app, where the shipped config/feedsvc.toml says
    `host = "127.0.0.1"`: inside a container that is the container's own loopback, and
    `docker run -p 8080:8080` (the Dockerfile's EXPOSE) reached nothing. Without docker here,
    the image's start is replayed: its working directory's files, its ENV, its command; the
    service must listen on every interface."""
    app = tmp_path / "app"
    (app / "config").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "feedsvc.toml", app / "config" / "feedsvc.toml")
    shutil.copy(ROOT / "config" / "topics.toml", app / "config" / "topics.toml")  # its target
    (app / "var").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDSVC_")}
    port = free_port()
    env |= dockerfile_env() | {"FEEDSVC_HTTP__PORT": str(port)}  # -p: any free port here
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "feedsvc", "run", "--no-bot"], cwd=app, env=env,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            wait_until(lambda: "feedsvc started" in log.read_text(), 120, "the service's start")
            wait_until(lambda: answers_ok(f"http://127.0.0.1:{port}/healthz"), 30, "/healthz")
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
    said = log.read_text()
    assert code == 0, said
    assert f"feedsvc started: HTTP on 0.0.0.0:{port}" in said, said
    assert "warning" in said.lower() and "http.public_url" in said  # told to set it
