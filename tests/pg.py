"""A real PostgreSQL server for the tests, from the OS packages: started once, on a socket in a
scratch folder, as an unprivileged user, and stopped when the tests end.

``connect()`` gives a new connection to a fresh database of that server (each caller its own,
so tests cannot see each other's tables). Where PostgreSQL is not installed the tests that need
it skip; under ``CI=true`` they fail instead, since CI installs it (``.ci/run``).
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from typing import Any

import pytest

_SERVER: dict[str, Any] = {}


def _binaries() -> str | None:
    """The folder of PostgreSQL's server programs (Debian keeps them out of the PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return os.path.dirname(os.path.realpath(found))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(versions[-1]) if versions else None


def _as_user() -> list[str]:
    """How to run the server's programs: as ourselves, or (PostgreSQL refuses to run as root)
    as the ``postgres`` user the OS package made."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("running as root and there is no postgres user to run PostgreSQL as")
    return ["runuser", "-u", "postgres", "--"]


def server() -> str:
    """The socket folder of the running test server, started on first use."""
    if "socket" in _SERVER:
        return str(_SERVER["socket"])
    bin_dir = _binaries()
    try:
        import psycopg  # noqa: F401  (the driver the postgres engine uses)
    except ImportError:
        bin_dir = None
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL (or psycopg) is not installed: CI installs the OS package "
                        "postgresql and the test dependencies (.ci/run, nox -s tests)")
        pytest.skip("PostgreSQL is not installed")
    folder = tempfile.mkdtemp(prefix="kpidsl-pg-")
    as_user = _as_user()
    if as_user:
        shutil.chown(folder, "postgres")
    data = os.path.join(folder, "data")
    subprocess.run([*as_user, os.path.join(bin_dir, "initdb"), "-D", data, "-A", "trust",
                    "-U", "postgres", "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_user, os.path.join(bin_dir, "pg_ctl"), "-D", data, "-l",
                    os.path.join(folder, "log"), "-w", "-o",
                    f"-k {folder} -c listen_addresses='' -c fsync=off", "start"],
                   check=True, capture_output=True)
    _SERVER["socket"] = folder

    def stop() -> None:
        subprocess.run([*as_user, os.path.join(bin_dir, "pg_ctl"), "-D", data, "-m", "fast",
                        "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return folder


def url(database: str = "postgres") -> str:
    """The URL of ``database`` on the test server."""
    return f"postgresql:///{database}?host={server()}&user=postgres"


def fresh_database() -> str:
    """The URL of a new, empty database of the test server."""
    import psycopg

    name = "t" + uuid.uuid4().hex[:12]
    with psycopg.connect(url(), autocommit=True) as con:
        con.execute(f"CREATE DATABASE {name}")
    return url(name)


def connect() -> Any:
    """A connection (autocommit) to a new, empty database of the test server."""
    import psycopg

    return psycopg.connect(fresh_database(), autocommit=True)


def shared() -> Any:
    """One connection to one fresh database for the whole run: engines load their data into
    temporary tables, so every test may use it in turn."""
    if "shared" not in _SERVER:
        _SERVER["shared"] = connect()
    return _SERVER["shared"]
