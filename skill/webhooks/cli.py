"""`devops inbox`: the webhook queue of `devops serve` — what waits, what runs, what is dead."""

from __future__ import annotations

import time
from contextlib import contextmanager

import click

from skill.cli_support import ErrorHandlingGroup, echo_json

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@contextmanager
def _queue():
    from skill.webhooks.inbox import Inbox

    queue = Inbox()
    try:
        yield queue
    finally:
        queue.close()


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts)) if ts else "-"


@click.group("inbox", cls=ErrorHandlingGroup)
def inbox() -> None:
    """The webhook queue: list items, show one, retry a dead one."""


@inbox.command("list")
@click.option(
    "--status",
    type=click.Choice(["pending", "processing", "done", "dead"]),
    default=None,
    help="Only items in this state (dead: retries used up).",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@json_option
def inbox_list(status: str | None, limit: int, as_json: bool) -> None:
    """Items, newest first, with the queue's counts.   devops inbox list --status dead"""
    with _queue() as queue:
        items, counts = queue.list(status=status, limit=limit), queue.counts()
    if as_json:
        echo_json({"counts": counts, "items": [i.model_dump(mode="json") for i in items]})
        return
    click.echo("queue: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "empty"))
    for i in items:
        extra = i.run_id or ""
        if i.status == "processing":
            extra = f"held by {i.lease_owner} until {_when(i.lease_until)}"
        elif i.status == "dead":
            extra = (i.error or "")[:80]
        click.echo(
            f"{i.id:>6}  {_when(i.received)}  {i.status:<10} {i.attempts}x  {i.source}:{i.delivery_id[:40]}  {extra}"
        )


@inbox.command("show")
@click.argument("item_id", type=int)
@json_option
def inbox_show(item_id: int, as_json: bool) -> None:
    """One item: state, attempts, lease, run, error.   devops inbox show 42"""
    with _queue() as queue:
        item = queue.get(item_id)
    if as_json:
        echo_json(item.model_dump(mode="json"))
        return
    click.echo(
        f"item {item.id}  {item.source}:{item.delivery_id}  status {item.status}  attempts {item.attempts}"
    )
    click.echo(f"received {_when(item.received)}  finished {_when(item.finished)}")
    if item.lease_owner:
        click.echo(f"lease: {item.lease_owner} until {_when(item.lease_until)}")
    if item.run_id:
        click.echo(f"run: {item.run_id} ({item.run_status})   devops runs show {item.run_id}")
    if item.error:
        click.echo(f"error: {item.error}")


@inbox.command("retry")
@click.argument("item_id", type=int)
@json_option
def inbox_retry(item_id: int, as_json: bool) -> None:
    """Put a dead item back in the queue with fresh attempts.   devops inbox retry 42"""
    with _queue() as queue:
        item = queue.retry(item_id)
    if as_json:
        echo_json(item.model_dump(mode="json"))
    else:
        click.echo(f"item {item.id} is pending again; a running `devops serve` picks it up")
