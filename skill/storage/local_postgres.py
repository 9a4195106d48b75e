"""A real PostgreSQL server in a temp dir on 127.0.0.1, for the tests and the benches.

The Debian ``postgresql`` package provides ``initdb`` and ``pg_ctl`` (under
/usr/lib/postgresql/<major>/bin). The server gets its own data dir, a Unix socket in that dir
and a free TCP port on 127.0.0.1; it is never the system service. ``initdb`` refuses to run as
root, so as root the cluster belongs to the package's ``postgres`` user.

Local connections (the socket) are trusted; TCP connections need the password, so wrong-password
faults can be tested for real.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid

from skill.errors import ToolFailedError, ToolMissingError

SUPERUSER = "devops"
PASSWORD = "devops-local-only"


def bindir() -> str | None:
    """The directory holding initdb and pg_ctl, newest major version first, or None."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(found))
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major, reverse=True):
        if os.path.isfile(os.path.join(candidate, "initdb")):
            return candidate
    return None


def _major(path: str) -> int:
    try:
        return int(path.split("/")[-2])
    except ValueError:
        return 0


def unavailable_reason() -> str | None:
    """Why a local server cannot be started here, or None when it can."""
    if bindir() is None:
        return (
            "PostgreSQL server binaries not installed (apt-get install postgresql; `make test` installs it)"
        )
    if os.geteuid() == 0 and not _has_user("postgres"):
        return "running as root and there is no postgres user to own the cluster (initdb refuses root)"
    return None


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPostgres:
    """``start()`` runs initdb (once) and the server; ``url_for(db)`` names a database on it."""

    def __init__(self, workdir: str | None = None, *, durable: bool = False):
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix="devops-pg-")
        self.data = os.path.join(self.workdir, "data")
        self.port = _free_port()
        # Tests trade durability for speed (fsync off); benches measure the real thing.
        self.durable = durable
        self._bin = bindir()

    # --- running commands as the cluster's owner -------------------------------------------
    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def _run(self, *argv: str, timeout: float = 120) -> None:
        if self._bin is None:
            raise ToolMissingError(unavailable_reason() or "PostgreSQL binaries not found")
        cmd = self._as_owner([os.path.join(self._bin, argv[0]), *argv[1:]])
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise ToolFailedError(f"{argv[0]} failed: {detail[-1] if detail else done.returncode}")

    def _initdb(self) -> None:
        os.makedirs(self.workdir, exist_ok=True)
        pwfile = os.path.join(self.workdir, "pwfile")
        with open(pwfile, "w") as fh:
            fh.write(PASSWORD + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            self.data,
            "-U",
            SUPERUSER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-instructions",
        )

    def start(self, timeout: float = 60) -> LocalPostgres:
        if not os.path.isdir(self.data):
            self._initdb()
        options = f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", self.data, "-o", options, "-l", self.log, "-w", "-t", str(int(timeout)), "start"
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        if os.path.isfile(os.path.join(self.data, "postmaster.pid")):
            self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def close(self) -> None:
        """Stop the server and remove its files when this object made the temp dir."""
        try:
            self.stop("immediate")
        finally:
            if self._own_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def log(self) -> str:
        return os.path.join(self.workdir, "server.log")

    def log_tail(self, lines: int = 5) -> str:
        try:
            with open(self.log, errors="replace") as fh:
                return "".join(fh.readlines()[-lines:])
        except OSError:
            return ""

    # --- URLs -------------------------------------------------------------------------------
    def url_for(self, database: str = "postgres", *, tcp: bool = False, password: str | None = None) -> str:
        """The socket URL (trusted), or with ``tcp`` the 127.0.0.1 URL with a password."""
        if tcp:
            return f"postgresql://{SUPERUSER}:{password or PASSWORD}@127.0.0.1:{self.port}/{database}"
        return f"postgresql://{SUPERUSER}@/{database}?host={self.workdir}&port={self.port}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its socket URL."""
        import psycopg

        name = name or "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()
