"""Named, append-only schema migrations of memory.db (sqlite_utils.Migrations).

Never renumber or edit an applied migration: add a new one. The memories table keeps the
vector as a float32 blob next to the text, so SQLite alone can rebuild the chroma index and
serve brute-force similarity without importing chromadb.
"""

from __future__ import annotations

from sqlite_utils import Migrations

migrations = Migrations("devops-memory")


@migrations(name="m001_wal", transactional=False)
def m001_wal(db) -> None:
    # WAL lets recall read while another process writes; it cannot be switched inside a transaction.
    db.enable_wal()


@migrations(name="m002_memories")
def m002_memories(db) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS memories (
            id TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'note',
            service TEXT,
            env TEXT,
            version TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            importance REAL NOT NULL DEFAULT 0.5,
            created_at TEXT NOT NULL,
            created_ts REAL NOT NULL,
            source TEXT NOT NULL DEFAULT 'cli',
            content_hash TEXT NOT NULL,
            scope TEXT NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            linked_to TEXT,
            supersedes TEXT,
            superseded_by TEXT,
            deleted_at TEXT,
            deleted_reason TEXT,
            embedding BLOB,
            embedding_model TEXT,
            chroma_synced INTEGER NOT NULL DEFAULT 0
        )
        """
    )
    # Exact dedup is enforced by SQLite itself, so concurrent writers cannot both win.
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS memories_scope_hash ON memories(scope, content_hash) "
        "WHERE deleted_at IS NULL"
    )
    db.execute("CREATE INDEX IF NOT EXISTS memories_filters ON memories(kind, service, env, created_ts)")
    db.execute("CREATE INDEX IF NOT EXISTS memories_created ON memories(created_ts)")
    db["memories"].enable_fts(
        ["text", "service", "version", "tags"], fts_version="FTS5", create_triggers=True, tokenize="porter"
    )


@migrations(name="m003_deployments_incidents")
def m003_deployments_incidents(db) -> None:
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS deployments (
            id TEXT PRIMARY KEY,
            service TEXT NOT NULL,
            env TEXT NOT NULL,
            version TEXT NOT NULL,
            "commit" TEXT,
            strategy TEXT,
            status TEXT NOT NULL DEFAULT 'succeeded',
            started TEXT,
            started_ts REAL NOT NULL,
            finished TEXT,
            rolled_back_from TEXT,
            by TEXT,
            notes TEXT,
            memory_id TEXT,
            created_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS deployments_service ON deployments(service, env, started_ts)")
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS incidents (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            severity TEXT NOT NULL DEFAULT 'SEV3',
            service TEXT,
            status TEXT NOT NULL DEFAULT 'open',
            started TEXT NOT NULL,
            started_ts REAL NOT NULL,
            resolved TEXT,
            summary TEXT,
            root_cause TEXT,
            resolution TEXT,
            memory_id TEXT,
            updated_at TEXT NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX IF NOT EXISTS incidents_service ON incidents(service, started_ts)")
    # Incident rows show the current state; every change is kept here, so nothing is lost.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS incident_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            incident_id TEXT NOT NULL,
            at TEXT NOT NULL,
            change TEXT NOT NULL
        )
        """
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            detail TEXT NOT NULL DEFAULT '{}'
        )
        """
    )


@migrations(name="m004_fts_update_trigger_on_indexed_columns")
def m004_fts_update_trigger(db) -> None:
    # sqlite-utils' trigger re-indexes a row on any UPDATE; bookkeeping updates (chroma_synced,
    # superseded_by, deleted_at) then churn the FTS index into many small segments.
    db.execute("DROP TRIGGER IF EXISTS memories_au")
    db.execute(
        """
        CREATE TRIGGER memories_au AFTER UPDATE OF text, service, version, tags ON memories BEGIN
          INSERT INTO memories_fts (memories_fts, rowid, text, service, version, tags)
            VALUES ('delete', old.rowid, old.text, old.service, old.version, old.tags);
          INSERT INTO memories_fts (rowid, text, service, version, tags)
            VALUES (new.rowid, new.text, new.service, new.version, new.tags);
        END
        """
    )


@migrations(name="m005_memory_id_indexes")
def m005_memory_id_indexes(db) -> None:
    # export attaches each memory's deployment/incident rows, and forget --hard unlinks them:
    # both look rows up by memory_id.
    db.execute("CREATE INDEX IF NOT EXISTS deployments_memory ON deployments(memory_id)")
    db.execute("CREATE INDEX IF NOT EXISTS incidents_memory ON incidents(memory_id)")


@migrations(name="m006_environment_names")
def m006_environment_names(db) -> None:
    # `prod`, `prd` and `production` were stored as written, so `--env production` hid `prod`
    # rows. Rows are rewritten to the gate's canonical names; the text keeps what was written.
    from skill.memory.store import env_name

    for table in ("memories", "deployments"):
        rows = db.execute(f"SELECT rowid, env FROM {table} WHERE env IS NOT NULL").fetchall()
        for rowid, env in rows:
            canonical = env_name(env)
            if canonical != env:
                extra = ", chroma_synced = 0" if table == "memories" else ""
                db.execute(f"UPDATE {table} SET env = ?{extra} WHERE rowid = ?", (canonical, rowid))


@migrations(name="m007_deployment_retraction")
def m007_deployment_retraction(db) -> None:
    # A deployment recorded by mistake is retracted, never deleted: the row stays for the audit,
    # and lists and last-good skip it.
    db.execute("ALTER TABLE deployments ADD COLUMN retracted_at TEXT")
    db.execute("ALTER TABLE deployments ADD COLUMN retracted_reason TEXT")
