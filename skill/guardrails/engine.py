"""The gate: classify, apply the policy, freezes, allowlist and approvals, audit, decide.

Public API (see docs/guardrails.md):

    check_action(action, target=None, env=None, approval=None, caller="devops", cwd=None, plan=None)
    check_command(command, cwd=None, approval=None, caller="devops")
    check_file_write(path, tool="Write", cwd=None, approval=None, caller="hook")

Each returns a Decision and never raises: any exception inside becomes a block (fail closed).
Every decision is audited; an audit failure never changes the decision.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import lru_cache

from skill.guardrails.model import ALLOW, ASK, BLOCK, Decision, decision_for_tier

GATE_PROGRAMS = ("guardrails.py", "guardrails", "devops-guardrails")
# Files whose content is the gate's own authority: reading them lets an agent forge approvals.
GATE_SECRETS = ("approval.key", "approvals.db", "operator-key.json")
GATE_CONFIG = ("policy.toml", ".claude/settings")
# How the `devops` CLI appears as a program word: its entry point, or `python -m skill.cli`.
_CLI_NAMES = ("devops", "skill.cli")
# Variables that tell the gate's own programs (`devops`, guardrails.py, the launchers) where their
# policy, approvals, audit, key and code are: setting or unsetting one for a command points the
# gate inside that command at other files, which is changing its configuration.
GATE_ENV = (
    "DEVOPS_POLICY",
    "DEVOPS_TRUST_PROJECT_POLICY",
    "DEVOPS_CONFIG_DIR",
    "DEVOPS_CONFIG",
    "DEVOPS_PROJECT_DIR",
    "DEVOPS_HOME",
    "DEVOPS_DATABASE_URL",
    "DEVOPS_OPERATOR_KEY",
    "DEVOPS_SOURCE",
    "DEVOPS_PYTHON",
)


class _Part:
    """One unit the policy is applied to: a shell sub-command, a file write, or the action itself."""

    __slots__ = ("text", "program", "tier", "rule_ids", "reasons", "environment", "deny", "freeze_scoped")

    def __init__(self, text, program, tier, rule_ids, reasons, environment, deny=False, freeze_scoped=False):
        self.text = text
        self.program = program
        self.tier = tier
        self.rule_ids = list(rule_ids)
        self.reasons = list(reasons)
        self.environment = environment
        self.deny = deny
        self.freeze_scoped = freeze_scoped


class _Request:
    __slots__ = (
        "kind",
        "input",
        "target",
        "action",
        "environment",
        "cwd",
        "plan",
        "details",
        "parts",
        "explain",
        "whole",
    )

    def __init__(self, kind, input, *, target=None, action=None, cwd=None):
        self.kind = kind
        self.input = input
        self.target = target
        self.action = action
        self.environment = None
        self.cwd = cwd
        self.plan = None
        self.details: dict | None = None
        self.parts: list[_Part] = []
        self.explain: list[str] = []
        self.whole = None


_default_audit = None


def _audit_sink(audit):
    global _default_audit
    if audit is False:
        return None
    if audit is None or audit is True:
        if _default_audit is None:
            from skill.guardrails.audit import AuditLog

            _default_audit = AuditLog()
        return _default_audit
    return audit


def _record(decision: Decision, audit, caller, cwd) -> None:
    try:
        sink = _audit_sink(audit)
        if sink is None:
            return
        from skill.guardrails.audit import row_for

        sink.record(row_for(decision, caller=caller, cwd=cwd))
    except Exception as exc:  # the audit never changes a decision
        from skill.guardrails.audit import _warn

        _warn(f"guardrails: warning: audit failed ({type(exc).__name__}: {exc})")


def _internal_block(exc: BaseException, kind: str, text: str, target=None) -> Decision:
    from skill.errors import ConfigError

    if isinstance(exc, ConfigError):
        reason = f"policy error, failing closed: {exc}"
        rule = "policy.error"
    else:
        reason = f"internal error, failing closed: {type(exc).__name__}: {exc}"
        rule = "gate.internal-error"
    return Decision(
        tier=4,
        decision=BLOCK,
        reasons=[reason[:1000]],
        rule_ids=[rule],
        kind=kind,
        input=text if isinstance(text, str) else repr(text),
        target=target,
        approvable=False,
        error=reason[:1000],
    )


# ---------------------------------------------------------------- public API


def check_action(
    action: str,
    target: str | None = None,
    env: str | None = None,
    approval: str | None = None,
    caller: str = "devops",
    cwd: str | None = None,
    plan: str | None = None,
    *,
    details: dict | None = None,
    adjust: Callable[[Decision], Decision] | None = None,
    audit=None,
    policy=None,
    now: float | None = None,
) -> Decision:
    """Tier a named action (deploy_production, infra_change ...) for a target and environment.

    ``details`` are the change's identifying fields (version, strategy, flag value ...): they are
    part of the request digest, so an approval binds to them and to nothing else. ``adjust``
    (the error-budget policy) may raise the decision before it is audited, so the audit shows
    the tier the caller acts on; if it fails, the gate fails closed.
    """
    try:
        decision = _check_action(action, target, env, approval, caller, cwd, plan, policy, now, details)
        if adjust is not None:
            decision = adjust(decision)
    except Exception as exc:
        decision = _internal_block(exc, "action", str(action), target)
    _record(decision, audit, caller, cwd)
    return decision


def check_command(
    command: str,
    cwd: str | None = None,
    approval: str | None = None,
    caller: str = "devops",
    *,
    audit=None,
    policy=None,
    now: float | None = None,
) -> Decision:
    """Tier a raw shell command line (every sub-command, wrapper and nested script)."""
    try:
        decision = _check_command(command, cwd, approval, caller, policy, now)
    except Exception as exc:
        decision = _internal_block(exc, "command", command)
    _record(decision, audit, caller, cwd)
    return decision


def check_file_write(
    path: str,
    tool: str = "Write",
    cwd: str | None = None,
    approval: str | None = None,
    caller: str = "hook",
    *,
    audit=None,
    policy=None,
    now: float | None = None,
) -> Decision:
    """Tier a file write by an assistant's Write/Edit tool: secret files and the gate's own files."""
    return _file_decision(path, tool, cwd, approval, caller, audit, policy, now, read=False)


def check_file_read(
    path: str,
    tool: str = "Read",
    cwd: str | None = None,
    approval: str | None = None,
    caller: str = "hook",
    *,
    audit=None,
    policy=None,
    now: float | None = None,
) -> Decision:
    """Tier a read by an assistant's Read/Grep/Glob tool: secret material is asked (T3)."""
    return _file_decision(path, tool, cwd, approval, caller, audit, policy, now, read=True)


def _file_decision(path, tool, cwd, approval, caller, audit, policy, now, *, read: bool) -> Decision:
    try:
        decision = _check_file(path, tool, cwd, approval, caller, policy, now, read=read)
    except Exception as exc:
        decision = _internal_block(exc, "file", str(path))
    _record(decision, audit, caller, cwd)
    return decision


# ---------------------------------------------------------------- building requests


_LAST_POLICY: list = []


def policy_for(cwd: str | None = None):
    """The effective policy for ``cwd`` (ConfigError when a layer is broken)."""
    from skill.guardrails.policy import load_policy

    policy = load_policy(cwd)
    _LAST_POLICY[:] = [(cwd, policy)]
    return policy


def last_policy(cwd: str | None = None):
    """The policy the last check in this process used for ``cwd`` (saves the hook a reload)."""
    if _LAST_POLICY and _LAST_POLICY[0][0] == cwd:
        return _LAST_POLICY[0][1]
    return policy_for(cwd)


def _load_policy(policy, cwd):
    pol = policy if policy is not None else policy_for(cwd)
    from skill.guardrails.secret_material import configure

    configure(pol.secrets["paths"], pol.secrets["allow"])  # the classifier's secret list follows policy
    return pol


def _check_action(action, target, env, approval, caller, cwd, plan, policy, now, details=None) -> Decision:
    from skill.guardrails.actions import classify_action

    pol = _load_policy(policy, cwd)
    verdict = classify_action(
        action,
        target,
        env,
        overrides=pol.actions,
        default_environment=pol.settings.get("default_environment"),
        unknown_tier=pol.settings.get("unknown_action_tier", 3),
    )
    req = _Request("action", verdict.action, target=target, action=verdict.action, cwd=cwd)
    req.environment = verdict.environment
    req.details = details or None
    part = _Part(
        verdict.action,
        None,
        verdict.tier,
        verdict.rule_ids,
        verdict.reasons,
        verdict.environment,
        freeze_scoped=verdict.freeze_scoped,
    )
    req.parts.append(part)
    req.explain.append(
        f"action {verdict.action}: T{verdict.tier} environment={verdict.environment or 'unknown'}"
    )
    if plan is not None:
        _apply_plan(req, part, plan, verdict.environment)
    return _decide(req, pol, approval, caller, now)


def _apply_plan(req: _Request, part: _Part, plan, environment) -> None:
    if not str(req.action).startswith("infra"):
        from skill.errors import UsageError

        raise UsageError(
            "--plan goes with an infrastructure action (infra_change, infra_plan, infra_destroy)"
        )
    req.plan = _plan_digest(plan)
    try:
        from skill.plan_review import review_plan  # lazy: pydantic stays off the hot path
    except ImportError as exc:
        part.tier = 4
        part.rule_ids.append("plan.unavailable")
        part.reasons.append(f"plan review is not available ({exc}); failing closed")
        return
    try:
        review = review_plan(plan, env=environment)
    except Exception as exc:  # an unreadable plan is not a reason to allow
        part.tier = 4
        part.rule_ids.append("plan.unreadable")
        part.reasons.append(f"plan review failed ({type(exc).__name__}: {exc}); failing closed")
        return
    plan_env = getattr(review, "environment", None)
    if plan_env and not environment:
        # The plan names its environment (a variable, a workspace, a tfvars file): report it the
        # way `devops iac review` does, and drop the "no recognisable environment" guess.
        req.environment = part.environment = plan_env
        source = getattr(review, "environment_source", None)
        req.explain.append(f"environment {plan_env} from the plan" + (f" ({source})" if source else ""))
        part.rule_ids = [r for r in part.rule_ids if r != "env.unknown"]
        part.reasons = [r for r in part.reasons if "no recognisable environment" not in r]
        part.reasons.append(f"environment {plan_env} from the plan" + (f" ({source})" if source else ""))
    plan_tier = int(getattr(review, "tier", 4) or 4)
    summary = getattr(review, "summary", None)
    if isinstance(summary, dict):
        summary = ", ".join(f"{k} {v}" for k, v in summary.items() if v) or "no changes"
    req.explain.append(f"plan {plan}: T{plan_tier} {summary or ''}".rstrip())
    if plan_tier > part.tier:
        part.tier = min(4, plan_tier)
    part.rule_ids.append(f"plan.tier{plan_tier}")
    part.reasons.append(f"plan review: T{plan_tier}" + (f" ({summary})" if summary else ""))
    for finding in list(getattr(review, "findings", None) or [])[:10]:
        message = getattr(finding, "message", None) or str(finding)
        status = getattr(finding, "status", "fail")
        if status in ("fail", "warn"):
            part.reasons.append(f"plan: {message}")


def _plan_digest(plan) -> str:
    import hashlib

    if isinstance(plan, dict):
        import json

        return hashlib.sha256(json.dumps(plan, sort_keys=True, default=str).encode()).hexdigest()
    path = os.fspath(plan)
    h = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    else:
        h.update(os.path.abspath(path).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _check_command(command, cwd, approval, caller, policy, now) -> Decision:
    if isinstance(command, bytes | bytearray):
        command = bytes(command).decode("utf-8", "surrogateescape")
    elif not isinstance(command, str):
        command = "" if command is None else str(command)
    pol = _load_policy(policy, cwd)
    from skill.guardrails.classify import classify_command

    verdict = classify_command(command, cwd)
    req = _Request("command", command, cwd=os.path.abspath(cwd) if cwd else os.getcwd())
    req.whole = command.strip()
    req.environment = verdict.environment
    req.explain.extend(f"parse: {note}" for note in verdict.parse_notes)
    for p in verdict.parts:
        program = p.argv[0] if p.argv else None
        req.parts.append(_Part(p.text, program, p.tier, p.rule_ids, p.reasons, p.environment, p.deny))
        req.explain.append(
            f"part T{p.tier}{' DENY' if p.deny else ''} {p.text[:200]!r}"
            f" rules={','.join(p.rule_ids) or '-'} env={p.environment or '-'}"
        )
    if verdict.deny and not any(p.deny for p in req.parts):
        req.parts.append(_Part(command[:200], None, 4, verdict.rule_ids, verdict.reasons, None, True))
    if not req.parts and verdict.tier > 1:
        req.parts.append(_Part(command[:200], None, verdict.tier, verdict.rule_ids, verdict.reasons, None))
    _self_protection(req, verdict)
    return _decide(req, pol, approval, caller, now)


SELF_APPROVAL_REASON = (
    "an approval must come from a human: the agent that asked cannot approve its own request "
    "(self-approval). Show the user the request id; they run the approve command in their own terminal"
)


def _deny_run_approval(req: _Request, verdict) -> None:
    """`devops approvals approve` resumes a paused run: the same self-approval as guardrails.py approve."""
    for p in verdict.parts:
        words = [os.path.basename(a) for a in p.argv]
        if "approvals" not in words:
            continue
        at = words.index("approvals")
        launcher = words[:at]
        if any(w in _CLI_NAMES for w in launcher) and "approve" in words[at + 1 : at + 2]:
            req.parts = [q for q in req.parts if q.text != p.text]
            req.parts.append(
                _Part(p.text, "devops", 4, ["gate.self-approval"], [SELF_APPROVAL_REASON], None, True)
            )


def _gate_own_commands(req: _Request, verdict) -> None:
    """The gate's own commands that would switch it off or send its stores elsewhere count as
    what they do: installing or removing the hook is changing Claude Code's settings (T4, as
    writing them by hand is), and `devops db copy --to URL` sends this machine's audit, memory
    and runs to the database named on the line (T3: a human confirms the destination)."""
    for p in verdict.parts:
        words = [os.path.basename(a) for a in p.argv]
        if "--help" in words or "-h" in words:
            continue
        for i, word in enumerate(words):
            rest = words[i + 1 :]
            if (word in GATE_PROGRAMS and rest[:1] == ["install-hook"]) or (
                word in _CLI_NAMES and rest[:1] == ["install"]
            ):
                req.parts.append(
                    _Part(
                        p.text,
                        word,
                        4,
                        ["gate.config-change"],
                        ["installs or removes the gate's hook in Claude Code's settings: a human does that"],
                        None,
                    )
                )
                break
            if (
                word in _CLI_NAMES
                and rest[:2] == ["db", "copy"]
                and any(a == "--to" or a.startswith("--to=") for a in p.argv[i + 1 :])
            ):
                req.parts.append(
                    _Part(
                        p.text,
                        word,
                        3,
                        ["gate.data-copy"],
                        [
                            "copies this machine's stores (audit, memory, runs, approvals) to the "
                            "database named on the line: a human confirms the destination"
                        ],
                        None,
                    )
                )
                break


def _self_protection(req: _Request, verdict) -> None:
    """Commands that approve on the gate's behalf or read its keys are denied, whoever asks."""
    _gate_own_commands(req, verdict)
    text = req.input
    resolved = _resolved_words(verdict, text)
    if resolved:
        # Match the words as the shell will see them too: `policy".toml"`, `approval.ke\y`,
        # `approval.k*` and `pol{icy,x}.toml` name the same files as the plain spelling.
        text = text + "\n" + resolved
    lowered = text.lower()
    if "approvals" in lowered and "approve" in lowered:
        _deny_run_approval(req, verdict)
    if "guardrails" in lowered and ("approve" in lowered or "operator-key" in lowered):
        for p in verdict.parts:
            names = [os.path.basename(a) for a in p.argv]
            for i, name in enumerate(names):
                if name in GATE_PROGRAMS and any(a in ("approve", "operator-key") for a in p.argv[i + 1 :]):
                    req.parts.append(
                        _Part(
                            p.text,
                            name,
                            4,
                            ["gate.self-approval"],
                            [SELF_APPROVAL_REASON],
                            None,
                            True,
                        )
                    )
                    # "guardrails.py is not a known program" beside it would only confuse the reason
                    req.parts = [
                        q
                        for q in req.parts
                        if not (q.text == p.text and q.rule_ids == ["generic.unknown-program"])
                    ]
                    break
        # The text fallback is for lines the classifier could not resolve (eval, dynamic names);
        # a resolved `git commit -m "… guardrails.py approve …"` is data, not a self-approval.
        # Programs that pass strings on to a shell (expect, unknown tools, interpreters) count too.
        opaque = any(
            r.startswith(("interp.", "generic.unknown-program", "generic.build-tool"))
            for p in verdict.parts
            for r in p.rule_ids
        )
        if (
            not any("gate.self-approval" in p.rule_ids for p in req.parts)
            and (verdict.tier >= 3 or opaque)
            and _mentions_approve(lowered)
        ):
            req.parts.append(
                _Part(
                    text[:200],
                    None,
                    4,
                    ["gate.self-approval"],
                    ["this command appears to run the gate's approve/operator-key command"],
                    None,
                    True,
                )
            )
    if "guardrails" in lowered and ("approv" in lowered or "operator" in lowered):
        # The library behind `approve` called from inline code skips its terminal check.
        import re

        if re.search(r"skill[./]guardrails[./](?:approvals|cli)|from\s+skill\.guardrails\s+import", lowered):
            req.parts.append(
                _Part(
                    text[:200],
                    None,
                    4,
                    ["gate.self-approval"],
                    ["calls the gate's approval code directly; approving is for a human at a terminal"],
                    None,
                    True,
                )
            )
    if verdict.tier >= 2:
        _gate_data_changes(req, verdict)
        if any(r.startswith("interp.") for p in verdict.parts for r in p.rule_ids) and _names_data_dir(text):
            # inline code can assemble the key's file name from pieces; the folder gives it away
            req.parts.append(
                _Part(
                    text[:200],
                    None,
                    4,
                    ["gate.self-protect"],
                    ["inline code reaches into the gate's data dir (keys, approvals)"],
                    None,
                    True,
                )
            )
    # Changing the gate's own configuration (allowlists, the hook) is for a human too. Reading
    # it (cat, grep: T1) and the gate's own commands are fine.
    if any(name in text for name in GATE_CONFIG):
        changing = [
            p
            for p in verdict.parts
            if (p.tier >= 2 or _edits_in_place(p.argv))
            and not (p.argv and os.path.basename(p.argv[0]) in GATE_PROGRAMS)
        ]
        if changing or ">" in text:
            req.parts.append(
                _Part(
                    text[:200],
                    None,
                    4,
                    ["gate.config-change"],
                    ["may change the gate's own policy or hook settings (policy.toml, .claude/settings)"],
                    None,
                )
            )
    changed = _gate_env_changed(text) if "DEVOPS_" in text else None
    if changed:
        req.parts.append(
            _Part(
                text[:200],
                None,
                4,
                ["gate.env-redirect"],
                [
                    f"sets or unsets {changed}, which points the gate's own programs at another "
                    "policy, approval store or code: a human decides"
                ],
                None,
            )
        )
    for secret in GATE_SECRETS:
        if secret in text:
            req.parts.append(
                _Part(
                    text[:200],
                    None,
                    4,
                    ["gate.self-protect"],
                    [f"touches the gate's own {secret} (approvals could be forged with it)"],
                    None,
                    True,
                )
            )
            break


def _gate_env_changed(text: str) -> str | None:
    """The gate variable this line assigns or removes, in any spelling a shell or inline code
    uses (``X=v cmd``, ``env X=v``, ``export X=v``, ``declare -x``, ``setenv``, ``set -x``,
    ``unset X``, ``env -u X``, ``os.environ["X"] = v``, ``.pop("X")``, ``putenv``), else None.
    Reading one (``echo $DEVOPS_HOME``, ``printenv DEVOPS_HOME``) is not a change."""
    match = _gate_env_change().search(text)
    return (match.group(1) or match.group(2)) if match else None


@lru_cache(maxsize=1)
def _gate_env_change():
    # Compiled on the first line that mentions DEVOPS_, not at import: the hook rarely needs it.
    import re

    names = "|".join(sorted(GATE_ENV, key=len, reverse=True))
    return re.compile(
        # X=v, X+=v, environ["X"]=v, $ENV{X}=v; not the shell's ${X} expansion
        rf"(?<![$\w])(?<!\$\{{)({names})['\"]?[\]}}]?\s*[+:]?=(?!=)"
        rf"|(?:\bunset|\s-u\s*|--unset[=\s]|\bsetenv|\bset\s+-\w*x\w*|\bputenv\(|\.pop\(|"
        rf"\bdel\s+\S*environ\[|\bdelete\s+\S*env\[)(?:\s*-\w+)*[\s'\"(]*({names})\b"
    )


_GATE_NAMES = GATE_SECRETS + ("policy.toml", "settings.json", "settings.local.json")


def _resolved_words(verdict, raw: str) -> str:
    """Resolved argv words (and redirect targets) of every part, with globs and braces in the gate's
    directories expanded against the names the gate protects; '' when nothing new appears."""
    words = [a for p in verdict.parts for a in p.argv]
    if ">" in raw or "<" in raw:
        try:
            from skill.guardrails.shell import parse

            words += [t for s in parse(raw).commands for _, t in s.redirects]
        except Exception:  # noqa: BLE001 - the raw text is still checked
            pass
    out: list[str] = []
    for w in words:
        if w not in raw:
            out.append(w)
        if "{" in w and "," in w:
            from skill.guardrails.commands.filesystem import _braces

            out.extend(_braces(w))
        special = any(c in w for c in "*?[$`")
        if not special:
            continue
        folder, _, base = w.rpartition("/")
        in_gate_dir = ".devops" in folder or ".claude" in folder or _in_data_dir(folder)
        if not in_gate_dir:
            continue
        if any(c in base for c in "$`"):
            # a name computed at run time inside the gate's folders: assume the worst one
            out.append("approval.key" if _in_data_dir(folder) else "policy.toml settings.json")
            continue
        from fnmatch import fnmatchcase

        out.extend(name for name in _GATE_NAMES if fnmatchcase(name, base))
    return " ".join(out)


def _names_data_dir(text: str) -> bool:
    try:
        from skill.paths import data_dir

        home = os.path.normpath(data_dir())
    except Exception:  # noqa: BLE001
        return False
    user = os.path.expanduser("~")
    short = "~" + home[len(user) :] if home.startswith(user + os.sep) else None
    return home in text or bool(short and short in text)


def _in_data_dir(folder: str) -> bool:
    if not folder:
        return False
    try:
        from skill.paths import data_dir

        home = os.path.normpath(data_dir())
    except Exception:  # noqa: BLE001
        return False
    full = os.path.normpath(os.path.expanduser(folder))
    return full == home or full.startswith(home + os.sep)


def _gate_data_changes(req: _Request, verdict) -> None:
    """Deleting or rewriting the audit log or the whole data dir erases the gate's record and keys."""
    try:
        from skill.paths import data_dir

        home = os.path.normpath(data_dir())
    except Exception:
        return
    for p in verdict.parts:
        if p.tier < 2:
            continue
        for arg in p.argv[1:]:
            if "audit.db" in arg or "~" in arg or "/" in arg:
                full = os.path.normpath(os.path.expanduser(arg)) if not arg.startswith("-") else ""
                if "audit.db" in os.path.basename(arg) or full == home or full.startswith(home + os.sep):
                    req.parts.append(
                        _Part(
                            p.text,
                            None,
                            4,
                            ["gate.data-change"],
                            ["changes or deletes the gate's audit log or data dir"],
                            None,
                        )
                    )
                    return


def _edits_in_place(argv: list[str]) -> bool:
    """sed -i / perl -i rewrite files while the classifier may rate sed as a reader."""
    if not argv or os.path.basename(argv[0]) not in ("sed", "gsed", "perl"):
        return False
    return any(a.startswith(("-i", "--in-place")) or (a.startswith("-") and "i" in a[1:3]) for a in argv[1:])


def _mentions_approve(lowered: str) -> bool:
    import re

    return (
        re.search(r"guardrails(?:\.py)?['\"]?\s+(?:\S+\s+)*?(?:approve|operator-key)\b", lowered) is not None
    )


# Secret files an assistant's Write/Edit tool should not touch without a human.
_SECRET_BASENAMES_T4 = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "credentials", "kubeconfig")
_SECRET_SUFFIXES_T4 = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk", ".kdbx")
_ENV_TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults")


def classify_path(path: str, cwd: str | None = None) -> tuple[int, str, str, bool]:
    """(tier, rule id, reason, deny) for writing ``path``, or for where a symlink there points."""
    expanded = os.path.expanduser(path)
    if cwd and not os.path.isabs(expanded):
        expanded = os.path.join(cwd, expanded)
    plain = _classify_full_path(os.path.normpath(expanded))
    try:
        real = os.path.realpath(expanded)
    except (OSError, ValueError):
        return plain
    if real == os.path.normpath(expanded):
        return plain
    resolved = _classify_full_path(real)
    return max(plain, resolved, key=lambda r: (r[3], r[0]))


def _classify_full_path(full: str) -> tuple[int, str, str, bool]:
    base = os.path.basename(full)
    home = os.path.expanduser("~")
    try:
        from skill.paths import data_dir

        gate_dir = os.path.normpath(data_dir())
    except Exception:
        gate_dir = None
    if gate_dir and (full == gate_dir or full.startswith(gate_dir + os.sep)):
        return 4, "file.gate-data", "writes into the gate's data dir (keys, approvals, audit log)", True
    if base in GATE_SECRETS:
        return 4, "file.gate-data", f"writes the gate's own {base}", True
    if base == "policy.toml" or (
        base.startswith("settings") and base.endswith(".json") and ".claude" in full
    ):
        return 4, "file.gate-config", f"changes the gate's configuration ({base})", False
    rel_home = full[len(home) + 1 :] if full.startswith(home + os.sep) else None
    if rel_home is not None:
        if rel_home.startswith(".ssh" + os.sep) or rel_home == ".ssh":
            return 4, "file.ssh", "writes into ~/.ssh (keys, authorized_keys, config)", False
        if rel_home in (
            os.path.join(".aws", "credentials"),
            os.path.join(".aws", "config"),
            os.path.join(".kube", "config"),
            os.path.join(".docker", "config.json"),
            ".netrc",
            ".pgpass",
            ".git-credentials",
        ) or rel_home.startswith((".gnupg" + os.sep, os.path.join(".config", "gcloud") + os.sep)):
            return 4, "file.credentials", f"writes the credentials file ~/{rel_home}", False
    if (os.sep + ".ssh" + os.sep) in full or full.endswith(os.sep + ".ssh"):
        # another account's ~/.ssh (root's, a service user's) is as sensitive as ours
        return 4, "file.ssh", "writes into an .ssh directory (keys, authorized_keys, config)", False
    from skill.guardrails.commands.filesystem import is_startup_file

    if is_startup_file(full) or base == ".envrc":
        # shell rc files, git hooks and direnv files run their content later, outside the gate
        return 3, "file.startup", f"writes {base}, which a shell, git or direnv runs later", False
    if full.startswith(
        ("/etc/", "/boot/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/usr/bin/", "/usr/sbin/", "/usr/lib/")
    ):
        return 3, "file.system", f"writes the system file {full}", False
    lower = base.lower()
    if lower.startswith(_SECRET_BASENAMES_T4) and not lower.endswith(".pub"):
        return 4, "file.private-key", f"writes the secret file {base}", False
    if lower.endswith(_SECRET_SUFFIXES_T4):
        return 4, "file.private-key", f"writes the key or certificate store {base}", False
    if lower == ".env" or lower.startswith(".env.") or lower.endswith(".env"):
        if lower.endswith(_ENV_TEMPLATES):
            return 1, "file.env-template", f"{base} is a template without real secrets", False
        return 3, "file.env", f"writes the environment/secrets file {base}", False
    return 1, "file.write", "ordinary file", False


def _check_file(path, tool, cwd, approval, caller, policy, now, read=False) -> Decision:
    if not isinstance(path, str) or not path:
        raise ValueError("file_path missing")
    pol = _load_policy(policy, cwd)
    if read:
        from skill.guardrails.secret_material import read_verdict

        tier, rule, reason, deny = read_verdict(path, cwd)
    else:
        tier, rule, reason, deny = classify_path(path, cwd)
    from skill.environments import infer_environment

    env = infer_environment(os.path.basename(path)) if tier > 1 else None
    text = f"{tool} {path}"
    req = _Request("file", text, cwd=os.path.abspath(cwd) if cwd else os.getcwd())
    req.environment = env
    req.parts.append(_Part(text, tool, tier, [rule], [reason], env, deny))
    req.explain.append(f"file {path}: T{tier} {rule}")
    return _decide(req, pol, approval, caller, now)


# ---------------------------------------------------------------- deciding


def _subject(req: _Request, part: _Part):
    from skill.guardrails.policy import Subject

    return Subject(
        action=req.action,
        target=req.target,
        environment=part.environment or req.environment,
        text=part.text if req.kind != "action" else None,
        program=part.program,
        rule_ids=part.rule_ids,
        whole=req.whole,
    )


def _decide(req: _Request, pol, approval, caller, now) -> Decision:
    now = time.time() if now is None else now
    deny_reasons: list[str] = []
    deny_rules: list[str] = []
    subjects = []
    for part in req.parts:
        subject = _subject(req, part)
        subjects.append(subject)
        for rule in pol.rules:
            if rule.matches(subject):
                new = rule.apply(part.tier)
                req.explain.append(f"policy rule {rule.describe()}: T{part.tier} -> T{new}")
                if new != part.tier:
                    part.rule_ids.append(rule.id)
                    part.reasons.append(rule.reason or f"policy rule {rule.id} sets T{new}")
                    part.tier = new
        if part.deny:
            deny_rules.extend(r for r in part.rule_ids if r not in deny_rules)
            deny_reasons.extend(part.reasons)
        for rule in pol.deny:
            if rule.matches(subject, whole=True):
                part.deny = True
                part.tier = 4
                deny_rules.append(rule.id)
                deny_reasons.append(rule.reason or f"denied by policy rule {rule.id}")
                req.explain.append(f"deny rule {rule.describe()} matched {part.text!r}")

    tier = 1
    deciding = None
    for part in req.parts:
        if part.tier > tier or deciding is None and part.tier >= tier:
            tier, deciding = part.tier, part.text
    if any(p.deny for p in req.parts):
        tier = 4
        deciding = next(p.text for p in req.parts if p.deny)
    rule_ids: list[str] = []
    reasons: list[str] = []
    for part in sorted(req.parts, key=lambda p: -p.tier):
        for r in part.rule_ids:
            if r not in rule_ids:
                rule_ids.append(r)
        if part.tier >= min(tier, 2) or tier == 1:
            for r in part.reasons:
                if r not in reasons:
                    reasons.append(r)
    environment = req.environment
    for part in req.parts:
        if part.environment == "production":
            environment = "production"
    d = Decision(
        tier=tier,
        decision=decision_for_tier(tier),
        reasons=reasons,
        rule_ids=rule_ids,
        deciding=deciding,
        environment=environment,
        kind=req.kind,
        input=req.input,
        target=req.target,
        explain=req.explain,
    )

    if deny_rules:
        d.decision = BLOCK
        d.approvable = False
        deny_rules = list(dict.fromkeys(deny_rules))
        d.rule_ids = deny_rules + [r for r in rule_ids if r not in deny_rules]
        d.reasons = [f"denied: {r}" for r in dict.fromkeys(deny_reasons)] + [
            r for r in reasons if r not in deny_reasons
        ]
    elif tier >= 3:
        frozen = _freeze(req, pol, d, now)
        if not frozen:
            _allowlist(req, pol, d, subjects, now)

    if d.decision in (ASK, BLOCK):
        _approval_step(req, d, approval, caller, now)
    return d


def _freeze(req: _Request, pol, d: Decision, now: float) -> bool:
    for freeze in pol.active_freezes(now):
        if not freeze.covers_environment(d.environment):
            continue
        if req.kind == "action":
            covered = freeze.covers_action(req.action, req.parts[0].freeze_scoped)
        else:
            covered = any(p.tier >= 3 and freeze.covers_program(p.program) for p in req.parts)
        if not covered:
            continue
        from skill.guardrails.policy import _fmt_ts

        why = f"change freeze {freeze.name!r} until {_fmt_ts(freeze.end)}"
        if freeze.reason:
            why += f": {freeze.reason}"
        d.decision = BLOCK
        d.approvable = freeze.approvable
        d.rule_ids.insert(0, f"freeze.{freeze.name}")
        d.reasons.insert(0, why)
        req.explain.append(f"freeze {freeze.name} ({freeze.source}) is active and covers this request")
        return True
    return False


def _allowlist(req: _Request, pol, d: Decision, subjects, now: float) -> None:
    live = [rule for rule in pol.allow if rule.expires is None or rule.expires > now]
    if not live:
        return
    used = []
    for part, subject in zip(req.parts, subjects, strict=True):
        if part.tier < 3:
            continue
        hit = next((rule for rule in live if rule.matches(subject)), None)
        if hit is None:
            return  # every risky part must be allowlisted, not just one of them
        used.append(hit)
    if not used:
        return
    d.decision = ALLOW
    for rule in dict.fromkeys(used):
        d.rule_ids.insert(0, f"allow.{rule.id}")
        until = ""
        if rule.expires is not None:
            from skill.guardrails.policy import _fmt_ts

            until = f" until {_fmt_ts(rule.expires)}"
        d.reasons.insert(0, f"allowlisted by {rule.id}{until}" + (f": {rule.reason}" if rule.reason else ""))
        req.explain.append(f"allowlist entry {rule.describe()} matched")


def _approval_step(req: _Request, d: Decision, approval, caller, now) -> None:
    from skill.guardrails import approvals as ap

    canonical = ap.canonical_request(
        kind=req.kind,
        text=req.input,
        target=req.target,
        environment=d.environment,
        cwd=req.cwd if req.kind != "action" else None,
        plan=req.plan,
        details=req.details,
    )
    digest = ap.digest_of(canonical)
    d.request_id = ap.request_id_for(digest)
    if d.approvable:
        try:
            consumed, why = ap.consume(digest, token=approval, caller=caller, now=now)
        except Exception as exc:  # a broken approval store means no approval, never an allow
            consumed, why = None, f"approval store unavailable ({type(exc).__name__}: {exc})"
        if consumed is not None:
            d.explain.append(f"approval {consumed.approval_id} by {consumed.approved_by} used")
            d.reasons.insert(0, f"approved once by {consumed.approved_by} ({consumed.approval_id})")
            d.decision = ALLOW
            d.approval_used = consumed.approval_id
            return
        if why:
            d.reasons.append(f"approval not accepted: {why}")
            d.explain.append(f"approval rejected: {why}")
    elif approval:
        d.reasons.append("approval not accepted: this request cannot be approved (deny rule or freeze)")
    try:
        ap.record_pending(d.request_id, digest, canonical, d)
    except Exception as exc:
        # Said in the reasons, not only in --explain: a human handed this request id would
        # otherwise be told "no pending request" with no idea why.
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        d.reasons.append(
            f"approval store unavailable: request {d.request_id} was not recorded ({first}); "
            "run the check again once the store is back, then approve it"
        )
        d.explain.append(f"could not record the pending request ({type(exc).__name__}: {exc})")


def approve_hint(decision: Decision, program: str = "guardrails.py") -> str:
    """How a human approves this decision, or why nobody can."""
    if decision.decision == ALLOW:
        return ""
    if not decision.approvable:
        return "This cannot be approved (a deny rule or a change freeze); change the command or the policy."
    return (
        f"A human can approve it once, in their own terminal: {program} approve {decision.request_id} "
        "--by NAME (confirmed by typing the target or request id, or with $DEVOPS_OPERATOR_KEY); "
        "then the same request passes once."
    )
