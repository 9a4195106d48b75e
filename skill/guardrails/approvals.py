"""Approvals: request ids, pending requests, signed single-use approvals, operator keys.

- Every T3/T4 decision gets a request id derived from the canonical request (kind, action or
  exact command, target, environment, working directory for commands, plan digest), so the
  same request always has the same id. The full SHA-256 digest is what approvals bind to; the
  id is a short handle for humans.
- The request is kept as *pending* in ``approvals.db`` (0600, data dir) with its exact canonical
  form, so ``approve`` shows the human what the id really stands for (it re-hashes it) rather
  than a description someone could have forged.
- ``approve`` creates an approval bound to that digest, HMAC-SHA256 signed with
  ``approval.key`` (32 random bytes, 0600, data dir), single use, expiring. It requires a human:
  an interactive terminal where the target's name (or the request id) is typed, or the
  operator key ($DEVOPS_OPERATOR_KEY) whose PBKDF2 hash ``operator-key init`` stored.
- A check consumes an approval (a token given with --approval, or the pending approval for the
  same request) atomically: the UPDATE that marks it used succeeds once.
- Team mode (a PostgreSQL URL configured, skill.storage): the same tables live in the team
  database, and the HMAC key in its ``gate_keys`` table, so a request recorded on one machine is
  approved from another. A T3/T4 check then opens one connection; T1/T2 checks never do.
"""

from __future__ import annotations

import os
import time

from skill.errors import Blocked, DevopsError, NotFoundError, UsageError

KEY_NAME = "approval.key"
DB_NAME = "approvals.db"
OPERATOR_NAME = "operator-key.json"
TOKEN_PREFIX = "ga1"
PENDING_RETENTION = 7 * 86400  # pending requests hold exact commands: keep them a week at most
VERSION = 2  # migrations of the approvals store (STORE_SCHEMA)
PBKDF2_ITERATIONS = 200_000
TTY_TIMEOUT = 300  # seconds to wait for the human at the terminal

DDL = """
CREATE TABLE IF NOT EXISTS pending (
    request_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    canonical TEXT NOT NULL,
    kind TEXT, target TEXT, environment TEXT, tier INTEGER, decision TEXT,
    approvable INTEGER NOT NULL, reasons TEXT, created REAL, last_seen REAL
);
CREATE TABLE IF NOT EXISTS approvals (
    approval_id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    method TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    mac TEXT NOT NULL,
    used_at REAL,
    used_by TEXT
);
CREATE INDEX IF NOT EXISTS approvals_digest ON approvals(digest);
"""
# The team database's DDL: REAL is DOUBLE PRECISION there, and the HMAC key is a row, not a file.
_PG_SCHEMA = (
    DDL.replace(" REAL", " DOUBLE PRECISION")
    + "CREATE TABLE IF NOT EXISTS gate_keys (name TEXT PRIMARY KEY, secret TEXT NOT NULL);\n"
)
# A used approval stays used, whoever may write the table: in team mode the agent's role may
# mark approvals used (docs/team.md, Grants), and must not be able to mark one unused again.
USED_ONCE = """
CREATE TRIGGER IF NOT EXISTS approvals_used_once BEFORE UPDATE OF used_at, used_by ON approvals
WHEN OLD.used_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'an approval that was used stays used'); END;
"""
# 42501 (insufficient privilege): the seam reports it as the role being refused, in one line.
_PG_USED_ONCE = """
CREATE OR REPLACE FUNCTION approvals_used_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'approval % was used: it stays used', OLD.approval_id USING ERRCODE = '42501';
END $$;
DROP TRIGGER IF EXISTS approvals_used_once ON approvals;
CREATE TRIGGER approvals_used_once BEFORE UPDATE OF used_at, used_by ON approvals
    FOR EACH ROW WHEN (OLD.used_at IS NOT NULL) EXECUTE FUNCTION approvals_used_once();
"""


def __getattr__(name: str):
    # The skill.storage declaration is built on first use: its dataclasses cost the SQLite hook
    # path ~15 ms it does not need (the hook opens approvals.db itself).
    if name == "SCHEMA":
        from skill.storage import CopyTable, Migration, Schema

        return Schema(
            "approvals",
            (
                Migration("create approvals", sqlite=DDL, postgres=_PG_SCHEMA),
                Migration("a used approval stays used", sqlite=USED_ONCE, postgres=_PG_USED_ONCE),
            ),
            team=True,
            # approvals are signed with the machine's own key: only the requests move
            copy_tables=(CopyTable("pending", ("request_id",)),),
        )
    raise AttributeError(name)


class AlreadyDecided(DevopsError):
    """A second approver: the request already has an approval that is neither used nor expired."""


class ApprovalError(DevopsError):
    """An approval could not be created (refused, unknown request, broken key)."""


# ---------------------------------------------------------------- request ids


def canonical_request(
    *,
    kind: str,
    text: str,
    target: str | None,
    environment: str | None,
    cwd: str | None = None,
    plan: str | None = None,
    details: dict | None = None,
) -> str:
    import json

    body = {"v": 1, "kind": kind, "input": text, "target": target, "environment": environment}
    if cwd is not None:
        body["cwd"] = cwd
    if plan is not None:
        body["plan"] = plan
    if details:
        # the identifying fields of a change (version, strategy, flag value): bound, and shown
        body["details"] = details
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest_of(canonical: str) -> str:
    try:
        # The builtin module: hashlib would load OpenSSL (~2 ms) on every T3/T4 check.
        from _sha256 import sha256
    except ImportError:  # pragma: no cover - interpreters built without it
        from hashlib import sha256
    return sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def request_id_for(digest: str) -> str:
    return "rq-" + digest[:16]


# ---------------------------------------------------------------- storage


def _dir(directory: str | None = None) -> str:
    if directory:
        return directory
    from skill.paths import data_dir

    return data_dir()


def _private_create(path: str, data: bytes | None = None) -> None:
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        if data:
            os.write(fd, data)
    finally:
        os.close(fd)


class _Shared:
    """A connection shared by a batch run: close() is a no-op, the session commits at the end."""

    def __init__(self, conn):
        self._conn = conn

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def close(self):
        pass


_SESSION: dict = {}


class batch_session:
    """Within it, pending requests and approval use share one connection and one transaction."""

    def __enter__(self):
        _SESSION["active"] = True
        return self

    def __exit__(self, *exc):
        shared = _SESSION.pop("conn", None)
        _SESSION.clear()
        if shared is not None:
            try:
                shared._conn.execute("COMMIT")
            except Exception:
                pass
            shared._conn.close()
        return False


_TEAM: dict = {}  # url -> the process's one connection to the team database


def _team_conn():
    """The team database's connection when one is configured (opened once per process), else None."""
    from skill.guardrails.audit import team_url

    url = team_url()
    if not url:
        return None
    shared = _TEAM.get(url)
    if shared is None or shared.raw.closed or shared.raw.broken:
        from skill.storage import postgres

        shared = _TEAM[url] = _Shared(postgres.open_store(url, __getattr__("SCHEMA")))
    return shared


def _connect(directory: str | None = None, *, create: bool = True, sync: str = "NORMAL"):
    team = _team_conn()
    if team is not None:
        return team
    if _SESSION.get("active") and directory is None:
        shared = _SESSION.get("conn")
        if shared is None:
            conn = _open(None, create=create, sync="OFF")
            if conn is None:
                return None
            conn.execute("BEGIN")
            shared = _SESSION["conn"] = _Shared(conn)
        return shared
    return _open(directory, create=create, sync=sync)


def _open(directory: str | None = None, *, create: bool = True, sync: str = "NORMAL"):
    from skill.guardrails.audit import sqlite_module

    sqlite3 = sqlite_module()
    d = _dir(directory)
    path = os.path.join(d, DB_NAME)
    fresh = not os.path.exists(path)
    if fresh:
        if not create:
            return None
        os.makedirs(d, mode=0o700, exist_ok=True)
        try:
            _private_create(path)
        except FileExistsError:
            pass
    conn = sqlite3.connect(path, timeout=1.0, isolation_level=None)
    try:
        conn.execute(f"PRAGMA synchronous={sync}")
        if fresh:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(DDL + USED_ONCE)
            conn.execute(f"PRAGMA user_version = {VERSION}")
        elif conn.execute("PRAGMA user_version").fetchone()[0] > VERSION:
            from skill.errors import StorageError

            raise StorageError(
                f"{path} has schema version newer than this code knows ({VERSION})",
                hint="upgrade master-devops; it will not read or change a newer store",
            )
    except BaseException:
        conn.close()
        raise
    return conn


class _WriteTransaction:
    """The write lock for a read-then-write: BEGIN IMMEDIATE on SQLite, a transaction holding an
    advisory lock on PostgreSQL (statements after it see what the previous holder committed)."""

    def __init__(self, conn, lock: str):
        self.conn, self.lock, self.inner = conn, lock, None

    def __enter__(self):
        if getattr(self.conn, "backend", "sqlite") == "postgres":
            self.inner = self.conn.transaction(lock=self.lock)
            return self.inner.__enter__()
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, exc, tb):
        if self.inner is not None:
            return self.inner.__exit__(kind, exc, tb)
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
        return False


def _clock(conn) -> float:
    """Now, by the clock approvals are measured with. In team mode that is the database
    server's: the approver's laptop and the agent's host each have their own, and their skew
    would lengthen or shorten every approval's lifetime. Otherwise this machine's."""
    if getattr(conn, "backend", "sqlite") == "postgres":
        return conn.server_clock()
    return time.time()


def _with_schema(conn, fn):
    from skill.guardrails.audit import sqlite_module

    sqlite3 = sqlite_module()
    try:
        return fn()
    except sqlite3.OperationalError as exc:
        if "no such table" not in str(exc):
            raise
        conn.executescript(DDL + USED_ONCE)
        return fn()


def load_key(directory: str | None = None, *, create: bool = False) -> bytes:
    """The HMAC key. Refuses a key file others can read: anyone reading it could sign approvals.
    In team mode the key is the team database's (every machine checks what another approved)."""
    team = _team_conn()
    if team is not None:
        return _team_key(team, create)
    path = os.path.join(_dir(directory), KEY_NAME)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise ApprovalError("no approval key yet (no approval was ever created)") from None
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        try:
            _private_create(path, os.urandom(32))
        except FileExistsError:
            pass
        st = os.stat(path)
    if st.st_mode & 0o077:
        raise ApprovalError(f"{path} is readable by others (mode {oct(st.st_mode & 0o777)}); chmod 600 it")
    with open(path, "rb") as fh:
        key = fh.read()
    if len(key) < 32:
        raise ApprovalError(f"{path} is truncated; delete it (outstanding approvals become invalid)")
    return key


def _team_key(conn, create: bool) -> bytes:
    def read():
        row = conn.execute("SELECT secret FROM gate_keys WHERE name = 'approval'").fetchone()
        return None if row is None else bytes.fromhex(row[0])

    key = read()
    if key is None:
        if not create:
            raise ApprovalError("no approval key yet (no approval was ever created)")
        conn.execute(
            "INSERT INTO gate_keys (name, secret) VALUES ('approval', ?) ON CONFLICT (name) DO NOTHING",
            (os.urandom(32).hex(),),
        )
        key = read()  # another machine may have made it first: everyone uses the stored one
    return key


def _mac(key: bytes, *fields) -> str:
    import hashlib
    import hmac

    message = "\x1f".join(str(f) for f in fields).encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def record_pending(
    request_id: str,
    digest: str,
    canonical: str,
    decision,
    directory: str | None = None,
    conn=None,
) -> None:
    """Remember a T3/T4 request so a human can look it up and approve it."""
    if not decision.approvable and conn is None:
        from skill.guardrails.audit import team_url

        if team_url():
            # nobody can approve it, and the audit has it: not worth a team-database connection
            # on the hook path (a cold psycopg import and connect cost ~10x the whole check)
            return
    own = conn is None
    if own:
        # Pending requests come back by re-running the check: not worth an fsync per T3/T4 check.
        conn = _connect(directory, sync="OFF")
    try:
        now = time.time()

        def write():
            conn.execute(
                "INSERT INTO pending (request_id, digest, canonical, kind, target, environment, tier, decision,"
                " approvable, reasons, created, last_seen) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT(request_id) DO UPDATE SET last_seen=excluded.last_seen, tier=excluded.tier,"
                " decision=excluded.decision, approvable=excluded.approvable, reasons=excluded.reasons",
                (
                    request_id,
                    digest,
                    canonical,
                    decision.kind,
                    decision.target,
                    decision.environment,
                    decision.tier,
                    decision.decision,
                    1 if decision.approvable else 0,
                    "\n".join(decision.reasons),
                    now,
                    now,
                ),
            )

        _with_schema(conn, write)
        if os.urandom(1)[0] < 4:  # now and then, forget requests nobody approved within the retention
            conn.execute("DELETE FROM pending WHERE last_seen < ?", (now - PENDING_RETENTION,))
    finally:
        if own:
            conn.close()


def get_pending(request_id: str, directory: str | None = None) -> dict:
    conn = _connect(directory, create=False)
    if conn is None:
        raise NotFoundError(
            f"no pending request {request_id}: run the check first, then approve its request id"
        )
    try:
        if getattr(conn, "backend", "sqlite") == "sqlite":
            conn.row_factory = __import__("sqlite3").Row
        row = _with_schema(
            conn, lambda: conn.execute("SELECT * FROM pending WHERE request_id = ?", (request_id,)).fetchone()
        )
    finally:
        conn.close()
    if row is None:
        raise NotFoundError(
            f"no pending request {request_id}: run the check first, then approve its request id"
        )
    pending = dict(row)
    # The id must be the hash of the stored request: a hand-edited row cannot pose as another request.
    if (
        digest_of(pending["canonical"]) != pending["digest"]
        or request_id_for(pending["digest"]) != request_id
    ):
        raise ApprovalError(f"pending request {request_id} does not match its stored content; refusing")
    return pending


# ---------------------------------------------------------------- consuming approvals


class Consumed:
    __slots__ = ("approval_id", "approved_by", "note")

    def __init__(self, approval_id, approved_by, note=None):
        self.approval_id = approval_id
        self.approved_by = approved_by
        self.note = note


def consume(
    digest: str,
    *,
    token: str | None = None,
    caller: str | None = None,
    directory: str | None = None,
    now: float | None = None,
) -> tuple[Consumed | None, str | None]:
    """Use one approval for this exact request. Returns (consumed or None, why not)."""
    d = _dir(directory)
    now = time.time() if now is None else now
    if token is None and not os.path.exists(os.path.join(d, DB_NAME)) and _team_conn() is None:
        return None, None
    try:
        key = load_key(d)
    except ApprovalError as exc:
        return None, None if token is None else str(exc)
    conn = _connect(directory, create=False)
    if conn is None:
        return None, "approval store missing"
    try:
        if getattr(conn, "backend", "sqlite") == "postgres":
            now = _clock(conn)
        if token is not None:
            payload, why = parse_token(token, key)
            if payload is None:
                return None, why
            if payload["d"] != digest:
                return (
                    None,
                    "the approval token is for a different request (action, command, target or environment)",
                )
            if payload["e"] <= now:
                return None, "the approval token has expired"
            candidates = [payload["a"]]
        else:
            candidates = [
                r[0]
                for r in _with_schema(
                    conn,
                    lambda: conn.execute(
                        "SELECT approval_id FROM approvals WHERE digest = ? AND used_at IS NULL AND expires > ?"
                        " ORDER BY created",
                        (digest, now),
                    ).fetchall(),
                )
            ]
        for approval_id in candidates:
            row = conn.execute(
                "SELECT approval_id, request_id, digest, approved_by, method, created, expires, mac, used_at"
                " FROM approvals WHERE approval_id = ?",
                (approval_id,),
            ).fetchone()
            if row is None:
                return None, "unknown approval (not created by `guardrails.py approve` here)"
            aid, rid, dig, by, method, created, expires, mac, used_at = row
            import hmac

            if not hmac.compare_digest(
                mac, _mac(key, aid, rid, dig, by, method, repr(created), repr(expires))
            ):
                if token is not None:
                    return None, "the approval record fails its signature check"
                continue
            if dig != digest:
                return None, "the approval is for a different request"
            if used_at is not None:
                return None, "the approval was already used (approvals are single use)"
            if expires <= now:
                return None, "the approval has expired"
            cur = conn.execute(
                "UPDATE approvals SET used_at = ?, used_by = ? WHERE approval_id = ? AND used_at IS NULL",
                (now, caller, aid),
            )
            if cur.rowcount == 1:
                return Consumed(aid, by), None
            return None, "the approval was already used (approvals are single use)"
        return None, None
    finally:
        conn.close()


def parse_token(token: str, key: bytes) -> tuple[dict | None, str | None]:
    import base64
    import hmac
    import json

    parts = (token or "").strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None, "malformed approval token"
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
    except ValueError:
        return None, "malformed approval token"
    expected = _mac(key, TOKEN_PREFIX, parts[1])
    if not hmac.compare_digest(expected, parts[2]):
        return None, "approval token signature is invalid (tampered or from another machine)"
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict) or not all(k in payload for k in ("a", "d", "e")):
            raise ValueError
    except ValueError:
        return None, "malformed approval token"
    return payload, None


# ---------------------------------------------------------------- creating approvals


def approval_ttl(requested: str | None = None) -> float:
    """Seconds an approval stays valid: ``requested`` (30m, 2h ...) or the policy's approval_ttl
    (default 30m), never above max_approval_ttl (default 24h). One rule for every approve command."""
    from skill.durations import parse_duration
    from skill.errors import UsageError
    from skill.guardrails.policy import load_policy

    try:
        settings = load_policy().settings
    except Exception:  # a broken policy does not lengthen anything: the defaults apply
        settings = {}
    ttl = parse_duration(requested or settings.get("approval_ttl", "30m")).total_seconds()
    limit = parse_duration(settings.get("max_approval_ttl", "24h")).total_seconds()
    if ttl <= 0:
        raise UsageError("--ttl must be positive")
    if ttl > limit:
        raise UsageError(
            f"--ttl is longer than the policy's max_approval_ttl ({settings.get('max_approval_ttl', '24h')})"
        )
    return ttl


def approve(
    request_id: str,
    *,
    by: str,
    ttl_seconds: float,
    directory: str | None = None,
    authorize=None,
    supersede: bool = False,
) -> dict:
    """Create the approval for a pending request after ``authorize(pending)`` names the method.

    An outstanding (unused, unexpired) approval of the same request makes this AlreadyDecided:
    two approvers racing get one success. ``supersede`` is for a caller that already holds the
    only claim on the request (a paused run being approved again after its approver died): the
    outstanding approval is then revoked and replaced.
    """
    import base64
    import json
    import secrets

    if not by or not by.strip():
        raise UsageError("--by NAME is required: who approves")
    pending = get_pending(request_id, directory)
    if not pending["approvable"]:
        raise Blocked(
            f"{request_id} cannot be approved: it is denied by a rule or a change freeze ({pending['reasons']})"
        )
    d = _dir(directory)
    conn = _connect(d)
    try:
        if not supersede:
            _refuse_if_decided(conn, request_id, _clock(conn))  # before asking the human anything
        method = (authorize or authorize_human)(pending)
        key = load_key(d, create=True)
        now = _clock(conn)
        approval_id = "ap-" + secrets.token_hex(8)
        expires = now + ttl_seconds
        mac = _mac(key, approval_id, request_id, pending["digest"], by, method, repr(now), repr(expires))

        def grant():
            # one approver wins: the check and the insert under one write lock, on both backends
            with _WriteTransaction(conn, f"gate-approve:{request_id}"):
                if supersede:
                    conn.execute(
                        "UPDATE approvals SET used_at = ?, used_by = ? WHERE request_id = ? AND used_at IS NULL",
                        (now, f"superseded by {approval_id}", request_id),
                    )
                else:
                    _refuse_if_decided(conn, request_id, now)
                conn.execute(
                    "INSERT INTO approvals (approval_id, request_id, digest, approved_by, method, created,"
                    " expires, mac) VALUES (?,?,?,?,?,?,?,?)",
                    (approval_id, request_id, pending["digest"], by, method, now, expires, mac),
                )

        _with_schema(conn, grant)
        conn.execute("DELETE FROM pending WHERE last_seen < ?", (now - PENDING_RETENTION,))
    finally:
        conn.close()
    body = base64.urlsafe_b64encode(
        json.dumps(
            {"a": approval_id, "r": request_id, "d": pending["digest"], "e": expires, "b": by}
        ).encode()
    ).decode()
    body = body.rstrip("=")
    token = f"{TOKEN_PREFIX}.{body}.{_mac(key, TOKEN_PREFIX, body)}"
    return {
        "approval_id": approval_id,
        "request_id": request_id,
        "approved_by": by,
        "method": method,
        "expires": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
        "token": token,
    }


def _refuse_if_decided(conn, request_id: str, now: float) -> None:
    row = conn.execute(
        "SELECT approval_id, approved_by, created, expires FROM approvals"
        " WHERE request_id = ? AND used_at IS NULL AND expires > ? ORDER BY created DESC LIMIT 1",
        (request_id, now),
    ).fetchone()
    if row is not None:
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        raise AlreadyDecided(
            f"{request_id} is already decided: approved by {row[1]} at {time.strftime(fmt, time.gmtime(row[2]))}"
            f" ({row[0]}, unused, expires {time.strftime(fmt, time.gmtime(row[3]))}); nothing more to approve"
        )


def list_pending(limit: int = 50) -> list[dict]:
    """Pending requests, newest first (the team's when a team database is configured)."""
    conn = _connect(create=False)
    if conn is None:
        return []
    try:
        if getattr(conn, "backend", "sqlite") == "sqlite":
            conn.row_factory = __import__("sqlite3").Row
        rows = conn.execute(
            "SELECT request_id, kind, target, environment, tier, decision, approvable, reasons, canonical,"
            " last_seen FROM pending ORDER BY last_seen DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [{key: row[key] for key in row.keys()} for row in rows]
    finally:
        conn.close()


def describe_pending(pending: dict) -> str:
    import json

    from skill.redact import redact

    body = json.loads(pending["canonical"])
    lines = [f"request {pending['request_id']}  (T{pending['tier']} {pending['decision']})"]
    lines.append(f"  {body['kind']}: {redact(body['input'])}")
    if body.get("target"):
        lines.append(f"  target: {body['target']}")
    lines.append(f"  environment: {body.get('environment') or 'unknown'}")
    for key, value in (body.get("details") or {}).items():
        # what exactly is approved: the version, strategy or flag value, not just the service
        lines.append(f"  {key}: {redact(str(value))}")
    if body.get("cwd"):
        lines.append(f"  cwd: {body['cwd']}")
    for reason in (pending.get("reasons") or "").split("\n"):
        if reason:
            lines.append(f"  - {redact(reason)}")
    return "\n".join(lines)


def confirmation_word(pending: dict) -> str:
    """What the human types: the target's name, or the request id when there is no target."""
    import json

    body = json.loads(pending["canonical"])
    return body.get("target") or pending["request_id"]


def authorize_human(pending: dict) -> str:
    """The approval method, or Blocked: an operator key, or a human typing at a real terminal."""
    supplied = os.environ.get("DEVOPS_OPERATOR_KEY")
    if supplied:
        if verify_operator_key(supplied):
            return "operator-key"
        raise Blocked("refused: $DEVOPS_OPERATOR_KEY does not match the stored operator key")
    word = confirmation_word(pending)
    answer = _ask_terminal(
        describe_pending(pending)
        + f"\n\nTo approve, type {word!r} and press Enter (anything else cancels): ",
    )
    if answer is None:
        raise Blocked(
            "refused: approving needs a human at an interactive terminal (type the target's name) "
            "or the operator key in $DEVOPS_OPERATOR_KEY; an agent cannot approve its own request"
        )
    if answer.strip() != word:
        raise Blocked("refused: the confirmation did not match; nothing was approved")
    return "tty"


def _open_terminal():
    """(read fd, write fd, close) of the controlling terminal, or None when there is none."""
    import sys

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
        return fd, fd, True
    except OSError:
        pass
    try:
        if sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty():
            return sys.stdin.fileno(), sys.stdout.fileno(), False
    except (ValueError, OSError):
        pass
    return None


def _ask_terminal(prompt: str, timeout: float = TTY_TIMEOUT) -> str | None:
    import select

    term = _open_terminal()
    if term is None:
        return None
    rfd, wfd, close = term
    try:
        os.write(wfd, prompt.encode("utf-8", "replace"))
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([rfd], [], [], left)
            if not ready:
                return None
            chunk = os.read(rfd, 1024)
            if not chunk:
                break
            buf += chunk
            if len(buf) > 4096:
                break
        return buf.decode("utf-8", "replace").strip()
    except OSError:
        return None
    finally:
        if close:
            os.close(rfd)


def write_terminal(text: str) -> bool:
    term = _open_terminal()
    if term is None:
        return False
    rfd, wfd, close = term
    try:
        os.write(wfd, text.encode("utf-8", "replace"))
        return True
    finally:
        if close:
            os.close(rfd)


# ---------------------------------------------------------------- operator key


def _operator_path(directory: str | None = None) -> str:
    return os.path.join(_dir(directory), OPERATOR_NAME)


def operator_key_status(directory: str | None = None) -> dict:
    path = _operator_path(directory)
    return {"configured": os.path.exists(path), "path": path}


def init_operator_key(directory: str | None = None, *, force: bool = False) -> str:
    """Create an operator key; its PBKDF2 hash is stored, the key itself only shown on the terminal."""
    import secrets

    path = _operator_path(directory)
    if os.path.exists(path) and not force:
        raise UsageError(f"an operator key already exists ({path}); use --force to replace it")
    answer = _ask_terminal("Create a new operator key for approvals? Type 'yes' to continue: ", timeout=120)
    if answer is None:
        raise Blocked("refused: creating an operator key needs a human at an interactive terminal")
    if answer.strip().lower() != "yes":
        raise Blocked("cancelled: no operator key created")
    key = "dok_" + secrets.token_urlsafe(32)
    store_operator_key(key, directory)
    # Shown on the terminal only, never on stdout, so a program capturing stdout never sees it.
    write_terminal(
        f"\nOperator key (shown once; keep it outside the agent's environment):\n\n    {key}\n\n"
        "Approve with: DEVOPS_OPERATOR_KEY=<key> guardrails.py approve REQUEST_ID --by NAME\n"
    )
    return path


def store_operator_key(key: str, directory: str | None = None) -> str:
    """Store the PBKDF2 hash of ``key`` (0600). The key itself is never written anywhere."""
    import hashlib
    import json
    import secrets

    path = _operator_path(directory)
    salt = secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", key.encode(), bytes.fromhex(salt), PBKDF2_ITERATIONS).hex()
    data = json.dumps({"v": 1, "salt": salt, "iterations": PBKDF2_ITERATIONS, "hash": digest}).encode()
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.unlink(tmp)
    _private_create(tmp, data)
    os.replace(tmp, path)
    return path


def verify_operator_key(supplied: str, directory: str | None = None) -> bool:
    import hashlib
    import hmac
    import json

    path = _operator_path(directory)
    try:
        st = os.stat(path)
        if st.st_mode & 0o022:
            return False  # others could replace the hash
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        digest = hashlib.pbkdf2_hmac(
            "sha256", supplied.encode(), bytes.fromhex(data["salt"]), int(data["iterations"])
        ).hex()
        return hmac.compare_digest(digest, data["hash"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
