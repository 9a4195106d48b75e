"""Repository checks: what a manifest linter cannot see (code, docs, CI, IaC, ownership).

Each check looks for evidence in the files the loader read and cites the first file and line
it found. They are heuristics by nature: docs/readiness.md lists what each one accepts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from skill.findings import Finding
from skill.nodes.readiness.checks import CHECKS
from skill.nodes.readiness.loader import LMap, Scan, TextFile
from skill.redact import find_secrets

# Token-shaped secrets only: key=value pairs in configs are too often references or examples.
STRONG_SECRET_KINDS = {
    "private-key",
    "aws-access-key",
    "github-token",
    "gitlab-token",
    "slack-token",
    "slack-webhook",
    "google-api-key",
    "llm-api-key",
    "stripe-key",
}


# Cheap pre-filter: only text holding one of the token prefixes goes through the full rules.
_SECRET_HINT = re.compile(
    r"PRIVATE KEY|\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}|gh[pousr]_|github_pat_|"
    r"\bgl[a-z]{2,6}-|xox[abposr]-|hooks\.slack\.com|AIza|\bsk-|[rs]k_(?:live|test)_"
)


def strong_secrets(text: str) -> list[str]:
    if not _SECRET_HINT.search(text or ""):
        return []
    return [k for k in find_secrets(text) if k in STRONG_SECRET_KINDS]


@dataclass
class Hit:
    file: str
    line: int
    text: str


class Corpus:
    """The scanned text files by category, with line-aware search."""

    def __init__(self, scan: Scan):
        self.scan = scan
        self.by_cat: dict[str, list[TextFile]] = {}
        for tf in scan.texts:
            self.by_cat.setdefault(tf.category, []).append(tf)

    def files(self, *cats: str) -> list[TextFile]:
        out: list[TextFile] = []
        for c in cats:
            out.extend(self.by_cat.get(c, []))
        return out

    def search(
        self, pattern: re.Pattern[str], *cats: str, files: Iterable[TextFile] | None = None
    ) -> Hit | None:
        for tf in files if files is not None else self.files(*cats):
            m = pattern.search(tf.text)
            if m:
                line = tf.text.count("\n", 0, m.start()) + 1
                return Hit(tf.rel, line, m.group(0)[:80])
        return None

    def has_source(self) -> bool:
        return bool(self.by_cat.get("source"))


def _f(
    check_id: str, status: str, message: str, obj: str, hit: Hit | None = None, line: int | None = None
) -> Finding:
    return CHECKS[check_id].finding(
        status, message, file=hit.file if hit else None, line=hit.line if hit else line, object=obj
    )


def _rx(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


HEALTH_RX = _rx(r"""["'`](/(?:healthz?|livez|readyz|ready|healthcheck|_health|ping)(?:/[A-Za-z]*)?)["'`]""")
# Health endpoints provided by a library: Spring Actuator, the gRPC health protocol.
HEALTH_LIB_RX = _rx(
    r"spring-boot-starter-actuator|grpc[._]health[._]v1|health_pb2_grpc|grpc-health-probe|HealthCheckService"
)
SIGTERM_RX = _rx(
    r"SIGTERM|signal\.Notify\(|process\.on\(\s*['\"]SIG|addShutdownHook|on_event\(\s*['\"]shutdown|"
    r"graceful_timeout|\.Shutdown\(\s*ctx"
)
SIGTERM_CALL_RX = _rx(
    r"signal\.signal\([^)\n]*SIGTERM|signal\.Notify\([^)\n]*SIGTERM|process\.on\(\s*['\"]SIGTERM|"
    r"add_signal_handler\([^)\n]*SIGTERM|addShutdownHook"
)
STRUCTLOG_RX = _rx(
    r"\bstructlog\b|python-json-logger|pythonjsonlogger|JSONRenderer|Json(?:Formatter|Renderer)|JSONFormatter|"
    r"go\.uber\.org/zap|rs/zerolog|logrus\.JSONFormatter|slog\.NewJSONHandler|\bpino\b|\bbunyan\b|"
    r"format\.json\(\)|logstash-logback-encoder|LogstashEncoder|\bSerilog\b|serialize\s*=\s*True"
)
PY_JSON_FORMATTER_RX = _rx(r"class\s+\w+\((?:logging\.)?Formatter\)[\s\S]{0,2000}?json\.dumps")
TRACING_RX = _rx(
    r"opentelemetry|OTEL_[A-Z_]+|\botel\b|jaeger|zipkin|\bddtrace\b|dd-trace|"
    r"aws[-_]xray|xray_recorder|elastic-apm|traces_sample_rate"
)
TIMEOUT_RX = _rx(
    r"\btimeout\s*=\s*(?:[\d(]|httpx\.Timeout|aiohttp\.ClientTimeout|[A-Z_]+\b)|httpx\.Timeout\(|ClientTimeout\(|"
    r"Timeout:\s*\d|context\.WithTimeout|connect_timeout|read_timeout|statement_timeout|socket_timeout|"
    r"\btimeout:\s*\d|\.setTimeout\(|Duration\.of(?:Seconds|Millis)"
)
RETRY_RX = _rx(
    r"\btenacity\b|\bbackoff\b|Retry\(|wait_exponential|\bretrying\b|resilience4j|\bPolly\b|"
    r"circuit[_ -]?breaker|CircuitBreaker|pybreaker|cenkalti/backoff|axios-retry|p-retry|async-retry|"
    r"exponential[_ ]?backoff",
    re.IGNORECASE,
)
TEST_RUN_RX = _rx(
    r"\b(?:pytest|py\.test|tox|nox|go test|(?:npm|yarn|pnpm)(?: run)? test|jest|vitest|mocha|"
    r"mvn\b[^\n]*\b(?:test|verify)|gradlew?\b[^\n]*\b(?:test|check|build)|cargo test|make (?:test|check)|"
    r"rspec|phpunit|dotnet test|unittest|ctest|bazel test|bun test|deno test|mix test|cargo nextest)\b"
)
TEST_PATH_RX = _rx(
    r"(?:^|/)(?:tests?|__tests__|spec)/|(?:^|/)test_[^/]+\.py$|_test\.(?:py|go)$|\.(?:test|spec)\.[cm]?[jt]sx?$|"
    r"Tests?\.(?:java|kt|cs)$|_spec\.rb$"
)
CI_PATH_RX = _rx(
    r"(?:^|/)(?:\.github/workflows/[^/]+\.ya?ml|\.gitlab-ci\.yml|Jenkinsfile|\.circleci/config\.yml|"
    r"azure-pipelines\.ya?ml|bitbucket-pipelines\.yml|\.drone\.yml|\.travis\.yml|\.buildkite/[^/]+\.ya?ml|"
    r"\.woodpecker\.ya?ml)$"
)
ENV_FILE_RX = _rx(r"(?:^|/)\.env(?:\.[A-Za-z0-9_-]+)?$")
ENV_EXAMPLE_RX = _rx(r"\.(?:example|sample|template|dist|defaults?|tpl)$", re.IGNORECASE)
BINARY_KEY_RX = _rx(r"\.(?:p12|pfx|jks|keystore)$", re.IGNORECASE)
# Test code and fixtures often need secret-shaped strings; a hit there is still reported, as a
# warning to check it is a fake, but does not fail the check (secrets in shipped code do).
TEST_PATH_RX = _rx(
    r"(?:^|/)(?:tests?|__tests__|spec|fixtures?|testdata|test-data|bench|benchmarks?)/"
    r"|(?:^|/)test_[^/]*$|_test\.[a-z]+$|\.(?:test|spec)\.[a-z]+$"
)
# AWS documents its example keys with an EXAMPLE suffix (AKIAIOSFODNN7EXAMPLE): never real.
AWS_EXAMPLE_KEY_RX = _rx(r"\b(?:AKIA|ASIA)[A-Z0-9]{9}EXAMPLE\b")
SLO_DOC_RX = _rx(r"\bSLOs?\b|service[ -]level objective", re.IGNORECASE)
ERROR_BUDGET_RX = _rx(r"error[ -]budget", re.IGNORECASE)
PERCENT_RX = _rx(r"\b\d{2}(?:\.\d+)?\s?%")
SLO_IAC_RX = _rx(
    r"resource\s+\"(?:google_monitoring_slo|datadog_service_level_objective|newrelic_service_level)\""
)
ALERT_YAML_RX = _rx(r"^\s*-?\s*alert:\s*\S", re.MULTILINE)
ALERT_IAC_RX = _rx(
    r"resource\s+\"(?:datadog_monitor|aws_cloudwatch_metric_alarm|google_monitoring_alert_policy|"
    r"azurerm_monitor_metric_alert|newrelic_(?:nrql_)?alert_condition|grafana_rule_group)\""
)
DASH_IAC_RX = _rx(
    r"resource\s+\"(?:grafana_dashboard|datadog_dashboard\w*|aws_cloudwatch_dashboard|google_monitoring_dashboard|"
    r"azurerm_portal_dashboard|newrelic_one_dashboard)\""
)
DASH_JSON_RX = _rx(r"\"panels\"\s*:\s*\[")
BACKUP_IAC_RX = _rx(
    r"backup_retention_period\s*=\s*[1-9]|resource\s+\"aws_backup_plan\"|backup_configuration\s*\{|"
    r"point_in_time_recovery\s*\{|resource\s+\"azurerm_backup_policy\w*\"|snapshot_retention_limit\s*=\s*[1-9]|"
    r"resource\s+\"google_sql_database_instance\"[\s\S]{0,3000}?backup_configuration"
)
BACKUP_DISABLED_RX = _rx(r"backup_retention_period\s*=\s*0\b")
RESTORE_RX = _rx(
    r"(?im)^#+[^\n]*\brestor|\bpg_restore\b|\bvelero restore\b|\brestore-db-(?:instance|cluster)|"
    r"\bgcloud sql backups restore\b|\baz \S+ (?:\S+ )?restore\b|\bmongorestore\b"
)
STAGING_PATH_RX = _rx(r"(?:^|[/._-])(?:staging|stage|stg|preprod|pre-prod)(?:[/._-]|$)", re.IGNORECASE)
STAGING_CI_RX = _rx(r"environment:\s*(?:\n\s*name:\s*)?['\"]?(?:staging|stage|stg|preprod)\b", re.IGNORECASE)
ROLLBACK_RX = _rx(r"roll[\s-]?back|rollout undo|helm rollback", re.IGNORECASE)
CANARY_RX = _rx(r"strategy\s*[:=]\s*['\"]?(?:canary|blue[-_]?green)", re.IGNORECASE)
BURN_RX = _rx(r"burn[_ -]?rate|predict_linear|slo:sli_error|error_budget_burn", re.IGNORECASE)
EB_POLICY_RX = _rx(r"error[ -]budget policy", re.IGNORECASE)
CHAOS_DOC_RX = _rx(r"game[ -]?day|chaos (?:experiment|test|engineering)", re.IGNORECASE)
OWNER_KEYS = ("owner", "team", "app.kubernetes.io/owner", "owner.devops/team")


def _docs(scan: Scan, corpus: Corpus) -> list[TextFile]:
    return corpus.files("doc")


def _k8s_docs(scan: Scan) -> Iterable[tuple[str, LMap]]:
    for rel, doc in scan.yaml_docs:
        if isinstance(doc, LMap):
            yield rel, doc


# ------------------------------------------------------------------------------- checks ----
def check_health_endpoint(scan: Scan, c: Corpus, obj: str) -> Finding:
    if not c.has_source():
        return _f("repo.health-endpoint", "n/a", "no service code found", obj)
    hit = c.search(HEALTH_RX, "source") or c.search(HEALTH_LIB_RX, "source", "other")
    if hit:
        return _f("repo.health-endpoint", "pass", f"health route {hit.text}", obj, hit)
    return _f("repo.health-endpoint", "fail", "no /healthz-style route in the service code", obj)


def check_tests(scan: Scan, c: Corpus, obj: str) -> Finding:
    if not c.has_source():
        return _f("repo.tests", "n/a", "no service code found", obj)
    tests = [
        p
        for p in scan.paths
        if TEST_PATH_RX.search(p)
        and PurePosixPath(p).suffix
        in {".py", ".go", ".js", ".ts", ".tsx", ".jsx", ".mjs", ".java", ".kt", ".cs", ".rb", ".rs"}
    ]
    if tests:
        return _f(
            "repo.tests", "pass", f"{len(tests)} test file(s), e.g. {tests[0]}", obj, Hit(tests[0], 1, "")
        )
    return _f("repo.tests", "fail", "no unit tests found", obj)


def check_secrets_committed(scan: Scan, c: Corpus, obj: str) -> Finding:
    hits: list[Hit] = []
    for p in scan.paths:
        name = p.rsplit("/", 1)[-1]
        if ENV_FILE_RX.search(p) and not ENV_EXAMPLE_RX.search(name):
            hits.append(Hit(p, 1, ".env file"))
        elif BINARY_KEY_RX.search(name):
            hits.append(Hit(p, 1, "key store"))
    for tf in c.files("source", "iac", "yaml", "ci", "other", "key", "dockerfile"):
        if ENV_FILE_RX.search(tf.rel):
            continue
        text = AWS_EXAMPLE_KEY_RX.sub("", tf.text)
        kinds = strong_secrets(text)
        if not kinds:
            continue
        line = 1
        for i, text_line in enumerate(text.splitlines(), 1):
            if strong_secrets(text_line):
                line = i
                break
        hits.append(Hit(tf.rel, line, ", ".join(kinds)))
    ignored = _git_ignored(scan, [h.file for h in hits]) if hits else set()
    hits = [h for h in hits if h.file not in ignored]
    shipped = [h for h in hits if not TEST_PATH_RX.search(h.file)]
    in_tests = [h for h in hits if TEST_PATH_RX.search(h.file)]

    def listing(found: list[Hit]) -> str:
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        return "; ".join(f"{h.file}:{h.line} ({h.text})" for h in found[:5]) + more

    if shipped:
        also = f" (and {len(in_tests)} in tests/fixtures)" if in_tests else ""
        return _f(
            "repo.secrets-committed",
            "fail",
            f"secrets in the tree: {listing(shipped)}{also}",
            obj,
            shipped[0],
        )
    if in_tests:
        return _f(
            "repo.secrets-committed",
            "warn",
            f"secret-shaped values in tests or fixtures only: {listing(in_tests)}; make sure they are "
            "fakes (assembled at run time, they stop tripping secret scanners)",
            obj,
            in_tests[0],
        )
    if ignored:
        return _f(
            "repo.secrets-committed",
            "pass",
            f"{len(ignored)} secret file(s) present locally but git-ignored and untracked: {', '.join(sorted(ignored)[:3])}",
            obj,
        )
    return _f("repo.secrets-committed", "pass", "no .env files, private keys or cloud keys found", obj)


def _git_ignored(scan: Scan, rels: list[str]) -> set[str]:
    """Which of ``rels`` git ignores (untracked and excluded): those are not committed.

    Outside a git work tree, or without git, nothing is ignored: the tree is what ships.
    """
    from skill.errors import DevopsError
    from skill.runner import run_tool

    inside = [r for r in dict.fromkeys(rels) if not r.startswith("../")]
    if not inside:
        return set()
    try:
        result = run_tool(
            ["git", "-C", str(scan.root), "check-ignore", "--stdin", "-z"],
            input="\0".join(inside) + "\0",
            timeout=20,
        )
    except DevopsError:
        return set()
    if result.returncode not in (0, 1):
        return set()
    return {p for p in result.stdout.split("\0") if p}


def check_ci(scan: Scan, c: Corpus, obj: str) -> Finding:
    ci_files = [tf for tf in scan.texts if CI_PATH_RX.search(tf.rel)]
    if not ci_files:
        return _f("repo.ci", "fail", "no CI pipeline found", obj)
    hit = c.search(TEST_RUN_RX, files=ci_files)
    if hit:
        return _f("repo.ci", "pass", f"CI runs tests ({hit.text})", obj, hit)
    return _f(
        "repo.ci",
        "fail",
        f"CI pipeline {ci_files[0].rel} does not run tests",
        obj,
        Hit(ci_files[0].rel, 1, ""),
    )


def check_graceful_shutdown(scan: Scan, c: Corpus, obj: str) -> Finding:
    if not c.has_source():
        return _f("repo.graceful-shutdown", "n/a", "no service code found", obj)
    hit = c.search(SIGTERM_CALL_RX, "source") or c.search(SIGTERM_RX, "source")
    if hit:
        return _f("repo.graceful-shutdown", "pass", f"shutdown handled ({hit.text})", obj, hit)
    return _f("repo.graceful-shutdown", "fail", "no SIGTERM handling in the service code", obj)


def check_structured_logging(scan: Scan, c: Corpus, obj: str) -> Finding:
    if not c.has_source():
        return _f("repo.structured-logging", "n/a", "no service code found", obj)
    hit = c.search(STRUCTLOG_RX, "source", "other", "doc") or c.search(PY_JSON_FORMATTER_RX, "source")
    if hit:
        return _f(
            "repo.structured-logging", "pass", f"structured logging ({hit.text.splitlines()[0]})", obj, hit
        )
    return _f("repo.structured-logging", "fail", "no JSON/structured logging library or formatter found", obj)


def check_tracing(scan: Scan, c: Corpus, obj: str) -> Finding:
    hit = c.search(TRACING_RX, "source", "other", "yaml", "iac") or c.search(
        TRACING_RX,
        "doc",
        files=[tf for tf in c.files("doc") if tf.rel.rsplit("/", 1)[-1].startswith("requirements")],
    )
    if hit:
        return _f("repo.tracing", "pass", f"tracing ({hit.text})", obj, hit)
    return _f("repo.tracing", "fail", "no OpenTelemetry (or other tracer) found", obj)


def check_timeouts_retries(scan: Scan, c: Corpus, obj: str) -> Finding:
    if not c.has_source():
        return _f("repo.timeouts-retries", "n/a", "no service code found", obj)
    t = c.search(TIMEOUT_RX, "source")
    r = c.search(RETRY_RX, "source") or c.search(
        RETRY_RX,
        files=[
            tf
            for tf in c.files("doc", "other")
            if tf.rel.rsplit("/", 1)[-1] in ("requirements.txt", "pyproject.toml", "package.json", "go.mod")
        ],
    )
    if t and r:
        return _f(
            "repo.timeouts-retries",
            "pass",
            f"timeouts ({t.text}) and retries ({r.text} at {r.file}:{r.line})",
            obj,
            t,
        )
    if t:
        return _f(
            "repo.timeouts-retries",
            "fail",
            f"timeouts set ({t.text}) but no retry with backoff / circuit breaker",
            obj,
            t,
        )
    if r:
        return _f(
            "repo.timeouts-retries", "fail", f"retries ({r.text}) but no timeouts on outbound calls", obj, r
        )
    return _f("repo.timeouts-retries", "fail", "no timeouts or retries on outbound calls", obj)


def _runbook_files(c: Corpus) -> list[TextFile]:
    return [tf for tf in c.files("doc") if "runbook" in tf.rel.lower() or "playbook" in tf.rel.lower()]


def check_runbooks(scan: Scan, c: Corpus, obj: str, minimum: int) -> Finding:
    files = _runbook_files(c)
    scenarios: list[tuple[str, int]] = []
    for tf in files:
        name = tf.rel.rsplit("/", 1)[-1].lower()
        headings = [i for i, ln in enumerate(tf.text.splitlines(), 1) if ln.startswith("## ")]
        if name.startswith(("readme", "index")):
            if len(files) == 1:
                scenarios.extend((tf.rel, h) for h in headings)
            continue
        if name.startswith(("runbook.", "runbooks.")) and headings:
            scenarios.extend((tf.rel, h) for h in headings)
        else:
            scenarios.append((tf.rel, 1))
    if not scenarios:
        return _f("repo.runbooks", "fail", "no runbooks found (docs/runbooks/*.md)", obj)
    broken = _broken_runbook_links(scan)
    if broken:
        alert, hit = broken[0]
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        return _f(
            "repo.runbooks",
            "fail",
            f"alert {alert} links runbook {hit.text}, which does not exist{more}",
            obj,
            hit,
        )
    first = Hit(scenarios[0][0], scenarios[0][1], "")
    if len(scenarios) < minimum:
        return _f(
            "repo.runbooks",
            "fail",
            f"{len(scenarios)} runbook scenario(s); the top {minimum} failure scenarios need one each",
            obj,
            first,
        )
    return _f("repo.runbooks", "pass", f"{len(scenarios)} runbook scenarios", obj, first)


def _alert_rules(scan: Scan) -> Iterable[tuple[str, LMap]]:
    """(file, rule) for every alerting rule: PrometheusRule objects and plain rule files."""
    for rel, doc in _k8s_docs(scan):
        groups = doc.get("groups")
        if doc.get("kind") == "PrometheusRule" and isinstance(doc.get("spec"), LMap):
            groups = doc["spec"].get("groups")
        for group in groups if isinstance(groups, list) else []:
            rules = group.get("rules") if isinstance(group, LMap) else None
            for rule in rules if isinstance(rules, list) else []:
                if isinstance(rule, LMap) and rule.get("alert"):
                    yield rel, rule


def _broken_runbook_links(scan: Scan) -> list[tuple[str, Hit]]:
    """Alerts whose runbook_url is a repository path that does not exist."""
    known = set(scan.paths)
    out = []
    for rel, rule in _alert_rules(scan):
        ann = rule.get("annotations")
        if not isinstance(ann, LMap):
            continue
        for key in ("runbook_url", "runbook"):
            link = ann.get(key)
            if not isinstance(link, str) or not link or "://" in link or link.startswith(("{{", "$")):
                continue
            target = link.split("#", 1)[0].lstrip("./").lstrip("/")
            if target and target not in known and not any(p.endswith("/" + target) for p in known):
                out.append((str(rule.get("alert")), Hit(rel, ann.line_of(key), link)))
    return out


def _slo_alert_gaps(scan: Scan):
    """(declared SLOs, those without burn-rate alerts, the alerting rules) — see skill.slo.coverage."""
    from skill.slo.coverage import declared_slos, uncovered

    declared = declared_slos(_k8s_docs(scan))
    rules = [(rel, rule) for rel, rule in _alert_rules(scan)]
    return declared, uncovered(declared, [r for _, r in rules]), rules


def _slo_missing_message(missing) -> str:
    names = ", ".join(s.label for s in missing[:5]) + (
        f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    )
    return f"{len(missing)} SLO(s) without burn-rate alerts: {names} (devops slo generate writes them)"


def check_slo(scan: Scan, c: Corpus, obj: str) -> Finding:
    # SLOs count only with their alerts: generated by an operator or present in the rules
    declared, missing, _ = _slo_alert_gaps(scan)
    if missing:
        return _f(
            "repo.slo", "fail", _slo_missing_message(missing), obj, Hit(missing[0].file, missing[0].line, "")
        )
    for rel, doc in _k8s_docs(scan):
        api = str(doc.get("apiVersion") or "")
        kind = str(doc.get("kind") or "")
        if api.startswith(("openslo", "sloth.slok.dev", "pyrra.dev")) or kind in (
            "SLO",
            "ServiceLevelObjective",
            "PrometheusServiceLevel",
        ):
            return _f("repo.slo", "pass", f"{kind or 'SLO'} definition ({api})", obj, Hit(rel, doc.line, ""))
        if str(doc.get("version") or "").startswith("prometheus/v") and isinstance(doc.get("slos"), list):
            return _f("repo.slo", "pass", "sloth SLO spec", obj, Hit(rel, doc.line_of("slos"), ""))
    if declared:  # .devops/slo.yaml
        return _f(
            "repo.slo",
            "pass",
            f"{len(declared)} SLO spec(s)",
            obj,
            Hit(declared[0].file, declared[0].line, ""),
        )
    hit = c.search(SLO_IAC_RX, "iac")
    if hit:
        return _f("repo.slo", "pass", f"SLO in IaC ({hit.text})", obj, hit)
    partial = None
    for tf in c.files("doc"):
        m = SLO_DOC_RX.search(tf.text)
        if not m or not PERCENT_RX.search(tf.text):
            continue
        hit = Hit(tf.rel, tf.text.count("\n", 0, m.start()) + 1, m.group(0))
        if ERROR_BUDGET_RX.search(tf.text):
            if not c.search(BURN_RX, "yaml", "iac"):
                return _f("repo.slo", "fail", "SLO documented without burn-rate alerts", obj, hit)
            return _f("repo.slo", "pass", "documented SLO with an error budget", obj, hit)
        partial = partial or hit
    if partial:
        return _f("repo.slo", "fail", "SLO documented without an error budget", obj, partial)
    return _f("repo.slo", "fail", "no SLO definitions (OpenSLO, sloth, docs/slo.md)", obj)


def check_slo_alerts(scan: Scan, c: Corpus, obj: str) -> Finding:
    declared, missing, rules = _slo_alert_gaps(scan)
    if missing:
        first = missing[0]
        return _f(
            "repo.slo-alerts", "fail", _slo_missing_message(missing), obj, Hit(first.file, first.line, "")
        )
    if declared:
        from skill.slo.coverage import covers

        where = next(((rel, r) for rel, r in rules for s in declared if covers(s, r)), None)
        hit = Hit(where[0], where[1].line, "") if where else Hit(declared[0].file, declared[0].line, "")
        return _f("repo.slo-alerts", "pass", f"{len(declared)} SLO(s), each with burn-rate alerts", obj, hit)
    for tf in c.files("doc"):
        m = SLO_DOC_RX.search(tf.text)
        if m and PERCENT_RX.search(tf.text) and not c.search(BURN_RX, "yaml", "iac"):
            hit = Hit(tf.rel, tf.text.count("\n", 0, m.start()) + 1, m.group(0))
            return _f("repo.slo-alerts", "fail", "SLOs documented, no burn-rate alerts for them", obj, hit)
    return _f("repo.slo-alerts", "n/a", "no SLO specs to match alerts against", obj)


def check_alerts(scan: Scan, c: Corpus, obj: str) -> Finding:
    for rel, doc in _k8s_docs(scan):
        if doc.get("kind") == "PrometheusRule":
            return _f("repo.alerts", "pass", "PrometheusRule", obj, Hit(rel, doc.line, ""))
    hit = c.search(ALERT_YAML_RX, "yaml") or c.search(ALERT_IAC_RX, "iac")
    if hit:
        return _f("repo.alerts", "pass", f"alerting rules ({hit.text.strip()})", obj, hit)
    return _f("repo.alerts", "fail", "no alerting rules found", obj)


def check_dashboards(scan: Scan, c: Corpus, obj: str) -> Finding:
    for rel, doc in _k8s_docs(scan):
        labels = doc.get("metadata", {}).get("labels") if isinstance(doc.get("metadata"), dict) else None
        if doc.get("kind") == "GrafanaDashboard" or (
            isinstance(labels, dict) and "grafana_dashboard" in labels
        ):
            return _f("repo.dashboards", "pass", "Grafana dashboard object", obj, Hit(rel, doc.line, ""))
    hit = c.search(DASH_IAC_RX, "iac")
    if not hit:
        hit = c.search(DASH_JSON_RX, files=[tf for tf in c.files("other") if tf.rel.endswith(".json")])
    if hit:
        return _f("repo.dashboards", "pass", f"dashboard ({hit.text})", obj, hit)
    return _f("repo.dashboards", "fail", "no dashboards found", obj)


def check_backups(scan: Scan, c: Corpus, obj: str) -> Finding:
    schedule = c.search(BACKUP_IAC_RX, "iac")
    if schedule is None:
        for rel, doc in _k8s_docs(scan):
            api, kind = str(doc.get("apiVersion") or ""), str(doc.get("kind") or "")
            name = (
                str((doc.get("metadata") or {}).get("name") or "")
                if isinstance(doc.get("metadata"), dict)
                else ""
            )
            if (
                (api.startswith("velero.io") and kind == "Schedule")
                or kind == "ScheduledBackup"
                or (kind == "CronJob" and "backup" in name.lower())
            ):
                schedule = Hit(rel, doc.line, f"{kind} {name}")
                break
    restore = c.search(RESTORE_RX, "doc")
    disabled = c.search(BACKUP_DISABLED_RX, "iac")
    if schedule and restore:
        return _f(
            "repo.backups",
            "pass",
            f"backup schedule ({schedule.text.strip()}) and restore procedure ({restore.file}:{restore.line})",
            obj,
            schedule,
        )
    if schedule:
        return _f(
            "repo.backups", "fail", "backups scheduled but no restore procedure documented", obj, schedule
        )
    if disabled:
        return _f("repo.backups", "fail", "backups disabled (backup_retention_period = 0)", obj, disabled)
    if restore:
        return _f(
            "repo.backups", "fail", "restore documented but no backup schedule/retention in IaC", obj, restore
        )
    return _f("repo.backups", "fail", "no backup schedule and no restore procedure", obj)


def check_staging(scan: Scan, c: Corpus, obj: str) -> Finding:
    for p in scan.paths:
        if STAGING_PATH_RX.search(p) and PurePosixPath(p).suffix in {
            ".yaml",
            ".yml",
            ".tf",
            ".tfvars",
            ".json",
            ".toml",
            ".hcl",
            ".env",
        }:
            return _f("repo.staging", "pass", f"staging configuration {p}", obj, Hit(p, 1, ""))
    hit = c.search(STAGING_CI_RX, "ci", "yaml")
    if hit:
        return _f("repo.staging", "pass", "staging environment in CI", obj, hit)
    for o in scan.objects:
        if o.namespace and STAGING_PATH_RX.search(o.namespace):
            return _f(
                "repo.staging", "pass", f"staging namespace {o.namespace}", obj, Hit(o.file, o.line, "")
            )
    return _f(
        "repo.staging",
        "fail",
        "no staging environment found (overlay, values, tfvars or CI environment)",
        obj,
    )


def check_rollback(scan: Scan, c: Corpus, obj: str) -> Finding:
    hit = c.search(ROLLBACK_RX, "doc")
    if hit:
        return _f("repo.rollback-plan", "pass", f"rollback documented ({hit.text})", obj, hit)
    hit = c.search(ROLLBACK_RX, "ci", "source", "other")
    if hit:
        return _f("repo.rollback-plan", "pass", f"rollback automated ({hit.text})", obj, hit)
    return _f("repo.rollback-plan", "fail", "no rollback plan found", obj)


def check_ownership(scan: Scan, c: Corpus, obj: str) -> Finding:
    for p in scan.paths:
        name = p.rsplit("/", 1)[-1]
        if name in ("CODEOWNERS", "OWNERS", "OWNERS.md") and p.count("/") <= 2:
            return _f("repo.ownership", "pass", f"{p}", obj, Hit(p, 1, ""))
    for rel, doc in _k8s_docs(scan):
        spec = doc.get("spec")
        if doc.get("kind") == "Component" and isinstance(spec, LMap) and spec.get("owner"):
            return _f(
                "repo.ownership",
                "pass",
                f"catalog owner {spec['owner']}",
                obj,
                Hit(rel, spec.line_of("owner"), ""),
            )
        md = doc.get("metadata")
        if isinstance(md, LMap):
            for section in ("labels", "annotations"):
                part = md.get(section)
                if isinstance(part, LMap):
                    for key in OWNER_KEYS:
                        if part.get(key):
                            return _f(
                                "repo.ownership",
                                "pass",
                                f"{section} {key}={part[key]}",
                                obj,
                                Hit(rel, part.line_of(key), ""),
                            )
    return _f("repo.ownership", "fail", "no CODEOWNERS or owner field", obj)


def check_canary(scan: Scan, c: Corpus, obj: str) -> Finding:
    for o in scan.objects:
        spec = o.obj.get("spec")
        if o.kind == "Rollout" and isinstance(spec, LMap):
            strategy = spec.get("strategy")
            if isinstance(strategy, LMap) and ("canary" in strategy or "blueGreen" in strategy):
                return _f(
                    "repo.canary",
                    "pass",
                    f"Argo Rollout {o.name} progressive strategy",
                    obj,
                    Hit(o.file, spec.line_of("strategy"), ""),
                )
        if o.kind == "Canary" and "flagger" in str(o.obj.get("apiVersion")):
            return _f("repo.canary", "pass", f"Flagger Canary {o.name}", obj, Hit(o.file, o.line, ""))
    hit = c.search(CANARY_RX, "other", "ci", "yaml")
    if hit:
        return _f("repo.canary", "pass", f"canary strategy ({hit.text})", obj, hit)
    return _f("repo.canary", "fail", "no canary or blue/green delivery", obj)


def check_burn_rate(scan: Scan, c: Corpus, obj: str) -> Finding:
    for rel, doc in _k8s_docs(scan):
        if str(doc.get("apiVersion") or "").startswith(("sloth.slok.dev", "pyrra.dev")) or (
            str(doc.get("version") or "").startswith("prometheus/v") and isinstance(doc.get("slos"), list)
        ):
            return _f(
                "repo.burn-rate-alerts",
                "pass",
                "SLO generator produces burn-rate alerts",
                obj,
                Hit(rel, doc.line, ""),
            )
    hit = c.search(BURN_RX, "yaml", "iac", "other")
    if hit:
        return _f("repo.burn-rate-alerts", "pass", f"predictive alert ({hit.text})", obj, hit)
    return _f("repo.burn-rate-alerts", "fail", "no burn-rate or predict_linear alerts", obj)


def check_error_budget_policy(scan: Scan, c: Corpus, obj: str) -> Finding:
    for p in scan.paths:
        if "error-budget-policy" in p.lower() or "error_budget_policy" in p.lower():
            return _f("repo.error-budget-policy", "pass", p, obj, Hit(p, 1, ""))
    hit = c.search(EB_POLICY_RX, "doc")
    if hit:
        return _f("repo.error-budget-policy", "pass", "error budget policy documented", obj, hit)
    return _f("repo.error-budget-policy", "fail", "no error budget policy", obj)


def check_chaos(scan: Scan, c: Corpus, obj: str) -> Finding:
    for rel, doc in _k8s_docs(scan):
        api = str(doc.get("apiVersion") or "")
        if api.startswith(("chaos-mesh.org", "litmuschaos.io")):
            return _f("repo.chaos", "pass", f"{doc.get('kind')} experiment", obj, Hit(rel, doc.line, ""))
    hit = c.search(CHAOS_DOC_RX, "doc") or c.search(_rx(r"\"steady-state-hypothesis\""), "other")
    if hit:
        return _f("repo.chaos", "pass", f"chaos testing ({hit.text})", obj, hit)
    return _f("repo.chaos", "fail", "no chaos experiments or game days", obj)


def run_repo_checks(scan: Scan, *, runbook_min: int = 5) -> list[Finding]:
    corpus = Corpus(scan)
    obj = f"repo/{scan.root.resolve().name}"
    return [
        check_health_endpoint(scan, corpus, obj),
        check_tests(scan, corpus, obj),
        check_secrets_committed(scan, corpus, obj),
        check_ci(scan, corpus, obj),
        check_graceful_shutdown(scan, corpus, obj),
        check_structured_logging(scan, corpus, obj),
        check_runbooks(scan, corpus, obj, runbook_min),
        check_dashboards(scan, corpus, obj),
        check_staging(scan, corpus, obj),
        check_rollback(scan, corpus, obj),
        check_ownership(scan, corpus, obj),
        check_tracing(scan, corpus, obj),
        check_timeouts_retries(scan, corpus, obj),
        check_slo(scan, corpus, obj),
        check_slo_alerts(scan, corpus, obj),
        check_alerts(scan, corpus, obj),
        check_backups(scan, corpus, obj),
        check_canary(scan, corpus, obj),
        check_burn_rate(scan, corpus, obj),
        check_error_budget_policy(scan, corpus, obj),
        check_chaos(scan, corpus, obj),
    ]
