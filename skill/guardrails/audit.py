"""The audit log: every decision of the gate, appended to SQLite (WAL) in the data dir.

An audit failure must never change a decision and never make the check slow: the writer waits
at most ``BUSY_TIMEOUT`` for a lock, and when the database is unwritable, locked, corrupt or
missing its directory, the row goes to a JSON Lines spool file next to it (ingested on the next
successful write or ``guardrails.py audit``); when even that fails, one warning line on stderr.
Inputs are redacted with skill.redact before they are stored.
"""

from __future__ import annotations

import os
import sys
import time

# One cold process per decision means every close is the last one and checkpoints the WAL; with
# synchronous=NORMAL that is an fsync per tool call, measured at ~0.8x a bare interpreter start
# on this box (and seconds per batch on a busy disk). OFF keeps the log safe against process
# crashes (the OS has the data) but an OS crash or power loss can lose or damage the newest rows;
# a damaged log never changes a decision (writes fall back to the spool).
SYNC = "OFF"
BUSY_TIMEOUT = 0.25  # seconds: parallel hooks contend briefly; a stuck lock must not stall a check
DB_NAME = "audit.db"
SPOOL_NAME = "audit-spool.jsonl"
# Team mode (a PostgreSQL URL configured): a check starts a detached shipper at most this often.
SHIP_INTERVAL = 30.0
SHIP_STAMP = "audit-ship.stamp"  # its mtime: when a check last started the shipper
SHIP_STATUS = "audit-ship.status"  # the background shipper's last failure, if any
COLUMNS = (
    "uid",
    "ts",
    "time",
    "caller",
    "cwd",
    "kind",
    "input",
    "target",
    "environment",
    "tier",
    "decision",
    "rule_ids",
    "reasons",
    "deciding",
    "request_id",
    "approval_used",
    "error",
)
TEXT_COLUMNS = frozenset(COLUMNS) - {"ts", "tier"}
CREATE_DECISIONS = f"""
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    {", ".join(c + (" REAL" if c == "ts" else " INTEGER" if c == "tier" else " TEXT") for c in COLUMNS)}
);
CREATE UNIQUE INDEX IF NOT EXISTS decisions_uid ON decisions(uid);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions(ts);
CREATE INDEX IF NOT EXISTS decisions_request ON decisions(request_id);
"""
_INSERT = (
    f"INSERT INTO decisions ({', '.join(COLUMNS)}, prev_hash, hash)"
    f" VALUES ({', '.join('?' * (len(COLUMNS) + 2))}) ON CONFLICT (uid) DO NOTHING"
)
GENESIS = "0" * 64  # the previous hash of the first row


def _chain_existing(conn) -> None:
    """Give rows written before the chain existed their links, oldest first, so verify covers them."""
    conn.execute("ALTER TABLE decisions ADD COLUMN prev_hash TEXT")
    conn.execute("ALTER TABLE decisions ADD COLUMN hash TEXT")
    prev = GENESIS
    for row in conn.execute(f"SELECT id, {', '.join(COLUMNS)} FROM decisions ORDER BY id").fetchall():
        link = chain_hash(prev, dict(zip(COLUMNS, row[1:], strict=True)))
        conn.execute("UPDATE decisions SET prev_hash = ?, hash = ? WHERE id = ?", (prev, link, row[0]))
        prev = link


# How far each team database has received this file's rows (skill.guardrails.audit_ship).
CREATE_SHIPPED = """
CREATE TABLE IF NOT EXISTS shipped (
    target TEXT PRIMARY KEY, last_id INTEGER NOT NULL, last_hash TEXT NOT NULL, at REAL
)
"""

# Named migrations, applied in order; PRAGMA user_version counts the applied ones. Files written
# before versioning have version 0 and a decisions table: "create decisions" adopts them.
# skill.guardrails.audit_ship declares the same steps to skill.storage (not imported here: the
# hook path cannot pay for dataclasses).
MIGRATIONS = (
    ("create decisions", CREATE_DECISIONS),
    ("chain decisions", _chain_existing),
    ("ship cursor", CREATE_SHIPPED),
)
VERSION = len(MIGRATIONS)


class NewerSchema(Exception):
    """The audit file was written by newer code: never written to by this one (rows spool)."""


def _migrate(conn) -> None:
    """Bring the file to VERSION under the write lock (several hooks may open an old file at once)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise NewerSchema(f"audit.db has schema version {version}, newer than this code's {VERSION}")
        for _name, step in MIGRATIONS[version:]:
            if callable(step):
                step(conn)
            else:
                for statement in step.split(";"):
                    if statement.strip():
                        conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# ---------------------------------------------------------------- the hash chain


def canonical_row(row: dict) -> bytes:
    """The bytes a row's hash covers: every field of COLUMNS in that order, each as
    ``name=`` then ``~`` (null), ``i<decimal>`` (tier), ``f<Python repr>`` (ts) or
    ``s<UTF-8 length>:<UTF-8 bytes>`` (text), joined by newlines. Length-prefixed text makes the
    form unambiguous whatever the text holds, and it needs neither json nor re on the hook path.
    """
    parts = []
    for column in COLUMNS:
        value = row.get(column)
        if value is None:
            parts.append(column.encode() + b"=~")
        elif column == "ts":
            parts.append(column.encode() + b"=f" + repr(float(value)).encode())
        elif column == "tier":
            parts.append(column.encode() + b"=i" + str(int(value)).encode())
        else:
            data = str(value).encode("utf-8", "surrogatepass")
            parts.append(column.encode() + b"=s" + str(len(data)).encode() + b":" + data)
    return b"\n".join(parts)


def chain_hash(prev_hash: str, row: dict) -> str:
    """sha256 over the previous row's hash, a newline and the row's canonical form (hex)."""
    try:
        # the builtin module: hashlib would load OpenSSL (~2 ms) on every hook call
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - interpreters built without it
        from hashlib import sha256
    return sha256(prev_hash.encode() + b"\n" + canonical_row(row)).hexdigest()


def normalized(row: dict) -> dict:
    """The row as both backends store and return it, so the hash computed now is the hash
    recomputed later (a float ts stays float, a tier int, every other field text or null)."""
    out = {}
    for column in COLUMNS:
        value = row.get(column)
        if value is not None:
            if column == "ts":
                value = float(value)
            elif column == "tier":
                value = int(value)
            elif not isinstance(value, str):
                value = str(value)
        out[column] = value
    return out


def append_chained(conn, rows, prev: str) -> str:
    """Insert rows after ``prev`` (the last hash), skipping uids already stored; the new last hash.

    The caller holds the write lock (BEGIN IMMEDIATE): one chain whatever the number of writers.
    """
    for row in rows:
        row = normalized(row)
        link = chain_hash(prev, row)
        if conn.execute(_INSERT, (*(row[c] for c in COLUMNS), prev, link)).rowcount == 1:
            prev = link  # a uid already stored (a spool line ingested twice) keeps its place
    return prev


def last_hash(conn) -> str:
    row = conn.execute("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
    return GENESIS if row is None or row[0] is None else row[0]


# Substrings (lower case) one of which every pattern of skill.redact needs in order to match.
# Compiling redact's patterns costs ~7 ms, a quarter of the hook's budget, so text that cannot
# hold a secret skips it. tests/guardrails/test_audit.py keeps this list in step with redact.py.
_SECRET_HINTS = (
    "-----begin",
    "://",
    "akia",
    "asia",
    "abia",
    "acca",
    "agpa",
    "aida",
    "aroa",
    "anpa",
    "anva",
    "aipa",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "glcbt-",
    "glptt-",
    "glsoat-",
    "glimt-",
    "glagent-",
    "glffct-",
    "xox",
    "aiza",
    "sk-",
    "k_live_",
    "k_test_",
    "eyj",
    "bearer",
    "basic",
    "token",
    "pass",
    "pwd",
    "secret",
    "key",
    "credential",
    "mysql",
)


def may_hold_secret(text: str) -> bool:
    lowered = text.lower()
    return any(hint in lowered for hint in _SECRET_HINTS)


def redact_text(text: str | None) -> str | None:
    if not text or not may_hold_secret(text):
        return text
    from skill.redact import redact

    return redact(text)


def sqlite_module():
    """The SQLite driver for the write path: the C module itself when available.

    ``import sqlite3`` also imports sqlite3.dbapi2 and datetime (for adapters these writes never
    use): ~1.5 ms more per hook call. ``_sqlite3`` has the same connect() and exceptions.
    """
    try:
        import _sqlite3 as driver

        if hasattr(driver, "connect") and hasattr(driver, "OperationalError"):
            return driver
    except ImportError:  # pragma: no cover - other interpreters
        pass
    import sqlite3 as driver

    return driver


def _now_iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _storable(text: str | None) -> str | None:
    """Text SQLite and JSON can store: invalid UTF-8 (lone surrogates) kept visible as ``\\xff``.

    A command that is not valid UTF-8 is exactly the kind of input the log must not lose.
    """
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def row_for(decision, *, caller: str | None, cwd: str | None, ts: float | None = None) -> dict:
    """The audit row of a Decision, redacted."""
    ts = time.time() if ts is None else ts
    text = _storable(decision.input if len(decision.input) <= 65536 else decision.input[:65536] + "…")
    reasons = _storable("\n".join(r.replace("\n", " ") for r in decision.reasons))
    # One pre-filter over everything stored; redact each field only when something may be secret.
    clean = not may_hold_secret("\n".join((text, decision.target or "", decision.deciding or "", reasons)))
    scrub = (lambda value: value) if clean else redact_text
    return {
        "uid": os.urandom(8).hex(),
        "ts": ts,
        "time": _now_iso(ts),
        "caller": caller,
        "cwd": _storable(cwd),
        "kind": decision.kind,
        "input": scrub(text),
        "target": scrub(_storable(decision.target)),
        "environment": decision.environment,
        "tier": decision.tier,
        "decision": decision.decision,
        "rule_ids": " ".join(decision.rule_ids),
        "reasons": scrub(reasons),
        "deciding": scrub(_storable(decision.deciding)),
        "request_id": decision.request_id,
        "approval_used": decision.approval_used,
        "error": decision.error,
    }


def team_url() -> str | None:
    """The team database URL when one is configured: skill.paths.database_url, the storage seam's
    own rule (stdlib only, so the hook need not import skill.storage)."""
    from skill.paths import database_url

    return database_url()


def _data_dir() -> str:
    from skill.paths import data_dir

    return data_dir()


def _ensure_private_file(path: str) -> None:
    """Create ``path`` readable by the owner only (it holds commands and working directories)."""
    if not os.path.exists(path):
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        except FileExistsError:
            pass


class AuditLog:
    """Writes decision rows. ``buffered=True`` (batch mode) keeps rows until flush(): one transaction."""

    def __init__(self, directory: str | None = None, *, buffered: bool = False):
        self.directory = directory
        self.buffered = buffered
        self.pending: list[dict] = []
        self.warnings: list[str] = []

    def _dir(self) -> str:
        return self.directory or _data_dir()

    def record(self, row: dict) -> None:
        self.pending.append(row)
        if not self.buffered or len(self.pending) >= 2000:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        rows, self.pending = self.pending, []
        try:
            self._write_db(rows)
        except Exception as exc:  # any storage failure: spool instead, decisions stand
            self._spool(rows, exc)
        try:
            self._maybe_ship()
        except Exception:  # noqa: BLE001 - shipping is best effort; the rows wait in audit.db
            pass

    def _maybe_ship(self) -> None:
        """In team mode, start the detached shipper when it has not been started for a while.

        The common case costs one stat(); the configuration is read only when the stamp is stale,
        and the hook never waits for PostgreSQL.
        """
        directory = self._dir()
        stamp = os.path.join(directory, SHIP_STAMP)
        try:
            if time.time() - os.stat(stamp).st_mtime < SHIP_INTERVAL:
                return
        except FileNotFoundError:
            pass
        _ensure_private_file(stamp)
        os.utime(stamp)
        if not team_url():
            return
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        devnull = os.devnull
        # sh starts the shipper in the background and exits at once: reaped here, the shipper is
        # nobody's zombie (a long-lived process such as `devops serve` checks too)
        pid = os.posix_spawn(
            "/bin/sh",
            ["sh", "-c", 'exec "$0" -m skill.guardrails.audit_ship "$1" &', sys.executable, directory],
            env,
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, devnull, os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, devnull, os.O_WRONLY, 0),
            ],
        )
        os.waitpid(pid, 0)

    def _connect(self, *, sync: str = SYNC):
        sqlite3 = sqlite_module()
        directory = self._dir()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, DB_NAME)
        fresh = not os.path.exists(path)
        if fresh:
            _ensure_private_file(path)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            conn.execute(f"PRAGMA synchronous={sync}")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version != VERSION:
                if version > VERSION:
                    raise NewerSchema(
                        f"{path} has schema version {version}, newer than this code's {VERSION}"
                    )
                if fresh or version == 0:
                    conn.execute("PRAGMA journal_mode=WAL")
                _migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _write_db(self, rows: list[dict]) -> None:
        conn = self._connect()
        try:
            spool = os.path.join(self._dir(), SPOOL_NAME)
            claimed = _claim_spool(spool) if os.path.exists(spool) else None
            # spooled rows are older: they go first, in the same transaction as the new ones
            self._append(conn, (_read_spool(claimed) if claimed else []) + rows)
        except BaseException:
            if claimed:
                _unclaim_spool(claimed, spool)
            raise
        else:
            if claimed:
                os.unlink(claimed)
        finally:
            conn.close()

    @staticmethod
    def _append(conn, rows: list[dict]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            append_chained(conn, rows, last_hash(conn))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def ingest_spool(self) -> int:
        """Chain the spooled rows into the database (when it is writable again); how many."""
        spool = os.path.join(self._dir(), SPOOL_NAME)
        if not os.path.exists(spool):
            return 0
        conn = self._connect()
        try:
            claimed = _claim_spool(spool)
            if claimed is None:
                return 0
            rows = _read_spool(claimed)
            try:
                self._append(conn, rows)
            except BaseException:
                _unclaim_spool(claimed, spool)
                raise
            os.unlink(claimed)
            return len(rows)
        finally:
            conn.close()

    def _spool(self, rows: list[dict], exc: Exception) -> None:
        import json

        message = f"audit database unavailable ({type(exc).__name__}: {exc})"
        try:
            directory = self._dir()
            os.makedirs(directory, mode=0o700, exist_ok=True)
            fd = os.open(os.path.join(directory, SPOOL_NAME), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
            finally:
                os.close(fd)
            self.warnings.append(f"{message}; decision spooled to {SPOOL_NAME}")
            # every time: a broken audit store must be noticed, not discovered at the next incident
            _warn(
                f"guardrails: warning: {message}; the decision was kept in {SPOOL_NAME} (decision unchanged)"
            )
        except Exception as exc2:
            self.warnings.append(f"{message}; spool failed too ({type(exc2).__name__}: {exc2})")
            _warn(f"guardrails: warning: {message}; could not spool the audit row either ({exc2})")


def _claim_spool(spool: str) -> str | None:
    """Rename the spool to a name of this process's own, so two processes never ingest the same lines."""
    claimed = f"{spool}.{os.getpid()}.ingest"
    try:
        os.rename(spool, claimed)
    except OSError:
        return None
    return claimed


def _unclaim_spool(claimed: str, spool: str) -> None:
    """Give the lines back for next time, after any lines spooled meanwhile (nothing lost)."""
    try:
        with open(claimed, "rb") as fh:
            data = fh.read()
        fd = os.open(spool, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.unlink(claimed)
    except OSError:
        pass  # the claimed file stays on disk: read_audit and verify still count it


def _read_spool(path: str) -> list[dict]:
    import json

    rows = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                rows.append(row)
    return rows


def _warn(line: str) -> None:
    try:
        sys.stderr.write(line[:500] + "\n")
    except Exception:
        pass


# ---------------------------------------------------------------- reading


def read_audit(*, since: float | None = None, limit: int = 200, directory: str | None = None) -> list[dict]:
    """Decisions newest first (the spool is ingested first when the database is writable)."""
    import sqlite3

    log = AuditLog(directory)
    rows: list[dict] = []
    path = os.path.join(log._dir(), DB_NAME)
    spool = os.path.join(log._dir(), SPOOL_NAME)
    if os.path.exists(spool) and os.path.isdir(log._dir()):
        try:
            log.ingest_spool()
        except Exception:
            pass
    if os.path.exists(path):
        from skill.errors import StorageError

        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
            conn.row_factory = sqlite3.Row
            try:
                query = "SELECT * FROM decisions"
                args: list = []
                if since is not None:
                    query += " WHERE ts >= ?"
                    args.append(since)
                query += " ORDER BY ts DESC, id DESC LIMIT ?"
                args.append(limit)
                rows = [dict(r) for r in conn.execute(query, args)]
            finally:
                conn.close()
        except sqlite3.Error as exc:
            if not os.path.exists(spool):
                raise StorageError(
                    f"cannot read the audit log {path}: {exc}",
                    hint=f"move {path} aside; a new one is started",
                ) from exc
            _warn(
                f"guardrails: warning: cannot read the audit log {path} ({exc}); showing the spooled "
                f"decisions only (move {path} aside to start a new log)"
            )
    # Rows still in the spool (database unwritable) are shown too.
    if os.path.exists(spool):
        rows += [r for r in _read_spool(spool) if since is None or (r.get("ts") or 0) >= since]
        rows.sort(key=lambda r: r.get("ts") or 0, reverse=True)
        rows = rows[:limit]
    for row in rows:
        row.pop("id", None)
        row["rule_ids"] = (row.get("rule_ids") or "").split()
        row["reasons"] = [r for r in (row.get("reasons") or "").split("\n") if r]
    return rows


# ---------------------------------------------------------------- verifying the chain


class ChainReport:
    """What ``verify`` found: rows checked, the head hash, and the first broken row (or None)."""

    __slots__ = ("where", "rows", "head", "broken_id", "broken_uid", "broken_time", "why", "spooled")

    def __init__(self, where: str):
        self.where = where
        self.rows = 0
        self.head = GENESIS
        self.broken_id = None
        self.broken_uid = None
        self.broken_time = None
        self.why = None
        self.spooled = 0

    @property
    def intact(self) -> bool:
        return self.why is None

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__} | {"intact": self.intact}


def check_chain(rows, report: ChainReport) -> ChainReport:
    """Walk rows (mappings with id, COLUMNS, prev_hash, hash) in id order; stop at the first break.

    A row whose own hash does not match its content was edited; a row whose previous hash is not
    the hash of the row before it follows a deleted, inserted or reordered row.
    """
    prev = GENESIS
    for row in rows:
        stored_prev, stored = row["prev_hash"], row["hash"]
        why = None
        if stored is None or stored_prev is None:
            why = "has no hash: it was added outside the audit writer"
        elif stored_prev != prev:
            why = (
                "does not follow the row before it (its previous hash differs): "
                "a row before it was deleted, inserted or changed"
            )
        elif chain_hash(prev, {c: row[c] for c in COLUMNS}) != stored:
            why = "does not match its hash: its content was changed"
        if why is not None:
            report.broken_id, report.broken_uid, report.broken_time, report.why = (
                row["id"],
                row["uid"],
                row["time"],
                why,
            )
            return report
        report.rows += 1
        prev = report.head = stored
    return report


def verify_local(directory: str | None = None) -> ChainReport:
    """Recompute the chain of this data dir's audit.db (read only; spooled rows are counted)."""
    import sqlite3

    from skill.errors import StorageError

    d = directory or _data_dir()
    path = os.path.join(d, DB_NAME)
    report = ChainReport(path)
    for name in os.listdir(d) if os.path.isdir(d) else ():
        if name == SPOOL_NAME or (name.startswith(SPOOL_NAME + ".") and name.endswith(".ingest")):
            with open(os.path.join(d, name), "rb") as fh:
                report.spooled += sum(1 for line in fh if line.strip())
    if not os.path.exists(path):
        return report
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        conn.row_factory = sqlite3.Row
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > VERSION:
                raise StorageError(
                    f"{path} has audit schema version {version}, newer than this code's {VERSION}",
                    hint="upgrade master-devops",
                )
            if version < VERSION:
                # a log from before the chain: migrating chains its rows as they are now
                conn.close()
                AuditLog(d)._connect().close()
                conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
                conn.row_factory = sqlite3.Row
            return check_chain(conn.execute("SELECT * FROM decisions ORDER BY id"), report)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StorageError(f"cannot read the audit log {path}: {exc}") from exc
