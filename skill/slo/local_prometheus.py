"""A real Prometheus on 127.0.0.1 with generated history, for the tests, the bench and the demo.

The Debian ``prometheus`` package provides ``prometheus`` and ``promtool``. History is written as
OpenMetrics and turned into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics``
before the server starts, so a freshly started server answers range and rate queries over weeks
of data. The server gets a free port, a temp data dir and its own config; it is never the
system service.

Synthetic services are piecewise constant: each phase has a request rate and an error rate per
minute, written as two counters (``code="200"`` and ``code="500"``) one sample a minute. The
counters start at a large offset so Prometheus' extrapolation of ``rate()`` towards zero never
kicks in: the error ratio over any window is then exactly Δerrors / Δrequests of the samples in
it, which the tests compute on their own to check what ``devops slo status`` reports.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from skill.errors import ToolFailedError, ToolMissingError

STEP = 60  # seconds between recent samples
SPARSE_STEP = 43200  # seconds between samples older than DENSE_DAYS
DENSE_DAYS = 3
COUNTER_OFFSET = 10_000_000
METRIC = "http_requests_total"


@dataclass(frozen=True)
class Phase:
    minutes: int
    requests: int  # per minute, errors included
    errors: int  # per minute


@dataclass
class SyntheticService:
    """A service's request history, oldest phase first; the last phase ends at ``end``."""

    name: str
    phases: list[Phase]
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def minutes(self) -> int:
        return sum(p.minutes for p in self.phases)

    def samples(self, end: int) -> Iterator[tuple[int, int, int]]:
        """(timestamp, requests counter, errors counter), ending at ``end``.

        One sample a minute over the last DENSE_DAYS (the alert windows up to 3d need them),
        one every SPARSE_STEP before: backfilling cost grows with samples x 2h blocks, and
        only the SLO window (28d/30d) reaches that far back.
        """
        t = end - self.minutes * STEP
        dense_from = end - DENSE_DAYS * 86400
        requests = errors = COUNTER_OFFSET
        yield t, requests, errors
        for phase in self.phases:
            for _ in range(phase.minutes):
                t += STEP
                requests += phase.requests
                errors += phase.errors
                if t >= dense_from or (end - t) % SPARSE_STEP == 0:
                    yield t, requests, errors


def steady(name: str, days: int = 31, **labels: str) -> SyntheticService:
    """2000 requests a minute, 1 error a minute (0.05%: half the budget of a 99.9% SLO)."""
    return SyntheticService(name, [Phase(days * 1440, 2000, 1)], labels)


def fast_burner(name: str, days: int = 31, **labels: str) -> SyntheticService:
    """Steady, then 2% errors for the last two days and 10% in the last two hours."""
    return SyntheticService(
        name,
        [Phase((days - 2) * 1440, 2000, 1), Phase(2 * 1440 - 120, 2000, 40), Phase(120, 2000, 200)],
        labels,
    )


def short_outage(name: str, days: int = 31, **labels: str) -> SyntheticService:
    """Steady, with a 15-minute full outage that ended 45 minutes before the end."""
    return SyntheticService(
        name,
        [Phase(days * 1440 - 60, 2000, 1), Phase(15, 2000, 2000), Phase(45, 2000, 1)],
        labels,
    )


def idle(name: str, days: int = 31, **labels: str) -> SyntheticService:
    """Steady, then no traffic at all for the last 40 minutes: error ratios are 0/0 = NaN."""
    return SyntheticService(name, [Phase(days * 1440 - 40, 2000, 1), Phase(40, 0, 0)], labels)


def write_openmetrics(services: list[SyntheticService], path: Path, end: int) -> None:
    """The services' counters in the OpenMetrics text format promtool backfills from."""
    with path.open("w") as out:
        out.write(f"# TYPE {METRIC.removesuffix('_total')} counter\n")
        for svc in services:
            extra = "".join(f',{k}="{v}"' for k, v in sorted(svc.labels.items()))
            ok_series = f'{METRIC}{{service="{svc.name}",code="200"{extra}}}'
            err_series = f'{METRIC}{{service="{svc.name}",code="500"{extra}}}'
            rows = list(svc.samples(end))
            # the ok counter holds requests minus errors; both start at the offset
            out.writelines(f"{ok_series} {r - e + COUNTER_OFFSET} {t}\n" for t, r, e in rows)
            out.writelines(f"{err_series} {e} {t}\n" for t, r, e in rows)
        out.write("# EOF\n")


def binaries() -> tuple[str, str] | None:
    prom, tool = shutil.which("prometheus"), shutil.which("promtool")
    return (prom, tool) if prom and tool else None


def require_binaries() -> tuple[str, str]:
    found = binaries()
    if not found:
        raise ToolMissingError(
            "prometheus/promtool not found", hint="apt-get install prometheus (the Debian package)"
        )
    return found


def promtool(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    _, tool = require_binaries()
    return subprocess.run(
        [tool, *args], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalPrometheus:
    """``with LocalPrometheus(services, rules=[...]) as prom: prom.url`` — stopped on exit."""

    def __init__(
        self,
        services: list[SyntheticService] = (),
        *,
        rules: list[Path] = (),
        end: int | None = None,
        workdir: Path | None = None,
        evaluation_interval: str = "1s",
    ):
        self.services = list(services)
        self.rules = [Path(r) for r in rules]
        # samples fall on whole minutes; queries at half minutes then never sit on a window edge
        self.end = end if end is not None else (int(time.time()) // STEP) * STEP - STEP
        self._own_dir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="devops-prometheus-"))
        self.evaluation_interval = evaluation_interval
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _backfill(self, data: Path) -> None:
        if not self.services:
            return
        source = self.workdir / "history.om"
        write_openmetrics(self.services, source, self.end)
        done = promtool("tsdb", "create-blocks-from", "openmetrics", "--quiet", str(source), str(data))
        source.unlink()
        if done.returncode:
            raise ToolFailedError(f"promtool backfill failed: {(done.stderr or done.stdout).strip()[:300]}")

    def _config(self) -> Path:
        lines = ["global:", f"  evaluation_interval: {self.evaluation_interval}", "  scrape_interval: 1m"]
        if self.rules:
            lines.append("rule_files:")
            lines += [f"  - {str(r.resolve())!r}" for r in self.rules]
        path = self.workdir / "prometheus.yml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self, timeout: float = 60) -> LocalPrometheus:
        prom, _ = require_binaries()
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        self._backfill(data)
        config = self._config()
        self.port = _free_port()
        log = (self.workdir / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            [
                prom,
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                # backfilled history is weeks old: the default 15d retention would delete it
                "--storage.tsdb.retention.time=3650d",
                "--web.enable-lifecycle",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.workdir,
        )
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ToolFailedError(f"prometheus exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise ToolFailedError(f"prometheus not ready after {timeout:.0f}s: {self.log_tail()}")

    def log_tail(self, lines: int = 5) -> str:
        path = self.workdir / "prometheus.log"
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._own_dir and not os.environ.get("DEVOPS_KEEP_PROMETHEUS"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalPrometheus:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
