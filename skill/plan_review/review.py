"""Read a Terraform/OpenTofu plan (``terraform show -json``) and explain every change in words.

Accepts the JSON itself, a binary plan file (turned into JSON by ``terraform``/``tofu show
-json``), a directory (planned with ``plan -out`` when initialised, else its recorded
``plan.json``), HCP Terraform's redacted plan export (``json-output-redacted``: the same
``resource_changes`` under a ``plan_format_version`` key) or an already-parsed dict. Unknown
properties are ignored. ``format_version`` is accepted in ``>= 0.1, < 2.0`` as HashiCorp's
terraform-json does (0.1/0.2 from Terraform 0.12-0.15 have the 1.x shape); only an unknown major
version is refused.

Below both the IaC node and the guardrails gate: the gate assesses ``--plan`` with it and must
not import ``skill.nodes``.

Values from ``before``/``after`` are never copied into the review: messages name attributes,
and show an old -> new value only for short, non-sensitive scalars that redaction leaves alone.

Cheap to import (the guardrails gate imports it lazily): no hcl2, no rich.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from skill.environments import PRODUCTION, infer_environment, normalize
from skill.errors import InputError, ToolMissingError
from skill.findings import Finding, Rule
from skill.plan_review.models import SUMMARY_KEYS, ChangeSummary, DriftSummary, PlanReview
from skill.plan_review.secret_names import is_secret_name
from skill.plan_review.stateful import STATEFUL_TYPES, consequence
from skill.plan_review.tiers import T1, T2, T3, TIER_DECISION, change_tier
from skill.redact import find_secrets, redact

HOW_TO = "produce it with: terraform plan -out=tfplan && terraform show -json tfplan > plan.json (tofu works the same)"
RECORDED_PLAN_NAMES = ("plan.json", "tfplan.json", "terraform.plan.json")

_REASONS = {
    "replace_because_cannot_update": "it cannot be updated in place",
    "replace_because_tainted": "it is tainted (a previous apply failed part-way or it was marked with `terraform taint`)",
    "replace_by_request": "a replace was requested (`-replace=ADDRESS`)",
    "replace_by_triggers": "a `replace_triggered_by` reference changed",
    "delete_because_no_resource_config": "its block was removed from the configuration",
    "delete_because_wrong_repetition": "`count`/`for_each` was added to or removed from its block",
    "delete_because_count_index": "`count` no longer reaches its index",
    "delete_because_each_key": "its key is no longer in `for_each`",
    "delete_because_no_module": "the module call that contained it was removed",
    "delete_because_no_move_target": "its `moved` target no longer exists",
    "read_because_config_unknown": "its configuration depends on values known only during apply",
    "read_because_dependency_pending": "a resource it depends on has pending changes",
    "read_because_check_nested": "a nested `check` block reads it",
}
_DEFERRED = {
    "unknown": "for an unknown reason",
    "instance_count_unknown": "its count/for_each is not known yet",
    "resource_config_unknown": "its configuration is not known yet",
    "provider_config_unknown": "its provider configuration is not known yet",
    "deferred_prereq": "a resource it depends on was deferred",
    "absent_prereq": "a resource it depends on does not exist yet",
}
PLAN_RULES = [
    Rule(
        id="iac.destroy-stateful",
        title="Plan destroys a stateful resource",
        severity="critical",
        description="Delete or replace of a database, bucket, volume, key, secret, queue, DNS zone, cache, "
        "search domain or registry destroys its data.",
        fix="Snapshot/back up first, find the attribute forcing the replace, add lifecycle { prevent_destroy = true }.",
    ),
    Rule(
        id="iac.destroy",
        title="Plan destroys a resource",
        severity="high",
        description="A delete or replace of a resource that holds no data: downtime, not data loss.",
        fix="Confirm the destroy is intended; prefer create_before_destroy for replaces.",
    ),
    Rule(
        id="iac.drift",
        title="Resource changed outside Terraform",
        severity="medium",
        description="resource_drift: the real resource differs from the state.",
        fix="Find who changed it; re-apply the code or bring the change into the code.",
    ),
    Rule(id="iac.plan-errored", title="Plan errored", severity="high", description="The plan is partial."),
    Rule(id="iac.plan-incomplete", title="Plan has deferred changes", severity="low"),
    Rule(id="iac.unknown-action", title="Unrecognised plan action", severity="medium"),
]

_ENV_VARIABLES = ("environment", "env", "stage", "environment_name", "env_name", "workspace", "tier")
_MAX_NAMES = 6


def _d(value: Any) -> dict:
    """``value`` when it is an object, else {}: unknown or damaged parts are ignored, not fatal."""
    return value if isinstance(value, dict) else {}


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --------------------------------------------------------------------------- loading


class _Loaded:
    def __init__(self, plan: dict, label: str, directory: Path | None, notes: list[str], ran: bool = False):
        self.plan = plan
        self.label = label
        self.directory = directory
        self.notes = notes
        self.ran_tool = ran


def _decode(raw: bytes) -> str:
    """Plan JSON as text. Windows PowerShell's ``>`` writes UTF-16 with a BOM; editors add UTF-8 BOMs."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _parse_json(text: str, label: str) -> dict:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError(f"{label} is empty; expected Terraform plan JSON", hint=HOW_TO)
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(f"{label} is nested too deeply to be a Terraform plan", hint=HOW_TO) from None
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        if stripped[:1] not in ("{", "["):
            what = "is not JSON (human-readable `terraform plan` output?)"
        elif not stripped.endswith(("}", "]")) or exc.pos >= len(stripped) - 1:
            what = "is truncated (the JSON ends early)"
        else:
            what = "is not valid JSON"
        raise InputError(
            f"{label} {what}: {exc.msg} (line {exc.lineno}, column {exc.colno})", hint=HOW_TO
        ) from None
    return validate_plan(data, label)


def _known_format(version: str) -> bool:
    """``>= 0.1, < 2.0``: the range terraform-json accepts; a new major may change the shape."""
    parts = version.split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return False
    return major == 1 or (major == 0 and minor >= 1)


def validate_plan(data: Any, label: str = "plan") -> dict:
    """Check that ``data`` is a plan in a format this reader understands; return it."""
    if not isinstance(data, dict):
        raise InputError(
            f"{label} is JSON but not a Terraform plan (top level is not an object)", hint=HOW_TO
        )
    version = data.get("format_version")
    if version is None and isinstance(data.get("plan_format_version"), str):
        # HCP Terraform's redacted export renames the key; resource_changes keep their shape
        version = data["plan_format_version"]
    if not isinstance(version, str) or not version:
        raise InputError(f"{label} is JSON but not a Terraform plan (no format_version)", hint=HOW_TO)
    if not _known_format(version):
        raise InputError(
            f"{label} has plan format_version {version}; this reader understands 0.1 up to 1.x",
            hint="upgrade master-devops or produce the JSON with a Terraform/OpenTofu release that writes 1.x",
        )
    if "values" in data and not {"planned_values", "resource_changes", "configuration"} & data.keys():
        raise InputError(
            f"{label} is a state snapshot (`terraform show -json` without a plan file), not a plan",
            hint=HOW_TO,
        )
    if not {"planned_values", "resource_changes", "configuration", "resource_drift"} & data.keys():
        raise InputError(f"{label} is JSON but not a Terraform plan (no resource_changes)", hint=HOW_TO)
    for key in ("resource_changes", "resource_drift", "deferred_changes"):
        items = data.get(key)
        if items is None:
            continue
        if not isinstance(items, list):
            raise InputError(f"{label}: {key} is not a list")
        for i, rc in enumerate(items):
            if key == "deferred_changes":
                rc = rc.get("resource_change") if isinstance(rc, dict) else None
                if not isinstance(rc, dict):
                    raise InputError(f"{label}: {key}[{i}] has no resource_change")
            change = rc.get("change") if isinstance(rc, dict) else None
            if (
                not isinstance(rc, dict)
                or not isinstance(rc.get("address"), str)
                or not isinstance(change, dict)
                or not isinstance(change.get("actions"), list)
                or not all(isinstance(a, str) for a in change["actions"])
            ):
                raise InputError(f"{label}: {key}[{i}] is malformed (needs address and change.actions)")
    return data


def _settings() -> dict:
    from skill.config import load_settings

    return load_settings("iac", {"binary": "", "show_timeout": 120, "plan_timeout": 900})


def find_binary() -> str | None:
    """``$DEVOPS_IAC_BINARY``, config ``[iac] binary``, else terraform, else tofu (None if none is there)."""
    from skill.runner import which

    chosen = os.environ.get("DEVOPS_IAC_BINARY") or _settings().get("binary")
    if chosen:
        if which(chosen) is None:
            raise ToolMissingError(
                f"{chosen} (chosen by $DEVOPS_IAC_BINARY or [iac] binary) not found",
                hint="install it, or unset the setting to use terraform or tofu from PATH",
            )
        return chosen
    for name in ("terraform", "tofu"):
        if which(name):
            return name
    return None


def tool_error(output: str) -> str:
    """The first ``Error:`` line of terraform/tofu diagnostics, without the box drawing around it."""
    lines = [re.sub(r"^[\s│╷╵|]+", "", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    first = next((line for line in lines if line.startswith("Error:")), None)
    return (first or (lines[-1] if lines else "no output"))[:300]


def _show_json(binary: str, plan_file: Path, cwd: Path) -> dict:
    from skill.runner import run_tool

    timeout = float(_settings().get("show_timeout", 120))
    result = run_tool([binary, "show", "-json", "-no-color", str(plan_file)], timeout=timeout, cwd=cwd)
    if not result.ok:  # the file is not a plan this binary can read: bad input, not a broken tool
        raise InputError(
            f"{plan_file.name} is not a plan `{binary} show` can read: {tool_error(result.stderr or result.stdout)}",
            hint=f"make it with the same {binary} version (`{binary} plan -out=tfplan`), or pass its JSON",
        )
    return _parse_json(result.stdout, f"`{binary} show -json {plan_file.name}` output")


def _from_binary_plan(path: Path) -> _Loaded:
    binary = find_binary()
    if binary is None:
        raise ToolMissingError(
            f"{path} is a binary plan file and neither terraform nor tofu is installed here",
            hint=f"run `terraform show -json {path.name} > plan.json` where it is installed and review plan.json",
        )
    cwd = path.parent
    plan = _show_json(binary, path.resolve(), cwd)
    return _Loaded(plan, str(path), cwd, [f"converted with `{binary} show -json`"], ran=True)


def _initialised(path: Path) -> bool:
    return any(
        (path / marker).exists() for marker in (".terraform", ".terraform.lock.hcl", "terraform.tfstate")
    )


def _from_directory(path: Path) -> _Loaded:
    tf_files = [*path.glob("*.tf"), *path.glob("*.tf.json")]
    binary = find_binary() if tf_files else None
    recorded = next((path / n for n in RECORDED_PLAN_NAMES if (path / n).is_file()), None)
    if tf_files and binary and (_initialised(path) or recorded is None):
        from skill.errors import ToolFailedError
        from skill.runner import run_tool

        timeout = float(_settings().get("plan_timeout", 900))
        with tempfile.TemporaryDirectory(prefix="devops-iac-") as tmp:
            out = Path(tmp) / "tfplan"
            try:
                # -lock=false: a review must never wait on, or hold, the lock of a real apply.
                planned = run_tool(
                    [binary, "plan", f"-out={out}", "-input=false", "-lock=false", "-no-color"],
                    timeout=timeout,
                    cwd=path,
                )
                if not planned.ok:
                    raise ToolFailedError(
                        f"{binary} plan failed (exit {planned.returncode}): "
                        + tool_error(planned.stderr or planned.stdout)
                    )
            except ToolFailedError as exc:
                if recorded is None:
                    raise ToolFailedError(
                        exc.message, hint=f"run `{binary} init` in {path} first, or pass a plan JSON"
                    ) from None
                loaded = _from_file(recorded)
                loaded.notes.insert(
                    0, f"using the recorded plan {recorded} ({binary} plan failed: {exc.message})"
                )
                return loaded
            plan = _show_json(binary, out, path)
        return _Loaded(plan, str(path), path, [f"planned with `{binary} plan` in {path}"], ran=True)
    if recorded is not None:
        loaded = _from_file(recorded)
        loaded.notes.insert(0, f"using the recorded plan {recorded}")
        return loaded
    if not tf_files:
        raise InputError(f"{path} holds no .tf files and no plan JSON ({', '.join(RECORDED_PLAN_NAMES)})")
    raise ToolMissingError(
        f"{path} has Terraform code but neither terraform nor tofu is installed to plan it", hint=HOW_TO
    )


def _from_file(path: Path) -> _Loaded:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:4] == b"PK\x03\x04":  # terraform and tofu binary plans are zip archives
        return _from_binary_plan(path)
    return _Loaded(_parse_json(_decode(raw), str(path)), str(path), path.parent, [])


def load_plan(source: str | os.PathLike | dict) -> tuple[dict, str, Path | None, list[str]]:
    """Return ``(plan, label, directory, notes)`` for a path, ``-`` (stdin) or a dict."""
    loaded = _load(source)
    return loaded.plan, loaded.label, loaded.directory, loaded.notes


def _load(source: str | os.PathLike | dict) -> _Loaded:
    if isinstance(source, dict):
        return _Loaded(validate_plan(source, "plan"), "plan", None, [])
    if str(source) == "-":
        return _Loaded(_parse_json(sys.stdin.read(), "standard input"), "-", None, [])
    path = Path(source)
    if path.is_dir():
        return _from_directory(path)
    if not path.exists():
        raise InputError(f"{path} does not exist", hint=HOW_TO)
    if not path.is_file():  # /dev/zero or a FIFO would be read forever
        raise InputError(f"{path} is not a regular file", hint=HOW_TO)
    return _from_file(path)


# --------------------------------------------------------------------------- explaining


def _kind(actions: list[str]) -> tuple[str, str | None]:
    t = tuple(actions)
    if len(t) == 1 and t[0] in ("no-op", "create", "read", "update", "delete", "forget"):
        return t[0], None
    if len(t) == 2 and set(t) == {"delete", "create"}:
        return "replace", ("delete-first" if t[0] == "delete" else "create-first")
    if t == ("create", "forget"):
        return "forget", "create-first"
    return "unknown", None


def _path_text(path: Iterable[Any]) -> str:
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        elif isinstance(step, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", step):
            out += f".{step}" if out else step
        else:
            out += f"[{json.dumps(step)}]"
    return out or "(whole object)"


def _marked(sensitive: Any, path: Iterable[Any]) -> bool:
    """Whether ``path`` is marked sensitive in a before/after_sensitive structure."""
    node = sensitive
    for step in path:
        if node is True:  # a whole object marked sensitive covers everything below it
            return True
        node = _get(node, [step])
    return _any_true(node)


def _any_true(node: Any) -> bool:
    if node is True:
        return True
    if isinstance(node, dict):
        return any(_any_true(v) for v in node.values())
    if isinstance(node, list):
        return any(_any_true(v) for v in node)
    return False


def _get(value: Any, path: Iterable[Any]) -> Any:
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return None
    return value


class _SensitiveValues:
    """Every value the plan marks sensitive, collected once, so none is ever shown by accident."""

    def __init__(self, plan: dict):
        self.plan = plan
        self._values: set[str] | None = None

    def __contains__(self, text: str) -> bool:
        if self._values is None:
            self._values = set()
            conf_vars = _d(_d(_d(self.plan.get("configuration")).get("root_module")).get("variables"))
            for name, var in _d(self.plan.get("variables")).items():
                if _d(conf_vars.get(name)).get("sensitive") or is_secret_name(name):
                    self._collect(_d(var).get("value"), True)
            for key in ("resource_changes", "resource_drift"):
                for rc in _l(self.plan.get(key)):
                    ch = _d(_d(rc).get("change"))
                    self._collect(ch.get("before"), ch.get("before_sensitive"))
                    self._collect(ch.get("after"), ch.get("after_sensitive"))
        return text in self._values

    def _collect(self, value: Any, marks: Any) -> None:
        if marks is True:
            self._all(value)
        elif isinstance(marks, dict) and isinstance(value, dict):
            for k, m in marks.items():
                self._collect(value.get(k), m)
        elif isinstance(marks, list) and isinstance(value, list):
            for v, m in zip(value, marks, strict=False):
                self._collect(v, m)

    def _all(self, value: Any) -> None:
        if isinstance(value, dict):
            for v in value.values():
                self._all(v)
        elif isinstance(value, list):
            for v in value:
                self._all(v)
        elif value is not None:
            self._values.add(str(value))


def _showable(value: Any, name: str, sensitive: _SensitiveValues) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        text = str(value)
    elif isinstance(value, str) and 0 < len(value) <= 60 and "\n" not in value:
        text = value
    else:
        return None
    if is_secret_name(name) or redact(text) != text or find_secrets(text) or text in sensitive:
        return None
    return text


def _changed_attributes(change: dict) -> tuple[list[str], list[str]]:
    before, after = change.get("before"), change.get("after")
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [], []
    unknown = _d(change.get("after_unknown"))
    changed, secret = [], []
    for key in sorted(before.keys() | after.keys()):
        if key in after:
            differs = before.get(key) != after.get(key)
        else:
            differs = key in unknown and key in before and unknown[key] is True
            differs = differs and before.get(key) is not None and key != "id"
        if not differs:
            continue
        changed.append(key)
        if (
            _marked(change.get("before_sensitive"), [key])
            or _marked(change.get("after_sensitive"), [key])
            or is_secret_name(key)
        ):
            secret.append(key)
    return changed, secret


def _names(names: list[str], sensitive: Iterable[str] = ()) -> str:
    hidden = set(sensitive)
    shown = [f"`{n}`" + (" (sensitive)" if n in hidden else "") for n in names[:_MAX_NAMES]]
    if len(names) > _MAX_NAMES:
        shown.append(f"{len(names) - _MAX_NAMES} more")
    if len(shown) == 1:
        return shown[0]
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _replace_cause(rc: dict, paths: list[list[Any]], sensitive: _SensitiveValues) -> str:
    reason = rc.get("action_reason")
    change = _d(rc.get("change"))
    if reason in ("replace_because_tainted", "replace_by_request", "replace_by_triggers"):
        return _REASONS[reason]
    paths = [p for p in paths if isinstance(p, list)]
    if paths:
        parts = []
        for p in paths[:_MAX_NAMES]:
            values = ""
            leaf = next((s for s in reversed(p) if isinstance(s, str)), "")
            if not (_marked(change.get("before_sensitive"), p) or _marked(change.get("after_sensitive"), p)):
                old = _showable(_get(change.get("before"), p), leaf, sensitive)
                new = _showable(_get(change.get("after"), p), leaf, sensitive)
                if old is not None and new is not None and old != new:
                    values = f" ({old} → {new})"
            parts.append((f"`{_path_text(p)}`", values))
        if len(parts) == 1:
            return f"{parts[0][0]} changed{parts[0][1]}"
        texts = [name + values for name, values in parts]
        if len(paths) > _MAX_NAMES:
            texts.append(f"{len(paths) - _MAX_NAMES} more")
        return ", ".join(texts[:-1]) + " and " + texts[-1] + " changed"
    if reason == "replace_because_cannot_update":
        return "an attribute that cannot be updated in place changed"
    return "a change forces replacement"


def _describe(
    rc: dict, kind: str, order: str | None, summary: ChangeSummary, sensitive: _SensitiveValues
) -> str:
    addr = rc["address"] + (f" (deposed object {summary.deposed})" if summary.deposed else "")
    reason = summary.reason
    reason_tag = f" ({reason})" if reason else ""
    loss = consequence(summary.type) if summary.mode == "managed" else None
    extras = []
    if summary.moved:
        extras.append(f"moved from {summary.previous_address}")
    if summary.imported:
        extras.append("imported" + (f" from id {summary.import_id}" if summary.import_id else ""))
    extra = f" [{'; '.join(extras)}]" if extras else ""
    if kind == "no-op":
        if summary.moved or summary.imported:
            return f"{addr}: no changes to the resource itself{extra}"
        return f"{addr}: no changes"
    if kind == "create":
        return f"{addr} will be created{extra}"
    if kind == "read":
        why = _REASONS.get(reason or "", "")
        return (
            f"data source {addr} will be read during apply" + (f" because {why}" if why else "") + reason_tag
        )
    if kind == "update":
        what = (
            f": {_names(summary.changed_attributes, summary.sensitive_attributes)} changed"
            if summary.changed_attributes
            else ""
        )
        return f"{addr} will be updated in place{what}{extra}"
    if kind == "delete":
        why = _REASONS.get(reason or "")
        text = f"{addr} will be DESTROYED" + (f" because {why}" if why else "") + reason_tag + extra
        return text + (f": {loss}" if loss else "")
    if kind == "replace":
        cause = _replace_cause(rc, _l(_d(rc.get("change")).get("replace_paths")), sensitive)
        if order == "create-first":
            how = "The new object is created before the old one is destroyed."
        else:
            how = "Destroyed first, then created: expect downtime."
        text = f"{addr} will be REPLACED because {cause}{reason_tag}{extra}"
        return text + (f": {loss}. " if loss else ". ") + how
    if kind == "forget":
        if order == "create-first":
            return (
                f"{addr}: a new object will be created and the current one removed from the state "
                f"without being destroyed (it keeps running, unmanaged){extra}"
            )
        return f"{addr} will be removed from the state but NOT destroyed (it keeps running, unmanaged){extra}"
    return f"{addr}: unrecognised actions {summary.actions} (treated as needing approval)"


def _summarise(
    rc: dict, production: bool, sensitive: _SensitiveValues, deferred: str | None = None
) -> ChangeSummary:
    change = _d(rc.get("change"))
    actions = list(change.get("actions") or [])
    kind, order = _kind(actions)
    rtype = _s(rc.get("type")) or ""
    mode = _s(rc.get("mode")) or "managed"
    previous = _s(rc.get("previous_address"))
    importing = change.get("importing")
    moved = bool(previous) and previous != rc["address"]
    import_id = None
    if isinstance(importing, dict):
        raw_id = importing.get("id")
        import_id = redact(str(raw_id)) if isinstance(raw_id, str | int) and raw_id != "" else None
    changed, secret = _changed_attributes(change) if kind == "update" else ([], [])
    category = STATEFUL_TYPES.get(rtype) if mode == "managed" else None
    tier = change_tier(kind, rtype if mode == "managed" else "", production=production)
    if kind == "no-op" and importing is not None:
        tier = max(tier, change_tier("create", "", production=production))  # an import writes state
    summary = ChangeSummary(
        address=rc["address"],
        type=rtype,
        actions=actions,
        kind=kind,
        reason=_s(rc.get("action_reason")),
        replace_paths=[_path_text(p) for p in _l(change.get("replace_paths")) if isinstance(p, list)],
        stateful=category is not None,
        stateful_category=category,
        tier=tier,
        message="",
        mode=mode,
        name=_s(rc.get("name")),
        module_address=_s(rc.get("module_address")),
        provider=_s(rc.get("provider_name")),
        previous_address=previous if moved else None,
        moved=moved,
        imported=importing is not None,
        import_id=import_id,
        deposed=_s(rc.get("deposed")),
        deferred=_s(deferred),
        replace_order=order if kind == "replace" else None,
        changed_attributes=changed,
        sensitive_attributes=secret,
    )
    summary.message = _describe(rc, kind, order, summary, sensitive)
    if summary.deferred:
        summary.message += f" (deferred: {_DEFERRED.get(summary.deferred, summary.deferred)})"
    return summary


def _drift(rc: dict) -> DriftSummary:
    change = _d(rc.get("change"))
    actions = list(change.get("actions") or [])
    changed, secret = _changed_attributes(change)
    if "delete" in actions:
        message = f"{rc['address']} was deleted outside Terraform"
    elif changed:
        message = (
            f"{rc['address']} changed outside Terraform: {_names(changed, secret)} no longer match the state"
        )
    else:
        message = f"{rc['address']} changed outside Terraform"
    return DriftSummary(
        address=rc["address"],
        type=_s(rc.get("type")) or "",
        actions=actions,
        changed_attributes=changed,
        message=message,
    )


# --------------------------------------------------------------------------- environment


_BACKEND_KEYS = r"(?:key|prefix|workspace_key_prefix|name|path|container_name|bucket)"
_BLOCK_START = {  # HCL and JSON syntax: where a backend/cloud block opens, how its settings read
    ".tf": (r'\b(?:backend\s+"[^"]*"|cloud)\s*\{', rf'\b{_BACKEND_KEYS}\s*=\s*"([^"]+)"'),
    ".json": (r'"(?:backend|cloud)"\s*:\s*[\[{]', rf'"{_BACKEND_KEYS}"\s*:\s*"([^"]+)"'),
}


def _backend_names(directory: Path) -> list[str]:
    """State keys, prefixes and workspace names from backend/cloud blocks of *.tf and *.tf.json."""
    found: list[str] = []
    try:
        files = sorted([*directory.glob("*.tf"), *directory.glob("*.tf.json")])[:50]
    except OSError:
        return found
    for tf in files:
        if not tf.is_file():
            continue
        try:
            text = tf.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        opening, setting = _BLOCK_START[tf.suffix]
        for m in re.finditer(opening, text):
            depth, i = 1, m.end()
            while i < len(text) and depth:
                depth += {"{": 1, "}": -1, "[": 1, "]": -1}.get(text[i], 0)
                i += 1
            found += re.findall(setting, text[m.end() : i])
    return found


def _workspace(directory: Path | None, ran_tool: bool) -> str | None:
    if ran_tool and os.environ.get("TF_WORKSPACE"):
        return os.environ["TF_WORKSPACE"]
    if directory is not None:
        marker = directory / ".terraform" / "environment"
        try:
            name = marker.read_text(encoding="utf-8").strip()
        except OSError:
            name = ""
        if name and name != "default":
            return name
    return None


def resolve_environment(
    plan: dict, env: str | None, directory: Path | None, ran_tool: bool = False
) -> tuple[str | None, str | None]:
    """The most severe environment named by --env, the workspace, variables, directory or backend.

    An explicit ``env`` cannot lower what the plan itself says: a plan whose backend key says
    ``prod/`` stays production even with ``--env dev``.
    """
    candidates: list[tuple[str, str]] = []
    if env:
        candidates.append((normalize(env) or env, "--env"))
    ws = _workspace(directory, ran_tool)
    if ws:
        candidates.append((ws, f"workspace {ws}"))
    conf_vars = _d(_d(_d(plan.get("configuration")).get("root_module")).get("variables"))
    for name, var in _d(plan.get("variables")).items():
        value = _d(var).get("value")
        if (
            name.lower() in _ENV_VARIABLES
            and isinstance(value, str)
            and not _d(conf_vars.get(name)).get("sensitive")
        ):
            candidates.append((value, f"variable {name} = {value}"))
    if directory is not None:
        resolved = directory.resolve()
        for part in (resolved.name, resolved.parent.name):
            if part and part.lower() not in ("tmp", "temp"):  # where plans are dropped, not an env
                candidates.append((part, f"directory {part}"))
        for key in _backend_names(directory):
            candidates.append((key, f"backend {key}"))
    rank = {PRODUCTION: 3, "staging": 2, "development": 1}
    best: tuple[str | None, str | None] = (None, None)
    best_rank = -1
    for text, label in candidates:
        found = text if label == "--env" else infer_environment(text)
        if found and rank.get(found, 0) > best_rank:
            best, best_rank = (found, label), rank.get(found, 0)
    return best


# --------------------------------------------------------------------------- configuration checks


def _config_secrets(plan: dict) -> list[Finding]:
    findings: list[Finding] = []
    root = _d(_d(plan.get("configuration")).get("root_module"))

    def expressions(exprs: Any, where: str, prefix: str = "") -> None:
        if not isinstance(exprs, dict):
            return
        for attr, expr in exprs.items():
            if isinstance(expr, list):  # nested blocks
                for block in expr:
                    expressions(block, where, f"{prefix}{attr}.")
                continue
            if not isinstance(expr, dict) or "constant_value" not in expr:
                continue
            value = expr["constant_value"]
            if not isinstance(value, str) or not value.strip():
                continue
            if is_secret_name(attr) or find_secrets(value):
                findings.append(
                    Finding(
                        id="iac.hardcoded-secret",
                        severity="critical",
                        message=f"{where} sets `{prefix}{attr}` to a literal credential in the configuration",
                        object=where,
                        fix="pass it from a secret store (data source, sensitive variable fed by the pipeline)",
                    )
                )

    def module(mod: dict, path: str) -> None:
        for res in _l(mod.get("resources")):
            res = _d(res)
            expressions(res.get("expressions"), path + (_s(res.get("address")) or "?"))
        for name, var in _d(mod.get("variables")).items():
            default = _d(var).get("default")
            if (
                isinstance(default, str)
                and default.strip()
                and (is_secret_name(name) or find_secrets(default))
            ):
                findings.append(
                    Finding(
                        id="iac.hardcoded-secret",
                        severity="critical",
                        message=f"variable `{path}var.{name}` has a credential as its default value",
                        object=f"{path}var.{name}",
                        fix="remove the default; supply the value from a secret store or the pipeline",
                    )
                )
        for name, call in _d(mod.get("module_calls")).items():
            call = _d(call)
            expressions(call.get("expressions"), f"{path}module.{name}")
            if isinstance(call.get("module"), dict):
                module(call["module"], f"{path}module.{name}.")

    for key, prov in _d(_d(plan.get("configuration")).get("provider_config")).items():
        expressions(_d(prov).get("expressions"), f"provider {key}")
    module(root, "")
    return findings


# --------------------------------------------------------------------------- the review


def review_plan(
    source: str | os.PathLike | dict,
    env: str | None = None,
) -> PlanReview:
    """Review a plan: every change explained, a tier per change and overall, drift, findings.

    ``source`` is a plan JSON path, a binary plan file, a directory, ``-`` or a parsed dict.
    The static .tf checks are the IaC node's (``skill.nodes.iac.review_plan`` adds them).
    """
    loaded = _load(source)
    plan = loaded.plan
    environment, env_source = resolve_environment(plan, env, loaded.directory, loaded.ran_tool)
    production = environment == PRODUCTION
    sensitive = _SensitiveValues(plan)

    changes = [_summarise(rc, production, sensitive) for rc in _l(plan.get("resource_changes"))]
    for item in _l(plan.get("deferred_changes")):
        changes.append(
            _summarise(item["resource_change"], production, sensitive, deferred=item.get("reason"))
        )
    drift = [_drift(rc) for rc in _l(plan.get("resource_drift"))]

    summary = dict.fromkeys(SUMMARY_KEYS, 0)
    for c in changes:
        if c.kind in summary:
            summary[c.kind] += 1
        summary["moved"] += c.moved
        summary["imported"] += c.imported
    if any(c.kind == "unknown" for c in changes):
        summary["unknown"] = sum(c.kind == "unknown" for c in changes)

    findings: list[Finding] = []
    for c in changes:
        if c.kind in ("delete", "replace") and c.mode == "managed":
            findings.append(
                Finding(
                    id="iac.destroy-stateful" if c.stateful else "iac.destroy",
                    severity="critical" if c.stateful else "high",
                    message=c.message,
                    object=c.address,
                    fix=(
                        "take a snapshot/backup first and get an approval; add `lifecycle { prevent_destroy = true }` "
                        "to stateful resources"
                        if c.stateful
                        else "confirm the destroy is intended before applying"
                    ),
                )
            )
        elif c.kind == "unknown":
            findings.append(
                Finding(id="iac.unknown-action", severity="medium", message=c.message, object=c.address)
            )
    for d in drift:
        findings.append(
            Finding(
                id="iac.drift",
                severity="medium",
                message=d.message,
                object=d.address,
                fix="find who changed it; re-apply the code or bring the change into the code",
            )
        )
    findings += _config_secrets(plan)

    tier = max((c.tier for c in changes), default=T1)
    notes = list(loaded.notes)
    if plan.get("errored") is True:
        tier = max(tier, T3)
        findings.append(
            Finding(
                id="iac.plan-errored",
                severity="high",
                message="the plan errored: it is partial and may not show every change",
                fix="fix the errors and plan again before applying",
            )
        )
    # an errored plan is also marked complete=false; only real deferrals mean "another round"
    if plan.get("deferred_changes") or (plan.get("complete") is False and plan.get("errored") is not True):
        findings.append(
            Finding(
                id="iac.plan-incomplete",
                severity="low",
                message="the plan is incomplete (deferred changes): another plan/apply round will follow",
            )
        )
    if plan.get("applyable") is False and plan.get("errored") is not True:
        notes.append("terraform marks this plan as not applyable (nothing to apply)")
    if environment:
        notes.append(f"environment {environment} (from {env_source})")
    if production and changes and tier >= T2:
        notes.append("production raises every change by one tier")

    return PlanReview(
        tier=tier,
        decision=TIER_DECISION[tier],
        summary=summary,
        changes=changes,
        findings=findings,
        drift=drift,
        source=loaded.label,
        environment=environment,
        environment_source=env_source,
        terraform_version=_s(plan.get("terraform_version")),
        format_version=plan.get("format_version") or plan.get("plan_format_version"),
        notes=notes,
    )


__all__ = ["review_plan", "load_plan", "validate_plan", "resolve_environment", "find_binary"]
