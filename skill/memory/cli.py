"""`memory.py` / `devops memory`: a thin click shell over skill.memory.Memory."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any

import click

from skill.cli_support import ErrorHandlingGroup, echo_json, not_blank
from skill.errors import InputError, StorageError, UsageError

KIND_CHOICE = click.Choice(["note", "deployment", "incident", "resolution", "ci_failure"])
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")


def _filters(f):
    """The structured filters shared by recall and list; they reach the command as **filters."""
    f = click.option("--tag", "tags", multiple=True, help="Only memories with this tag (repeatable).")(f)
    f = click.option(
        "--until", callback=not_blank, help="Created at or before (ISO time or a duration ago, e.g. 2h)."
    )(f)
    f = click.option(
        "--since", callback=not_blank, help="Created at or after (ISO time or a duration ago, e.g. 24h)."
    )(f)
    f = click.option("--env", help="Only this environment.")(f)
    f = click.option("--service", "-s", help="Only this service.")(f)
    f = click.option("--kind", "-k", type=KIND_CHOICE, help="Only this kind.")(f)
    return f


@contextmanager
def _memory():
    from skill.memory.service import Memory

    mem = Memory.open()
    try:
        yield mem
    finally:
        for warning in mem.warnings:
            click.echo(f"warning: {warning}", err=True)
        mem.close()


def _dump(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_dump(o) for o in obj]
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return obj


def _line(m) -> str:
    bits = [m.kind]
    for value in (m.service, m.env, m.version):
        if value:
            bits.append(value)
    flags = ""
    if m.deleted_at:
        flags += " [forgotten]"
    if m.superseded_by:
        flags += f" [superseded by {m.superseded_by}]"
    if m.linked_to:
        flags += f" [near-duplicate of {m.linked_to}]"
    return f"{m.id}  {m.created_at}  {'/'.join(bits)}{flags}\n    {m.text}"


@click.group(cls=ErrorHandlingGroup, context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Operational memory: remember deployments, incidents and notes; recall them; triage symptoms.

    \b
    Examples:
      memory.py remember "[devops] Deployed api to prod: v1.4.2"
      memory.py remember "[devops] Incident INC-42: checkout 502s after deploy, resolution=rollback to v1.4.1" --importance 0.9
      memory.py recall "checkout errors after release" --service api --explain
      memory.py triage "checkout returns 502" --service api --window 24h
    """


@cli.command()
@click.argument("text")
@click.option("--kind", "-k", type=KIND_CHOICE, help="Kind (default: from the protocol line, else note).")
@click.option("--service", "-s", help="Service the memory is about.")
@click.option("--env", help="Environment (prod, staging ...).")
@click.option("--version", "version_", help="Version involved.")
@click.option("--tag", "tags", multiple=True, help="A tag (repeatable).")
@click.option("--importance", type=float, default=0.5, show_default=True, help="0..1")
@click.option("--source", default="cli", show_default=True, help="Who or what wrote this.")
@click.option("--id", "mem_id", help="Use this id (kept and returned by recall).")
@click.option("--metadata", help="Extra fields as a JSON object.")
@click.option(
    "--supersedes", help="Id of a memory this one corrects (the old one is kept, marked superseded)."
)
@json_option
def remember(
    text, kind, service, env, version_, tags, importance, source, mem_id, metadata, supersedes, as_json
):
    """Store TEXT (secrets redacted, deduplicated). Protocol lines become deployments/incidents."""
    meta = None
    if metadata:
        try:
            meta = json.loads(metadata)
        except ValueError as exc:
            raise UsageError(f"--metadata is not valid JSON: {exc}") from exc
        if not isinstance(meta, dict):
            raise UsageError("--metadata must be a JSON object")
    fields = dict(
        kind=kind,
        service=service,
        env=env,
        version=version_,
        tags=tags,
        importance=importance,
        source=source,
        metadata=meta,
        id=mem_id,
        supersedes=supersedes,
    )
    from skill.memory.records import prepare
    from skill.memory.spool import spool_dir_record

    prepared = prepare(text, **fields)  # validates and redacts before anything touches storage
    try:
        ctx = _memory()
        mem = ctx.__enter__()
    except StorageError as exc:
        # The database cannot even be opened (locked, corrupt): keep the record, say where.
        from skill.paths import ensure_data_dir

        spool = spool_dir_record(ensure_data_dir(), prepared)
        raise StorageError(
            f"{exc.message}; the record was kept in {spool} and is stored on the next successful run",
            hint=exc.hint,
        ) from exc
    try:
        if supersedes:
            mem.get(supersedes)
        res = mem.remember(text, **fields)
    finally:
        ctx.__exit__(None, None, None)
    if as_json:
        echo_json(_dump(res))
        return
    if res.created:
        extra = f", near-duplicate of {res.linked_to}" if res.linked_to else ""
        click.echo(f"remembered {res.id} ({res.kind}, vector {res.vector}{extra})")
    elif res.deployment or res.incident:
        click.echo(f"text already remembered as {res.duplicate_of}; the event is recorded again")
    else:
        click.echo(f"already remembered as {res.duplicate_of}")
    if res.deployment:
        d = res.deployment
        rb = f" (rollback from {d.rolled_back_from})" if d.rolled_back_from else ""
        click.echo(f"deployment {d.id}: {d.service} {d.version} -> {d.env}{rb}")
    if res.incident:
        i = res.incident
        click.echo(
            f"incident {i.id} ({i.status}"
            + (f", service {i.service}" if i.service else "")
            + f"){': resolution ' + i.resolution if i.resolution else ''}"
        )
    for notice in res.notices:
        click.echo(f"note: {notice}")


@cli.command()
@click.argument("query")
@_filters
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--explain", is_flag=True, help="Show each score part (cosine, coverage, recency, importance).")
@click.option("--mode", type=click.Choice(["hybrid", "lexical", "vector"]), default="hybrid", hidden=True)
@json_option
def recall(query, limit, explain, mode, as_json, **filters):
    """Find memories relevant to QUERY (hybrid lexical + semantic, then recency and importance)."""
    if not query.strip():
        # The library lists newest first for an empty query; on the command line that is `list`.
        raise UsageError("recall needs a query", hint="`memory.py list` shows the newest memories")
    with _memory() as mem:
        hits = mem.recall(query, limit=limit, mode=mode, **filters)
    if as_json:
        echo_json(_dump(hits))
        return
    if not hits:
        click.echo("no memories match")
    elif not hits[0].parts.get("strong", True):
        from skill.memory.search import MATCH_THRESHOLD, match_strength

        click.echo(
            f"no strong match (best relevance {match_strength(hits[0].parts):.2f} < {MATCH_THRESHOLD:.2f}); "
            "the closest memories:"
        )
    for h in hits:
        click.echo(f"{h.score:.3f}  {_line(h.memory)}")
        if explain:
            click.echo("    " + "  ".join(f"{k}={v}" for k, v in h.parts.items()))


@cli.command(name="list")
@_filters
@click.option("--limit", "-n", type=click.IntRange(1, 100000), default=20, show_default=True)
@click.option("--all", "include_deleted", is_flag=True, help="Include forgotten and superseded memories.")
@json_option
def list_(limit, include_deleted, as_json, **filters):
    """List memories, newest first."""
    with _memory() as mem:
        rows = mem.list(limit=limit, include_deleted=include_deleted, **filters)
    if as_json:
        echo_json(_dump(rows))
        return
    for m in rows:
        click.echo(_line(m))
    if not rows:
        click.echo("no memories")


@cli.command()
@click.argument("memory_id")
@json_option
def show(memory_id, as_json):
    """Show one memory."""
    with _memory() as mem:
        rec = mem.get(memory_id)
    if as_json:
        echo_json(_dump(rec))
        return
    for key, value in rec.model_dump(mode="json").items():
        if value not in (None, [], {}):
            click.echo(f"{key:>14}: {value}")


@cli.command()
@click.argument("memory_id")
@click.option(
    "--hard", is_flag=True, help="Erase from SQLite and chroma (default: soft delete, kept for audit)."
)
@click.option("--reason", help="Why (kept in the audit log).")
@json_option
def forget(memory_id, hard, reason, as_json):
    """Forget a memory (soft delete, audited; --hard erases it)."""
    with _memory() as mem:
        res = mem.forget(memory_id, hard=hard, reason=reason)
    if as_json:
        echo_json(res)
    else:
        click.echo(f"{'erased' if hard else 'forgot'} {memory_id} (vector index: {res['index']})")


# ------------------------------------------------------------------------------ deployments
@cli.group(cls=ErrorHandlingGroup, invoke_without_command=True)
@click.pass_context
def deployments(ctx):
    """Deployments: record, list (what went where, when), last known good version."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(deployments_list)


@deployments.command(name="record")
@click.argument("service")
@click.argument("env")
@click.argument("version")
@click.option("--commit")
@click.option("--strategy", help="rolling, canary, blue-green ...")
@click.option(
    "--status",
    type=click.Choice(["succeeded", "failed", "rolled_back", "in_progress"]),
    default="succeeded",
    show_default=True,
)
@click.option("--started", help="ISO time or duration ago (default now).")
@click.option("--finished")
@click.option("--rolled-back-from", help="The version this deploy rolled back from.")
@click.option("--by", help="Who deployed.")
@click.option("--notes")
@json_option
def deployments_record(
    service, env, version, commit, strategy, status, started, finished, rolled_back_from, by, notes, as_json
):
    """Record a deployment of SERVICE to ENV at VERSION."""
    with _memory() as mem:
        dep = mem.record_deployment(
            service,
            env,
            version,
            commit=commit,
            strategy=strategy,
            status=status,
            started=started,
            finished=finished,
            rolled_back_from=rolled_back_from,
            by=by,
            notes=notes,
        )
    if as_json:
        echo_json(_dump(dep))
    else:
        click.echo(f"recorded {dep.id}: {dep.service} {dep.version} -> {dep.env} ({dep.status})")


@deployments.command(name="list")
@click.option("--service", "-s")
@click.option("--env")
@click.option("--since", callback=not_blank, help="e.g. 24h or an ISO time.")
@click.option("--limit", "-n", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--all", "include_retracted", is_flag=True, help="Include retracted deployments.")
@json_option
def deployments_list(service=None, env=None, since=None, limit=50, include_retracted=False, as_json=False):
    """List deployments, newest first ("what was deployed to api in the last 24h": -s api --since 24h)."""
    with _memory() as mem:
        rows = mem.deployments(
            service=service, env=env, since=since, limit=limit, include_retracted=include_retracted
        )
    if as_json:
        echo_json(_dump(rows))
        return
    for d in rows:
        extra = f" (rolled back from {d.rolled_back_from})" if d.rolled_back_from else ""
        if d.retracted_at:
            extra += f" [retracted {d.retracted_at}: {d.retracted_reason or 'no reason given'}]"
        click.echo(f"{d.id}  {d.started}  {d.service:<16} {d.env:<10} {d.version:<14} {d.status}{extra}")
    if not rows:
        click.echo("no deployments")


@deployments.command(name="retract")
@click.argument("deployment_id")
@click.option("--reason", help="Why (kept in the audit log).")
@json_option
def deployments_retract(deployment_id, reason, as_json):
    """Retract a deployment recorded by mistake (kept and audited; lists and last-good skip it)."""
    with _memory() as mem:
        dep = mem.retract_deployment(deployment_id, reason=reason)
    if as_json:
        echo_json(_dump(dep))
    else:
        click.echo(f"retracted {dep.id}: {dep.service} {dep.version} -> {dep.env}")


@deployments.command(name="last-good")
@click.argument("service")
@click.argument("env")
@click.option("--before", "before_version", help="Last good version before this one.")
@json_option
def deployments_last_good(service, env, before_version, as_json):
    """The last known good version of SERVICE in ENV (succeeded and never rolled back)."""
    with _memory() as mem:
        version = mem.last_good_version(service, env, before_version=before_version)
    if as_json:
        echo_json({"service": service, "env": env, "last_good_version": version})
    else:
        click.echo(version or f"no known good version of {service} in {env}")


# ------------------------------------------------------------------------------ incidents
@cli.group(cls=ErrorHandlingGroup, invoke_without_command=True)
@click.pass_context
def incidents(ctx):
    """Incidents: open, update, resolve, list, show."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(incidents_list)


def _echo_incident(inc, as_json: bool) -> None:
    if as_json:
        echo_json(_dump(inc))
        return
    click.echo(
        f"{inc.id} [{inc.severity}] {inc.status}: {inc.title}" + (f" ({inc.service})" if inc.service else "")
    )
    for key in ("summary", "root_cause", "resolution"):
        value = getattr(inc, key)
        if value:
            click.echo(f"    {key}: {value}")


@incidents.command(name="open")
@click.argument("title")
@click.option("--severity", default="SEV3", show_default=True, help="SEV1..SEV4")
@click.option("--service", "-s")
@click.option("--summary")
@click.option("--id", "inc_id", help="Incident id (default INC-<date>-<random>, a form people do not type).")
@json_option
def incidents_open(title, severity, service, summary, inc_id, as_json):
    """Open an incident."""
    with _memory() as mem:
        inc = mem.open_incident(title, severity=severity, service=service, summary=summary, id=inc_id)
    _echo_incident(inc, as_json)


@incidents.command(name="update")
@click.argument("incident_id")
@click.option("--title")
@click.option("--severity")
@click.option("--service", "-s")
@click.option("--status", type=click.Choice(["open", "mitigated", "resolved"]))
@click.option("--summary")
@click.option("--root-cause")
@click.option("--resolution")
@json_option
def incidents_update(incident_id, as_json, **fields):
    """Update an incident (every change is kept in its history)."""
    with _memory() as mem:
        inc = mem.update_incident(incident_id, **{k: v for k, v in fields.items() if v is not None})
    _echo_incident(inc, as_json)


@incidents.command(name="resolve")
@click.argument("incident_id")
@click.option("--resolution", "-r", required=True, help="What fixed it.")
@click.option("--root-cause")
@json_option
def incidents_resolve(incident_id, resolution, root_cause, as_json):
    """Resolve an incident with its resolution (remembered for future triage)."""
    with _memory() as mem:
        inc = mem.resolve_incident(incident_id, resolution=resolution, root_cause=root_cause)
    _echo_incident(inc, as_json)


@incidents.command(name="list")
@click.option("--status", type=click.Choice(["open", "mitigated", "resolved"]))
@click.option("--service", "-s")
@click.option("--limit", "-n", type=click.IntRange(1, 100000), default=50, show_default=True)
@json_option
def incidents_list(status=None, service=None, limit=50, as_json=False):
    """List incidents, newest first."""
    with _memory() as mem:
        rows = mem.incidents(status=status, service=service, limit=limit)
    if as_json:
        echo_json(_dump(rows))
        return
    for inc in rows:
        _echo_incident(inc, False)
    if not rows:
        click.echo("no incidents")


@incidents.command(name="show")
@click.argument("incident_id")
@json_option
def incidents_show(incident_id, as_json):
    """Show one incident."""
    with _memory() as mem:
        inc = mem.get_incident(incident_id)
    _echo_incident(inc, as_json)


# ------------------------------------------------------------------------------ triage
@cli.command()
@click.argument("symptom")
@click.option("--service", "-s", help="The affected service (scopes deploys and changes).")
@click.option("--window", "-w", default="24h", show_default=True, help="How far back to look for changes.")
@click.option("--limit", "-n", type=click.IntRange(1, 100), default=5, show_default=True)
@json_option
def triage(symptom, service, window, limit, as_json):
    """Similar past incidents with resolutions, recent deploys/changes, last good version."""
    with _memory() as mem:
        rep = mem.triage(symptom, service=service, window=window, limit=limit)
        mem.warnings = []  # already inside the report
    if as_json:
        echo_json(_dump(rep))
        return
    click.echo(
        f"Triage: {rep.symptom}" + (f" (service {rep.service}, since {rep.since})" if rep.service else "")
    )
    click.echo(f"\nRecent deploys ({len(rep.recent_deploys)}):")
    for d in rep.recent_deploys:
        click.echo(f"  {d.started}  {d.service} {d.version} -> {d.env} ({d.status})")
    click.echo(f"\nRecent changes ({len(rep.recent_changes)}):")
    for m in rep.recent_changes[:10]:
        click.echo(f"  {m.created_at}  {m.kind}: {m.text[:100]}")
    click.echo(f"\nSimilar past incidents ({len(rep.similar_incidents)}):")
    if rep.no_strong_match:
        click.echo(f"  {rep.no_strong_match}")
    for s in rep.similar_incidents:
        label = f" [other service: {s.service or 'unknown'}]" if s.match == "other service" else ""
        click.echo(f"  {s.relevance:.3f}  {s.id}: {(s.title or s.text)[:90]}{label}")
        if s.resolution:
            click.echo(f"         resolution: {s.resolution}")
    click.echo(f"\nLast good version: {rep.last_good_version or 'unknown'}")
    click.echo(f"Suggestion: {rep.suggestion}")
    for w in rep.warnings:
        click.echo(f"warning: {w}", err=True)


# ------------------------------------------------------------------------------ import / export / maintenance
@cli.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--batch-size", type=click.IntRange(1, 10000), default=256, show_default=True)
@json_option
def import_(file, batch_size, as_json):
    """Import JSON Lines from FILE ('-' for stdin). Idempotent: rerun after a crash to finish."""
    if file == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            with open(file, encoding="utf-8") as fh:
                lines = fh.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {file}: {exc}") from exc
    total = sum(1 for line in lines if line.strip())
    with _memory() as mem:
        if as_json or not sys.stderr.isatty():
            res = mem.import_jsonl(lines, batch_size=batch_size)
        else:
            with click.progressbar(length=total, label="importing", file=sys.stderr) as bar:
                res = mem.import_jsonl(lines, batch_size=batch_size, progress=bar.update)
    if as_json:
        echo_json(res)
    else:
        click.echo(f"read {res['read']}, created {res['created']}, already present {res['duplicates']}")
        for err in res["errors"][:20]:
            click.echo(f"skipped {err}", err=True)
    if res["errors"]:
        sys.exit(1)


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--all", "include_deleted", is_flag=True, help="Include forgotten memories.")
@json_option
def export(file, include_deleted, as_json):
    """Export memories as JSON Lines to FILE (default stdout)."""

    with _memory() as mem:
        if not file or file == "-":
            n = mem.export_jsonl(sys.stdout, include_deleted=include_deleted)
            if as_json:
                click.echo(json.dumps({"exported": n}), err=True)
            return
        from skill.files import open_for_output

        counted: list[int] = []
        try:
            open_for_output(
                file, lambda fh: counted.append(mem.export_jsonl(fh, include_deleted=include_deleted))
            )
        except OSError as exc:
            raise InputError(f"cannot write {file}: {exc.strerror or exc}") from exc
        n = counted[0]
    if as_json:
        echo_json({"exported": n, "file": file})
    else:
        click.echo(f"exported {n} memories to {file}")


@cli.command()
@click.option("--full", is_flag=True, help="Re-embed everything (after a model change).")
@json_option
def reindex(full, as_json):
    """Embed pending memories and rebuild the chroma index from SQLite."""
    with _memory() as mem:
        if as_json:
            res = mem.reindex(full=full)
        else:
            state = {"bar": None}

            def progress(done: int, total: int) -> None:
                if state["bar"] is None:
                    state["bar"] = click.progressbar(length=total, label="embedding", file=sys.stderr)
                    state["bar"].__enter__()
                bar = state["bar"]
                bar.update(done - bar.pos)

            try:
                res = mem.reindex(full=full, progress=progress)
            finally:
                if state["bar"] is not None:
                    state["bar"].__exit__(None, None, None)
    if as_json:
        echo_json(res)
    else:
        click.echo(
            f"embedded {res['embedded']}, pushed {res.get('pushed', 0)} to chroma, removed {res.get('removed', 0)} stale"
        )
    if res.get("index_error"):
        # The vector index was not brought in line: say so in the exit code, not only in text.
        raise StorageError(f"reindex could not update the vector index: {res['index_error']}")


@cli.command()
@json_option
def stats(as_json):
    """Counts: memories, vectors in SQLite and in chroma, pending, deployments, incidents."""
    with _memory() as mem:
        st = mem.stats()
    if as_json:
        echo_json(_dump(st))
        return
    for key, value in st.model_dump(mode="json").items():
        click.echo(f"{key:>16}: {value}")


def main() -> None:
    cli(prog_name="memory.py")


if __name__ == "__main__":  # pragma: no cover
    main()
