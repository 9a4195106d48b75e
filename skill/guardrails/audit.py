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
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY,
    {", ".join(c + (" REAL" if c == "ts" else " INTEGER" if c == "tier" else " TEXT") for c in COLUMNS)}
);
CREATE UNIQUE INDEX IF NOT EXISTS decisions_uid ON decisions(uid);
CREATE INDEX IF NOT EXISTS decisions_ts ON decisions(ts);
CREATE INDEX IF NOT EXISTS decisions_request ON decisions(request_id);
"""
_INSERT = f"INSERT OR IGNORE INTO decisions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"

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

    def _connect(self):
        sqlite3 = sqlite_module()
        directory = self._dir()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        path = os.path.join(directory, DB_NAME)
        fresh = not os.path.exists(path)
        if fresh:
            _ensure_private_file(path)
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT, isolation_level=None)
        try:
            conn.execute(f"PRAGMA synchronous={SYNC}")
            if fresh:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        return conn

    def _write_db(self, rows: list[dict]) -> None:
        sqlite3 = sqlite_module()
        conn = self._connect()
        try:
            values = [tuple(row.get(c) for c in COLUMNS) for row in rows]
            try:
                self._insert(conn, values)
            except sqlite3.OperationalError as exc:
                if "no such table" not in str(exc):
                    raise
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                self._insert(conn, values)
            spool = os.path.join(self._dir(), SPOOL_NAME)
            if os.path.exists(spool):
                self._ingest_spool(conn, spool)
        finally:
            conn.close()

    @staticmethod
    def _insert(conn, values) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_INSERT, values)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _ingest_spool(self, conn, spool: str) -> int:
        import json

        # Claim the spool by renaming it, so two processes never ingest the same lines.
        claimed = f"{spool}.{os.getpid()}.ingest"
        try:
            os.rename(spool, claimed)
        except OSError:
            return 0
        values = []
        with open(claimed, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict):
                    values.append(tuple(row.get(c) for c in COLUMNS))
        try:
            self._insert(conn, values)
        except Exception:
            os.rename(claimed, spool)  # keep the lines for next time
            raise
        os.unlink(claimed)
        return len(values)

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
            conn = log._connect()
            try:
                log._ingest_spool(conn, spool)
            finally:
                conn.close()
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
        import json

        with open(spool, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                try:
                    row = json.loads(line)
                except ValueError:
                    continue
                if isinstance(row, dict) and (since is None or (row.get("ts") or 0) >= since):
                    rows.append(row)
        rows.sort(key=lambda r: r.get("ts") or 0, reverse=True)
        rows = rows[:limit]
    for row in rows:
        row.pop("id", None)
        row["rule_ids"] = (row.get("rule_ids") or "").split()
        row["reasons"] = [r for r in (row.get("reasons") or "").split("\n") if r]
    return rows
