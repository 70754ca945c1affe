"""A throwaway PostgreSQL server for tests: Debian's server binaries, a fresh cluster in a temp
directory, listening only on 127.0.0.1 on a free port, with trust authentication; one
database per test, and everything removed when the session ends.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` OS user
(created by the Debian package) and initdb / pg_ctl run as that user through runuser.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from responder.demo.mailsink import free_port

PACKAGE_HINT = (
    "`make test` installs it as root with `apt-get install postgresql` (Debian package postgresql)"
)


class Unavailable(Exception):
    """No PostgreSQL server can be run here; the message says why, for the skip."""


def server_bin_dir() -> Path | None:
    """The newest installed server's bin directory (Debian keeps each major version apart)."""

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    def __init__(self) -> None:
        bin_dir = server_bin_dir()
        if bin_dir is None:
            raise Unavailable(f"the PostgreSQL server is not installed: {PACKAGE_HINT}")
        self.bin_dir = bin_dir
        self.as_root = os.geteuid() == 0
        if self.as_root and shutil.which("runuser") is None:
            raise Unavailable("running as root without runuser: cannot start PostgreSQL")
        self.user = "postgres" if self.as_root else _current_user()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="yuqing-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self.started = False

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = list(argv)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        if self.as_root:
            try:
                shutil.chown(self.directory, user="postgres", group="postgres")
            except (LookupError, PermissionError) as exc:
                raise Unavailable(f"no `postgres` OS user to own the cluster ({exc})") from exc
        self.directory.chmod(0o700)
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise Unavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        # Test data only: durability is traded for speed, and no Unix socket outside the
        # temp directory.
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.directory}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        done = self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise Unavailable(f"PostgreSQL did not start: {done.stderr.strip()} {log}")
        self.started = True
        return self

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def create_database(self) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.started:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self.started = False
        # Wait briefly for the postmaster to let go of its files before removing them.
        deadline = time.monotonic() + 5
        while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.directory, ignore_errors=True)


def _current_user() -> str:
    import getpass

    return getpass.getuser()
