"""SQL clients and statement analysis (DROP/TRUNCATE/DELETE without WHERE …), redis and mongo."""

from __future__ import annotations

import re

from skill.guardrails.commands._base import Ctx, positionals

_PSQL_VALUE = frozenset(
    {
        "-h",
        "--host",
        "-p",
        "--port",
        "-U",
        "--username",
        "-d",
        "--dbname",
        "-c",
        "--command",
        "-f",
        "--file",
        "-o",
        "--output",
        "-v",
        "--set",
        "--variable",
        "-P",
        "--pset",
        "-F",
        "-R",
        "-T",
        "-L",
        "--log-file",
    }
)
_MYSQL_VALUE = frozenset(
    {
        "-h",
        "--host",
        "-P",
        "--port",
        "-u",
        "--user",
        "-e",
        "--execute",
        "-D",
        "--database",
        "-S",
        "--socket",
        "--default-character-set",
        "--login-path",
        "--defaults-file",
        "--defaults-extra-file",
        "--protocol",
    }
)


def check(ctx: Ctx) -> None:
    name = ctx.name
    if name in ("psql", "cockroach"):
        _client(
            ctx,
            "postgres",
            ("-c", "--command"),
            ("-f", "--file"),
            ("-h", "--host"),
            ("-d", "--dbname"),
            _PSQL_VALUE,
        )
    elif name in ("mysql", "mariadb"):
        _client(ctx, "mysql", ("-e", "--execute"), (), ("-h", "--host"), ("-D", "--database"), _MYSQL_VALUE)
    elif name == "sqlite3":
        _sqlite(ctx)
    elif name in ("sqlcmd",):
        _client(
            ctx,
            "mssql",
            ("-Q", "-q"),
            ("-i",),
            ("-S",),
            ("-d",),
            frozenset({"-S", "-U", "-P", "-d", "-Q", "-q", "-i", "-o"}),
        )
    elif name == "clickhouse-client":
        _client(
            ctx,
            "clickhouse",
            ("-q", "--query"),
            ("--queries-file",),
            ("-h", "--host"),
            ("-d", "--database"),
            frozenset(
                {"-h", "--host", "--port", "-u", "--user", "--password", "-q", "--query", "-d", "--database"}
            ),
        )
    elif name in ("mongosh", "mongo"):
        _mongo(ctx)
    elif name in ("redis-cli", "keydb-cli", "valkey-cli"):
        _redis(ctx)
    elif name in ("dropdb", "dropuser"):
        ctx.env(
            ctx.value("-h", "--host"),
            *positionals(ctx.args, frozenset({"-h", "--host", "-p", "-U", "--port", "--username"})),
        )
        ctx.hit(
            4,
            "sql.dropdb",
            f"{name} permanently drops a database" if name == "dropdb" else "drops a database role",
        )
    elif name == "mysqladmin":
        ctx.env(ctx.value("-h", "--host"))
        pos = positionals(ctx.args, _MYSQL_VALUE)
        if pos and pos[0] in ("drop",):
            ctx.hit(4, "sql.dropdb", "mysqladmin drop deletes a database")
        elif pos and pos[0] in (
            "shutdown",
            "kill",
            "flush-hosts",
            "flush-logs",
            "flush-privileges",
            "flush-tables",
            "refresh",
            "password",
            "flush-threads",
            "flush-status",
        ):
            ctx.hit(3, "sql.admin", f"mysqladmin {pos[0]}")
        elif pos and pos[0] in (
            "create",
            "reload",
            "start-replica",
            "stop-replica",
            "start-slave",
            "stop-slave",
        ):
            ctx.hit(2, "sql.admin", f"mysqladmin {pos[0]}")
        else:
            ctx.hit(1, "sql.read", "mysqladmin status/ping/version")
    elif name in ("pg_restore", "mongorestore"):
        ctx.env(ctx.value("-h", "--host", "--uri", "-d", "--dbname"))
        if ctx.has("--clean", "-c", "--drop"):
            ctx.hit(4, "sql.restore-clean", f"{name} --clean/--drop drops existing objects before restoring")
        elif ctx.has("-l", "--list"):
            ctx.hit(1, "sql.read", "lists an archive")
        else:
            ctx.hit(3, "sql.restore", f"{name} writes a dump into a live database")
    else:  # pg_dump, pg_dumpall, mongodump, createdb
        ctx.env(
            ctx.value("-h", "--host", "--uri", "-d", "--dbname"),
            *positionals(
                ctx.args,
                frozenset(
                    {
                        "-h",
                        "--host",
                        "-U",
                        "-p",
                        "-f",
                        "--file",
                        "-d",
                        "--dbname",
                        "-t",
                        "-n",
                        "-F",
                        "--format",
                    }
                ),
            )[:1],
        )
        ctx.hit(
            2 if name == "createdb" else 1,
            "sql.dump" if name != "createdb" else "sql.createdb",
            f"{name} reads (dump) or creates",
        )


def _conn_env(
    ctx: Ctx, host_flags: tuple[str, ...], db_flags: tuple[str, ...], with_value: frozenset[str]
) -> None:
    ctx.env(ctx.value(*host_flags) if host_flags else None, ctx.value(*db_flags) if db_flags else None)
    for key in ("PGHOST", "PGDATABASE", "DATABASE_URL", "MYSQL_HOST", "PGSERVICE"):
        ctx.env(ctx.assigns.get(key))
    for word in positionals(ctx.args, with_value):
        ctx.env(word)  # postgres://user@prod-db/app, dbname, user
    for word in ctx.args:
        if "://" in word or word.startswith(("host=", "dbname=")) or " host=" in word:
            ctx.env(word)


def _client_escapes(ctx: Ctx, text: str) -> None:
    """Client meta-commands that leave SQL: psql/mysql `\\! cmd`, mysql `system cmd`, psql
    `\\copy … program` (runs on this machine) and `\\o |cmd` / `\\g |cmd` (output piped to a command)."""
    for line in text.replace(";", "\n").splitlines():
        line = line.strip()
        low = line.lower()
        if low.startswith("\\!"):
            ctx.shell(line[2:].strip(), f"{ctx.name} \\!")
        elif low.startswith("system ") and ctx.name in ("mysql", "mariadb"):
            ctx.shell(line[7:].strip(), f"{ctx.name} system")
        elif low.startswith("\\copy") and " program " in f" {low} ":
            ctx.hit(3, "sql.copy-program", "\\copy … program runs a shell command")
        elif low.startswith(("\\o |", "\\o|", "\\g |", "\\g|")) or (
            low.startswith(("\\o ", "\\g ")) and line[2:].strip().startswith("|")
        ):
            ctx.shell(line[2:].strip().lstrip("|"), f"{ctx.name} output pipe")


def _client(ctx: Ctx, dialect: str, exec_flags, file_flags, host_flags, db_flags, with_value) -> None:
    _conn_env(ctx, host_flags, db_flags, with_value)
    statements = ctx.values(*exec_flags) if exec_flags else []
    for flag in exec_flags:  # -c'DROP …' / -e"…" attached forms
        if len(flag) == 2:
            for arg in ctx.args:
                if arg.startswith(flag) and len(arg) > 2 and not arg.startswith("--"):
                    statements.append(arg[2:])
    if ctx.stdin is not None:
        statements.append(ctx.stdin)
    elif ctx.piped_from and not statements:
        literal = ctx.piped_literal  # `echo 'SELECT 1' | psql`: literal statements are analysed
        if literal is not None:
            statements.append(literal)
    if statements:
        ctx.hit(1, "sql.client", f"{ctx.name} runs statements (analysed)")
        for text in statements:
            _client_escapes(ctx, text)
            ctx.run_sql(text, dialect)
        return
    files = ctx.values(*file_flags) if file_flags else []
    redirected = [t for op, t in ctx.redirects if op == "<"]
    if files or redirected:
        ctx.hit(3, "sql.script-file", f"{ctx.name} runs SQL from {(files + redirected)[0]} (not analysed)")
        return
    if ctx.piped_from:
        ctx.hit(3, "sql.piped-statements", f"{ctx.name} runs statements produced by {ctx.piped_from[0]}")
        return
    ctx.hit(2, "sql.session", f"opens a {ctx.name} session")


def _sqlite(ctx: Ctx) -> None:
    pos = positionals(ctx.args, frozenset({"-cmd", "-separator", "-newline", "-nullvalue", "-init"}))
    if pos:
        ctx.env(pos[0])
    sql = pos[1:]
    if ctx.stdin is not None:
        sql.append(ctx.stdin)
    if sql:
        ctx.hit(1, "sql.client", "sqlite3 runs statements (analysed)")
        for text in sql:
            if text.startswith("."):
                word, _, rest = text.partition(" ")
                if word in (".shell", ".system"):
                    ctx.shell(rest, f"sqlite3 {word}")
                elif rest.lstrip("'\"").startswith("|") and word in (".output", ".once", ".import"):
                    ctx.shell(rest.strip("'\" ")[1:], f"sqlite3 {word} |")
                elif word == ".load":
                    ctx.hit(3, "sql.load-extension", "sqlite3 .load runs a native extension")
                ctx.hit(1, "sql.dot-command", f"sqlite3 {word}")
                continue
            ctx.run_sql(text, "sqlite")
        return
    if any(op == "<" for op, _ in ctx.redirects) or ctx.piped_from:
        ctx.hit(3, "sql.script-file", "sqlite3 runs SQL from a file or pipe (not analysed)")
        return
    ctx.hit(2, "sql.session", "opens a sqlite3 session")


_MONGO_DESTRUCTIVE = re.compile(
    r"\.\s*(dropDatabase|drop|dropCollection|dropIndexes|dropUser|dropAllUsers|dropRole)\s*\("
)
_MONGO_EMPTY_FILTER = re.compile(r"\.\s*(deleteMany|remove|updateMany|replaceOne)\s*\(\s*(\{\s*\})?\s*[,)]")
_MONGO_WRITE = re.compile(
    r"\.\s*(deleteOne|deleteMany|remove|insert\w*|update\w*|replaceOne|findOneAndDelete|findAndModify|bulkWrite|createIndex|renameCollection)\s*\("
)


def _mongo(ctx: Ctx) -> None:
    for word in ctx.args:
        if "://" in word or not word.startswith("-"):
            ctx.env(word)
    ctx.env(ctx.value("--host"))
    code = [v for v in ctx.values("--eval")]
    if ctx.stdin is not None:
        code.append(ctx.stdin)
    if not code:
        if (
            any(op == "<" for op, _ in ctx.redirects)
            or positionals(
                ctx.args,
                frozenset(
                    {"--host", "--port", "-u", "-p", "--username", "--password", "--authenticationDatabase"}
                ),
            )[1:]
        ):
            ctx.hit(3, "sql.script-file", "runs a mongo script (not analysed)")
        else:
            ctx.hit(2, "sql.session", f"opens a {ctx.name} session")
        return
    for text in code:
        for tier, rule, reason in analyse_mongo(text):
            ctx.hit(tier, rule, reason)


def analyse_mongo(text: str) -> list[tuple[int, str, str]]:
    m = _MONGO_DESTRUCTIVE.search(text)
    if m:
        return [(4, "mongo.drop", f"{m.group(1)}() deletes data")]
    m = _MONGO_EMPTY_FILTER.search(text)
    if m:
        return [(4, "mongo.delete-all", f"{m.group(1)} with an empty filter touches every document")]
    if _MONGO_WRITE.search(text):
        return [(2, "mongo.write", "writes documents")]
    return [(1, "mongo.read", "reads documents")]


_REDIS_VALUE = frozenset(
    {
        "-h",
        "-p",
        "-a",
        "-n",
        "-u",
        "--user",
        "--pass",
        "-s",
        "--tls-cert",
        "--tls-key",
        "--cacert",
        "-r",
        "-i",
        "--eval",
    }
)
_REDIS_READ = frozenset(
    """get mget keys scan exists type ttl pttl strlen hget hgetall hkeys hvals hlen hexists hscan lrange llen
    lindex smembers scard sismember sscan zrange zrangebyscore zscore zcard zscan info ping echo dbsize time
    monitor slowlog memory latency client-list config-get xrange xlen xinfo pubsub role lastsave object
    dump bitcount getrange randomkey""".split()
)


def _redis(ctx: Ctx) -> None:
    ctx.env(ctx.value("-h"), ctx.value("-u"))
    pos = positionals(ctx.args, _REDIS_VALUE)
    if ctx.stdin is not None:
        pos = ctx.stdin.split()
    if not pos:
        if ctx.has("--scan", "--bigkeys", "--memkeys", "--stat", "--latency", "--hotkeys"):
            ctx.hit(1, "redis.read", "redis-cli inspection mode")
        elif ctx.piped_from:
            ctx.hit(3, "redis.piped", "redis-cli runs commands produced elsewhere")
        else:
            ctx.hit(2, "redis.session", "opens a redis-cli session")
        return
    cmd = pos[0].lower()
    sub = pos[1].lower() if len(pos) > 1 else ""
    if cmd in ("flushall", "flushdb"):
        ctx.hit(4, "redis.flush", f"{cmd.upper()} deletes every key")
    elif cmd == "shutdown":
        ctx.hit(4 if sub == "nosave" else 3, "redis.shutdown", "stops the redis server")
    elif cmd == "debug":
        ctx.hit(3, "redis.debug", "DEBUG can crash or stall the server")
    elif cmd == "config" and sub in ("set", "rewrite", "resetstat"):
        ctx.hit(3, "redis.config-change", f"CONFIG {sub.upper()} changes live server configuration")
    elif cmd in ("del", "unlink") and ctx.args_unknown:
        ctx.hit(3, "redis.delete-many", "deletes keys chosen at run time")
    elif (
        cmd in ("script", "function")
        and sub == "flush"
        or cmd in ("slaveof", "replicaof", "cluster", "failover", "swapdb", "migrate", "acl")
    ):
        ctx.hit(3, "redis.admin", f"{cmd.upper()} {sub.upper()}".strip())
    elif cmd == "eval" or cmd == "evalsha":
        ctx.hit(
            3 if "del" in " ".join(pos).lower() or "flush" in " ".join(pos).lower() else 2,
            "redis.eval",
            "runs a Lua script",
        )
    elif cmd in _REDIS_READ or f"{cmd}-{sub}" in _REDIS_READ:
        ctx.hit(1, "redis.read", f"{cmd.upper()} only reads")
    else:
        ctx.hit(2, "redis.write", f"{cmd.upper()} writes keys")


# -- statement analysis -----------------------------------------------------------------------
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/|#[^\n]*", re.S)
_EXEC_COMMENT = re.compile(r"/\*!\d*(.*?)\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\$\$.*?\$\$", re.S)


def _statements(text: str) -> list[str]:
    masked = _STRING.sub(lambda m: "'" + "x" * 0 + "'" if m.group(0)[0] == "'" else m.group(0), text)
    # MySQL runs the body of `/*! … */` (and `/*!50000 … */`) comments as code.
    masked = _EXEC_COMMENT.sub(lambda m: " " + m.group(1) + " ", masked)
    masked = _COMMENT.sub(" ", masked)
    return [s.strip() for s in masked.split(";") if s.strip()]


# Text that reads as SQL statements rather than a program and its arguments (`DROP TABLE users;`
# typed as a command, `some-db-shell -c 'DELETE FROM t'`).
_SQL_START = re.compile(
    r"(?:(?:DROP|TRUNCATE|DELETE|UPDATE|ALTER|SELECT|INSERT|GRANT|REVOKE|CREATE|WITH)\s+[\w\"`(*]"
    r"|(?i:drop\s+(?:table|database|schema|view|index)|truncate\s+table|delete\s+from|update\s+\S+\s+set\b"
    r"|alter\s+table|insert\s+into|select\s+.+\s+from\b))"
)


def statement_hits(text: str) -> list[tuple[int, str, str]] | None:
    """[(tier, rule, reason)] when ``text`` reads as SQL statements, else None."""
    if not _SQL_START.match(text.lstrip()):
        return None
    return analyse_sql(text, "sql")


def analyse_sql(text: str, dialect: str = "sql") -> list[tuple[int, str, str]]:
    """Tier every statement of ``text``: [(tier, rule id, reason)]."""
    if "db." in text and re.search(r"\bdb\.\w+", text) and dialect not in ("postgres", "mysql"):
        hits = analyse_mongo(text)
        if hits[0][0] > 1:
            return hits
    out: list[tuple[int, str, str]] = []
    for stmt in _statements(text):
        out.append(_statement(stmt))
    if not out:
        out.append((1, "sql.empty", "no statements"))
    return out


def _statement(stmt: str) -> tuple[int, str, str]:
    words = stmt.split()
    upper = [w.upper().strip("(),") for w in words[:8]]
    first = upper[0] if upper else ""
    flat = " ".join(w.upper() for w in words)
    if first in ("EXPLAIN", "DESCRIBE", "DESC"):
        if "ANALYZE" in upper[1:3] and len(words) > 2:
            inner = stmt.split(None, 2 if upper[1] == "ANALYZE" else 3)[-1]
            return _statement(inner)
        return 1, "sql.read", f"{first} only reads"
    if first == "WITH":
        # The main statement after the CTEs, and PostgreSQL's data-modifying CTEs
        # (`WITH x AS (DELETE FROM t RETURNING *) SELECT …`) both change data.
        worst = (1, "sql.read", "SELECT only reads")
        for verb in ("DELETE", "UPDATE", "INSERT", "TRUNCATE", "DROP", "MERGE"):
            for m in re.finditer(r"[()]\s*(" + verb + r")\b", stmt, re.I):
                inner = stmt[m.start(1) :]
                if m.group(0)[0] == "(":
                    inner = inner.split(")", 1)[0]
                hit = _statement(inner)
                if hit[0] > worst[0]:
                    worst = hit
        return worst
    if first == "DROP":
        kind = upper[1] if len(upper) > 1 else ""
        if kind in ("DATABASE", "SCHEMA", "TABLE", "KEYSPACE", "COLLECTION"):
            return 4, f"sql.drop-{kind.lower()}", f"DROP {kind} permanently deletes data"
        return 3, "sql.drop", f"DROP {kind} removes a database object"
    if first == "TRUNCATE":
        return 4, "sql.truncate", "TRUNCATE deletes every row"
    if first == "DELETE":
        if " WHERE " not in f" {flat} ":
            return 4, "sql.delete-all", "DELETE without WHERE deletes every row"
        if re.search(r"\bWHERE\s+(1\s*=\s*1|TRUE|'1'\s*=\s*'1')\s*$", flat):
            return 4, "sql.delete-all", "DELETE … WHERE 1=1 deletes every row"
        return 2, "sql.delete", "DELETE with a WHERE clause"
    if first == "UPDATE":
        if " WHERE " not in f" {flat} ":
            return 4, "sql.update-all", "UPDATE without WHERE rewrites every row"
        return 2, "sql.update", "UPDATE with a WHERE clause"
    if first == "ALTER":
        if re.search(r"\bDROP\b", flat):
            return (
                4
                if re.search(r"\bDROP\s+(COLUMN|PARTITION)\b", flat)
                or re.search(r"\bDROP\s+(?!CONSTRAINT|INDEX|DEFAULT|NOT\b)\w+", flat)
                else 3,
                "sql.alter-drop",
                "ALTER … DROP removes a column/constraint",
            )
        return 2, "sql.alter", "ALTER changes the schema"
    if first in ("GRANT", "REVOKE"):
        return 3, "sql.privileges", f"{first} changes privileges"
    if first in (
        "SELECT",
        "SHOW",
        "VALUES",
        "TABLE",
        "PRAGMA",
        "\\D",
        "\\DT",
        "\\L",
        "USE",
        "SET",
        "BEGIN",
        "COMMIT",
        "START",
        "ROLLBACK",
        "LIST",
        "LISTEN",
        "FETCH",
        "DECLARE",
        "CLOSE",
        "ANALYZE",
    ):
        if first == "SELECT" and re.search(r"\bINTO\s+OUTFILE\b", flat):
            return 2, "sql.write", "SELECT … INTO OUTFILE writes a file"
        return 1, "sql.read", f"{first} only reads"
    if first == "COPY" and re.search(r"\bPROGRAM\b", flat):
        # PostgreSQL runs the (masked) string through the database server's shell.
        return 3, "sql.copy-program", "COPY … PROGRAM runs a shell command on the database server"
    if first in (
        "INSERT",
        "CREATE",
        "COPY",
        "REPLACE",
        "MERGE",
        "UPSERT",
        "VACUUM",
        "REINDEX",
        "CLUSTER",
        "COMMENT",
        "REFRESH",
        "CALL",
        "LOAD",
        "MSCK",
        "UNLOAD",
        "OPTIMIZE",
    ):
        return 2, "sql.write", f"{first} writes"
    if first in ("SHUTDOWN", "KILL"):
        return 3, "sql.admin", f"{first} stops the server/sessions"
    return 2, "sql.other", f"{first or 'statement'} (not recognised)"
