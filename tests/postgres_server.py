"""A real PostgreSQL server for the mirror tests, started on a free loopback port.

``initdb`` and ``pg_ctl`` from PATH, else from Debian's ``/usr/lib/postgresql/<ver>/bin``
(``.ci/run`` installs the ``postgresql`` package). ``initdb`` refuses to run as root, so as
root the server runs as the ``postgres`` user (or ``nobody``) through ``setpriv``. Without the
binaries the tests are skipped on a developer machine, and fail when
``INRO_REQUIRE_POSTGRES=1`` (CI): a missing service must not look like a pass.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binaries() -> tuple[str, str] | None:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return initdb, pg_ctl
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = f"{folder}/initdb", f"{folder}/pg_ctl"
        if os.access(initdb, os.X_OK) and os.access(pg_ctl, os.X_OK):
            return initdb, pg_ctl
    return None


def _as_server_user(workdir: Path) -> list[str]:
    """The command prefix that runs the server unprivileged (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        for path in (workdir, *workdir.rglob("*")):
            os.chown(path, user.pw_uid, user.pw_gid)
        return [
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "--",
        ]
    pytest.fail("running as root and no unprivileged user (postgres, nobody) for PostgreSQL")


@contextmanager
def postgres_server() -> Iterator[str]:
    """Start PostgreSQL on 127.0.0.1 and yield a superuser URL; stop it afterwards."""
    found = _binaries()
    if found is None:
        message = "no initdb/pg_ctl (.ci/run installs the postgresql package)"
        if os.environ.get("INRO_REQUIRE_POSTGRES"):
            pytest.fail(message + "; INRO_REQUIRE_POSTGRES is set, so this is a failure")
        pytest.skip(message)
    initdb, pg_ctl = found
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="inro-pg-") as tmp:
        workdir = Path(tmp)
        data, sockets = workdir / "data", workdir / "sockets"
        sockets.mkdir()
        prefix = _as_server_user(workdir)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}
        subprocess.run(
            [*prefix, initdb, "-D", str(data), "-U", "inro", "-A", "trust", "--no-sync"],
            **quiet,  # type: ignore[call-overload]
        )
        options = (
            f"-h 127.0.0.1 -p {port} -k {sockets} -F "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        subprocess.run(
            [
                *prefix,
                pg_ctl,
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-t",
                "30",
                "-l",
                str(workdir / "log"),
                "start",
            ],
            **quiet,  # type: ignore[call-overload]
        )
        try:
            yield f"postgresql://inro@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(
                [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
