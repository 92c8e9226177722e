"""Connection options of a PostgreSQL URL that libpq would refuse, asked of libpq (through
psycopg) without reaching any server, for ``feedsvc config check``.

Why: ``postgresql://u@h/db?sslmode=bogus`` (or ``target_session_attrs=nope``,
``connect_timeout=abc``, an unknown keyword) passed ``config check`` and every command then
failed at connect time. What is checked, and by whom:

- keyword names: ``psycopg.conninfo.make_conninfo``/``conninfo_to_dict`` (libpq's
  ``PQconninfoParse``: "invalid connection option");
- ``connect_timeout``: ``psycopg.conninfo.timeout_from_conninfo`` (psycopg reads it itself);
- every value libpq checks before connecting (``sslmode``, ``target_session_attrs``,
  ``gssencmode``, ``channel_binding``, ``load_balance_hosts``, a port that is no number, host and
  port counts that do not match, an unknown ``service``): libpq's own ``PQconnectStart`` on the
  same options with each host replaced by a Unix socket directory that does not exist
  (:data:`PROBE_DIR`), so the attempt ends at once on that socket, never on the network.

Values libpq reads only once a connection is under way (``keepalives*`` on TCP, ``sslcert`` and
other files, ``options`` the server parses) are still reported when connecting.
"""

from __future__ import annotations

from collections.abc import Mapping

#: The host the probe connects to: a Unix socket directory that does not exist.
PROBE_DIR = "/nonexistent/feedsvc-config-check"


def libpq_problem(params: Mapping[str, object]) -> str | None:
    """What libpq (or psycopg) refuses in the connection keywords ``params`` (as
    ``feedsvc.db.urls.DbUrl.psycopg_params`` gives them), in their words, or None. No key that
    holds a secret (``password``, ``sslpassword``: ``urls.is_secret_key``) is passed to the
    check, so none is echoed."""
    from psycopg import ProgrammingError, pq
    from psycopg.conninfo import conninfo_to_dict, make_conninfo, timeout_from_conninfo

    from feedsvc.db.urls import is_secret_key

    given = {k: str(v) for k, v in params.items() if v is not None and not is_secret_key(k)}
    try:
        info = conninfo_to_dict(make_conninfo("", **given))
        timeout_from_conninfo(info)
    except ProgrammingError as exc:  # an unknown keyword; connect_timeout that is no number
        return f"libpq refuses the connection options: {str(exc).strip()}"
    hosts = str(info.get("host") or "").split(",")
    probe = {k: v for k, v in info.items() if k != "hostaddr"}
    probe["host"] = ",".join(PROBE_DIR for _ in hosts)
    conn = pq.PGconn.connect_start(make_conninfo("", **probe).encode())
    try:
        bad = conn.status == pq.ConnStatus.BAD
        said = conn.error_message.decode("utf-8", "replace").strip() if bad else ""
    finally:
        conn.finish()
    if not said or PROBE_DIR in said:
        return None  # the options were taken: the probe failed only on its socket
    return f"libpq refuses the connection options: {said.splitlines()[0]}"
