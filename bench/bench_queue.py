"""Webhook queue figures: real `devops serve` processes, real HTTP, the real graph per event.

For each setup, EVENTS generic `push` events (each one a graph run: route -> memory record) are
posted by CLIENTS concurrent HTTP clients, spread over the servers:

    sqlite   1 process   the embedded inbox (the baseline)
    postgres 1 process   one PostgreSQL (skill.storage.local_postgres.LocalPostgres)
    postgres 2 processes the same PostgreSQL, two `devops serve` sharing its queue

Reported: accepted/s (202s over the posting time), processed/s (items over first accept -> last
done), p50/p99 accept -> done (the inbox's own received/finished stamps), lost (a 202 whose item
is not done) and duplicated (an item processed more than once, from the servers' JSON logs).

    python bench/bench_queue.py [--events 2000] [--clients 8] [--only sqlite|postgres] [--processes 1|2]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "bench-token"


class Serve:
    def __init__(self, env: dict[str, str], log: Path):
        self.log = log
        with open(log, "wb") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "skill.cli", "serve", "--port", "0", "--workers", "1"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )
        self.url = ""
        deadline = time.monotonic() + 120
        while not self.url:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("devops serve did not start:\n" + log.read_text()[-2000:])
            for line in self.lines():
                if line.get("msg") == "listening":
                    self.url = f"http://127.0.0.1:{line['port']}"
            time.sleep(0.1)
        while httpx.get(self.url + "/readyz", timeout=5).status_code != 200:
            time.sleep(0.1)

    def lines(self) -> list[dict]:
        out = []
        for raw in self.log.read_text().splitlines():
            try:
                out.append(json.loads(raw))
            except ValueError:
                pass
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _post_all(urls: list[str], events: int, clients: int, tag: str) -> tuple[list[int], float]:
    """Post the events from ``clients`` threads; (ids accepted with 202, seconds spent posting)."""
    accepted: list[int] = []
    lock = threading.Lock()
    counter = iter(range(events))

    def client(n: int) -> None:
        with httpx.Client(timeout=30) as http:
            for i in counter:
                body = json.dumps(
                    {"type": "push", "id": f"{tag}-{i}", "service": f"svc-{i % 7}", "commit": f"{i:07x}"}
                )
                url = urls[i % len(urls)] + "/webhooks/generic"
                r = http.post(url, content=body, headers={"Authorization": f"Bearer {TOKEN}"})
                if r.status_code == 202:
                    with lock:
                        accepted.append(r.json()["id"])

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return accepted, time.monotonic() - started


def run_setup(
    name: str, processes: int, events: int, clients: int, base_env: dict[str, str], tmp: Path
) -> dict:
    home = tmp / f"home-{name}-{processes}"
    env = {**base_env, "DEVOPS_HOME": str(home), "DEVOPS_WEBHOOK_TOKEN": TOKEN}
    servers = [Serve(env, tmp / f"serve-{name}-{processes}-{n}.log") for n in range(processes)]
    try:
        accepted, posting = _post_all([s.url for s in servers], events, clients, f"{name}{processes}")
        os.environ.update({k: v for k, v in env.items() if k.startswith("DEVOPS_")})
        from skill.webhooks.inbox import Inbox

        queue = Inbox()
        deadline = time.monotonic() + 3600
        while True:
            counts = queue.counts()
            if counts.get("done", 0) + counts.get("dead", 0) >= len(accepted):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
        items = {i.id: i for i in queue.list(limit=events * 2)}
        queue.close()
    finally:
        for s in servers:
            s.stop()
    processed = Counter(line["item"] for s in servers for line in s.lines() if line.get("msg") == "processed")
    done = [items[i] for i in accepted if i in items and items[i].status == "done"]
    latencies = sorted((i.finished - i.received) * 1000 for i in done)
    first, last = min(i.received for i in done), max(i.finished for i in done)
    return {
        "setup": f"{name}, {processes} serve process{'es' if processes > 1 else ''}",
        "events": events,
        "accepted": len(accepted),
        "accepted_per_s": len(accepted) / posting,
        "processed_per_s": len(done) / (last - first),
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
        "lost": len(accepted) - len(done),
        "duplicated": sum(1 for n in processed.values() if n > 1),
        "per_process": [sum(1 for line in s.lines() if line.get("msg") == "processed") for s in servers],
    }


def queue_ops(name: str, events: int, env: dict[str, str], tmp: Path) -> dict:
    """The queue alone, in one process: add, claim and finish each item (no HTTP, no graph)."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("DEVOPS_")})
    os.environ["DEVOPS_HOME"] = str(tmp / f"ops-{name}")
    if "DEVOPS_DATABASE_URL" not in env:
        os.environ.pop("DEVOPS_DATABASE_URL", None)
    from skill.webhooks.inbox import Inbox

    queue = Inbox()
    started = time.monotonic()
    for i in range(events):
        queue.add("generic", f"ops-{i}", b"{}", {})
    added = time.monotonic()
    while (item := queue.claim("bench/0/w0")) is not None:
        queue.finish(item["id"], "bench/0/w0", run_id=None, run_status="done")
    done = time.monotonic()
    queue.close()
    return {
        "setup": f"{name} (queue only)",
        "add_per_s": events / (added - started),
        "claim_finish_per_s": events / (done - added),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    parser.add_argument(
        "--processes",
        type=int,
        choices=[1, 2],
        default=None,
        help="Only this many serve processes on PostgreSQL.",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    base = {k: v for k, v in os.environ.items() if k != "DEVOPS_DATABASE_URL"}
    base.update(DEVOPS_CONFIG_DIR=str(tmp / "cfg"), DEVOPS_LLM="off")
    (tmp / "cfg").mkdir()
    results, ops = [], []
    if args.only in (None, "sqlite"):
        ops.append(queue_ops("sqlite", args.events, base, tmp))
        results.append(run_setup("sqlite", 1, args.events, args.clients, base, tmp))
    if args.only in (None, "postgres"):
        from skill.storage.local_postgres import LocalPostgres

        # durable: fsync on, as a real server runs (the test fixtures turn it off for speed)
        with LocalPostgres(durable=True) as pg:
            for processes in [args.processes] if args.processes else (1, 2):
                url = pg.create_database(f"queue{processes}")
                env = {**base, "DEVOPS_DATABASE_URL": url}
                if processes == 1 or args.processes:
                    ops_env = {**base, "DEVOPS_DATABASE_URL": pg.create_database("queue_ops")}
                    ops.append(queue_ops("postgres", args.events, ops_env, tmp))
                results.append(run_setup("postgres", processes, args.events, args.clients, env, tmp))
    print(
        f"webhook queue, {args.events} generic push events, {args.clients} HTTP clients, {os.cpu_count()} CPUs"
    )
    print(
        f"{'setup':<32} {'accepted':>9} {'acc/s':>7} {'done/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'lost':>5} {'dup':>4}  per process"
    )
    for r in results:
        print(
            f"{r['setup']:<32} {r['accepted']:>9} {r['accepted_per_s']:>7.1f} {r['processed_per_s']:>7.1f} "
            f"{r['p50_ms']:>8.0f} {r['p99_ms']:>8.0f} {r['lost']:>5} {r['duplicated']:>4}  {r['per_process']}"
        )
    for o in ops:
        print(
            f"{o['setup']:<32} add {o['add_per_s']:>7.0f}/s   claim+finish {o['claim_finish_per_s']:>7.0f}/s"
        )
    bad = [r for r in results if r["lost"] or r["duplicated"] or r["accepted"] < r["events"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
