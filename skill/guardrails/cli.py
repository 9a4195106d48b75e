"""``guardrails.py`` / ``devops-guardrails``: the safety gate's command line (argparse, not click).

argparse, lazy imports and no pydantic: a cold ``check --command`` or ``hook`` must cost at most
about three bare interpreter start-ups, because the hook runs before every tool call.

Exit codes: 0 allow, 3 approval needed, 4 blocked (and any internal error: fail closed),
2 usage error. The hook has its own contract (skill.guardrails.hook).
"""

from __future__ import annotations

import os
import sys

PROG = "guardrails.py"
WATCHDOG_SECONDS = 8  # the hook's "timeout": 10 in settings.json; a timed-out hook would fail open


class _Usage(Exception):
    pass


def _positive_int(text: str) -> int:
    """argparse type for counts: a negative --limit is a usage error, not "everything"."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


_HOOK_HELP = """\
Read one Claude Code PreToolUse event (JSON) on stdin and answer on stdout.

input:  {"tool_name": "Bash", "tool_input": {"command": "..."}, "cwd": "...", ...}
        (Bash commands; Read, Grep, Glob on secret material; Write, Edit, MultiEdit,
        NotebookEdit on protected files)
output: nothing for an allow; for an ask or a block
        {"hookSpecificOutput": {"hookEventName": "PreToolUse",
         "permissionDecision": "ask" | "deny", "permissionDecisionReason": "..."}}
exit:   0 with that answer; 2 (reason on stderr) when the input cannot be read or
        anything fails, which Claude Code treats as a block

example:
  echo '{"tool_name":"Bash","tool_input":{"command":"rm -rf /"}}' | guardrails.py hook
"""

_EXAMPLES = {
    "check": """examples:
  guardrails.py check --command "terraform destroy -auto-approve"
  guardrails.py check --action deploy_production --target api
  guardrails.py check --action infra_change --target orders --plan plan.json --explain
  guardrails.py check --batch commands.jsonl > decisions.jsonl""",
    "approve": """examples (a human, in their own terminal):
  guardrails.py approve rq-7f2a2582547a61c4 --by alice
  guardrails.py approve rq-7f2a2582547a61c4 --by alice --ttl 10m""",
    "pending": """example:
  guardrails.py pending --limit 5""",
    "audit": """examples:
  guardrails.py audit --since 1h
  guardrails.py audit --since 2026-12-01T09:00Z --decision block --json""",
    "policy": """examples:
  guardrails.py policy show
  guardrails.py policy validate .devops/policy.toml""",
    "install-hook": """examples:
  guardrails.py install-hook                 # this project, this machine
  guardrails.py install-hook --user --uninstall""",
    "operator-key": """examples:
  guardrails.py operator-key status
  guardrails.py operator-key init            # interactive terminal only""",
}


def _parser():
    import argparse

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs):
            # examples keep their own lines instead of being run into the description
            kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
            super().__init__(*args, **kwargs)

        def error(self, message):  # one line, exit 2 (argparse prints usage + two lines by default)
            raise _Usage(message)

    p = Parser(
        prog=PROG,
        description="The safety gate: tier an action or a shell command T1-T4 and answer allow, ask or block.",
        epilog="exit codes: 0 allow, 3 approval needed, 4 blocked (also on internal errors), 2 usage error\n\n"
        + _EXAMPLES["check"],
    )
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=Parser)

    def command(name: str, summary: str, **kwargs):
        return sub.add_parser(name, help=summary, description=summary, epilog=_EXAMPLES.get(name), **kwargs)

    c = command("check", "check a named action, a shell command or a batch")
    what = c.add_mutually_exclusive_group()
    what.add_argument("--action", help="named action, e.g. deploy_production, infra_change")
    what.add_argument("--command", help="a raw shell command line")
    what.add_argument(
        "--batch", metavar="FILE", help="JSON Lines of {command} or {action,target,env}; - for stdin"
    )
    c.add_argument("--target", help="resource the action is aimed at (service, stack, database ...)")
    c.add_argument("--env", help="environment (production, staging, development); inferred from the target")
    c.add_argument(
        "--plan", metavar="PLAN", help="terraform plan (JSON, binary or dir) for --action infra_change"
    )
    c.add_argument("--cwd", help="working directory the command would run in (default: here)")
    c.add_argument("--approval", metavar="TOKEN", help="approval token printed by `approve`")
    c.add_argument("--caller", default=os.environ.get("DEVOPS_CALLER", "cli"), help="who asks (audit log)")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.add_argument("--explain", action="store_true", help="show the parse and every rule that fired")

    a = command("approve", "approve a pending request once (a human at a terminal, or operator key)")
    a.add_argument("request_id", metavar="REQUEST_ID", help="the rq-... id a check printed")
    a.add_argument("--by", required=True, metavar="NAME", help="who approves")
    a.add_argument(
        "--ttl", default=None, help="how long the approval stays valid (default: policy approval_ttl, 30m)"
    )
    a.add_argument("--json", action="store_true", help="print the approval as JSON")

    pe = command("pending", "list requests waiting for an approval")
    pe.add_argument("--json", action="store_true", help="JSON Lines")
    pe.add_argument("--limit", type=_positive_int, default=20, help="at most N requests (default 20)")

    au = command("audit", "show the audit log (spooled rows too), newest first")
    au.add_argument("--since", default=None, help="a duration (1h, 7d) or an ISO time (2026-12-01T09:00Z)")
    au.add_argument("--limit", type=_positive_int, default=100, help="at most N rows (default 100)")
    au.add_argument("--decision", choices=("allow", "ask", "block"), help="only this decision")
    au.add_argument("--json", action="store_true", help="JSON Lines")

    po = command("policy", "show or validate the layered policy")
    posub = po.add_subparsers(dest="policy_cmd", metavar="show|validate", parser_class=Parser)
    ps = posub.add_parser("show", help="print the effective policy and its layers")
    ps.add_argument("--json", action="store_true", help="print it as JSON")
    ps.add_argument("--cwd", default=None, help="the project whose .devops/policy.toml applies")
    pv = posub.add_parser("validate", help="check policy files (default: the layers in effect)")
    pv.add_argument("files", nargs="*", help="policy.toml files to check")
    pv.add_argument("--cwd", default=None, help="the project whose layers to check")

    sub.add_parser("hook", help="Claude Code PreToolUse hook: JSON on stdin", description=_HOOK_HELP)

    ih = command("install-hook", "add the hook to .claude/settings.local.json")
    scope = ih.add_mutually_exclusive_group()
    scope.add_argument(
        "--project",
        action="store_true",
        help="<project>/.claude/settings.local.json, this machine only (default)",
    )
    scope.add_argument("--user", action="store_true", help="~/.claude/settings.json")
    scope.add_argument("--settings", metavar="PATH", help="an explicit settings.json")
    ih.add_argument("--uninstall", action="store_true", help="remove the hook again")
    ih.add_argument("--json", action="store_true", help="print what changed as JSON")

    ok = command("operator-key", "manage the operator key that can approve without a terminal")
    oksub = ok.add_subparsers(dest="ok_cmd", metavar="init|status", parser_class=Parser)
    oi = oksub.add_parser("init", help="create the key (interactive terminal only; shown once)")
    oi.add_argument("--force", action="store_true", help="replace an existing key")
    oksub.add_parser("status", help="is an operator key configured?")
    return p


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text.replace("\n", " ")[:2000] + "\n")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    hot = bool(argv) and argv[0] in ("check", "hook") and "--batch" not in argv
    if hot:
        _watchdog()
    try:
        if argv[:1] == ["hook"] and len(argv) == 1:
            from skill.guardrails.hook import main as hook_main

            return hook_main()
        fast = _fast_check_args(argv)
        if fast is not None:
            return _check(fast)
        try:
            args = _parser().parse_args(argv)
        except _Usage as exc:
            _err(f"{PROG}: error: {exc} (see {PROG} --help)")
            return 2
        if args.cmd is None:
            _parser().print_help()
            return 2
        return _dispatch(args)
    except SystemExit as exc:  # argparse --help
        return exc.code if isinstance(exc.code, int) else 0
    except BaseException as exc:  # noqa: BLE001 - nothing may escape as a traceback or an exit 0
        return _fatal(exc, argv)


def _fatal(exc: BaseException, argv) -> int:
    from skill.errors import DevopsError

    if isinstance(exc, DevopsError):
        _err(f"{PROG}: error: {exc}")
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):
        return 4
    name = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
    if argv[:1] == ["hook"]:
        # the same words as the hook's own boundary: a signal may land before the hook module
        # has loaded, and Claude Code shows this line to the user as the reason for the block
        _err(f"guardrails hook: internal error, blocking: {name}")
        return 2
    _err(f"{PROG}: internal error, failing closed: {name}")
    if "--json" in argv and argv[:1] == ["check"]:
        import json

        _out(
            json.dumps(
                {
                    "tier": 4,
                    "decision": "block",
                    "reasons": [f"internal error: {name}"],
                    "rule_ids": ["gate.internal-error"],
                }
            )
        )
    return 4


class _Timeout(BaseException):
    """Raised by the watchdog; a BaseException so no `except Exception` on the way can swallow it."""


def _watchdog() -> None:
    try:
        # _signal, not signal: signal.py builds enums at import, which the hot path cannot afford.
        import _signal

        def fire(signum, frame):
            raise _Timeout(f"the check took longer than {WATCHDOG_SECONDS}s")

        def stop(signum, frame):
            # Killed by a signal, the process would exit with neither 2 nor 4, which Claude Code
            # treats as a non-blocking error (the tool call proceeds): turn it into a block.
            raise _Timeout(f"stopped by signal {signum}")

        _signal.signal(_signal.SIGALRM, fire)
        _signal.signal(_signal.SIGTERM, stop)
        _signal.signal(_signal.SIGHUP, stop)
        _signal.alarm(WATCHDOG_SECONDS)
    except (ImportError, AttributeError, ValueError, OSError):
        pass


_FAST_VALUES = {"--command", "--cwd", "--approval", "--caller", "--action", "--target", "--env"}
_FAST_FLAGS = {"--json", "--explain"}


class _FastArgs:
    """The parsed form of a plain ``check`` invocation, without building the argparse parser.

    argparse costs ~5 ms before it parses anything (gettext, locale, and shutil through its help
    formatter), a sixth of the hook budget. Only the exact, unambiguous shapes are handled here;
    anything else (help, batch, plan, abbreviations, values that look like options, repeats,
    conflicts) goes to argparse, which gives the real error messages.
    """

    cmd = "check"
    batch = None
    plan = None

    def __init__(self):
        self.command = self.cwd = self.approval = self.action = self.target = self.env = None
        self.caller = os.environ.get("DEVOPS_CALLER", "cli")
        self.json = self.explain = False


def _fast_check_args(argv: list[str]):
    if not argv or argv[0] != "check":
        return None
    args = _FastArgs()
    seen = set()
    i = 1
    while i < len(argv):
        word = argv[i]
        if "=" in word and word.startswith("--"):
            name, value = word.split("=", 1)
            step = 1
        else:
            name, value, step = word, None, 2
        if name in _FAST_FLAGS and value is None:
            step = 1
            setattr(args, name[2:], True)
        elif name in _FAST_VALUES:
            if value is None:
                if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
                    return None
                value = argv[i + 1]
            setattr(args, name[2:], value)
        else:
            return None
        if name in seen:
            return None
        seen.add(name)
        i += step
    if (args.command is None) == (args.action is None):
        return None
    return args


def _dispatch(args) -> int:
    if args.cmd == "check":
        return _check(args)
    if args.cmd == "hook":
        from skill.guardrails.hook import main as hook_main

        return hook_main()
    if args.cmd == "approve":
        return _approve(args)
    if args.cmd == "pending":
        return _pending(args)
    if args.cmd == "audit":
        return _audit(args)
    if args.cmd == "policy":
        return _policy(args)
    if args.cmd == "install-hook":
        return _install_hook(args)
    if args.cmd == "operator-key":
        return _operator_key(args)
    raise _Usage(f"unknown command {args.cmd}")


# ---------------------------------------------------------------- check


def _check(args) -> int:
    if args.batch is not None:
        if args.target or args.env or args.plan:
            _err(f"{PROG}: error: --batch takes targets and environments from each line")
            return 2
        return run_batch(args.batch, cwd=args.cwd or os.getcwd(), caller=args.caller, explain=args.explain)
    if args.action is None and args.command is None:
        _err(f"{PROG}: error: check needs --action, --command or --batch")
        return 2
    if args.env is not None:
        from skill.environments import require_known

        require_known(args.env)  # a typo must not be judged as "some unknown environment"
    if args.command is not None and not args.command.strip():
        _err(f"{PROG}: error: --command is empty (nothing to check)")
        return 2
    if args.command is not None and (args.target or args.env or args.plan):
        _err(f"{PROG}: error: --target/--env/--plan go with --action (a command names its own targets)")
        return 2
    from skill.guardrails import engine

    if args.action is not None:
        if args.plan and not os.path.exists(args.plan):
            _err(f"{PROG}: error: plan file {args.plan} does not exist")
            return 2
        cwd = args.cwd or os.getcwd()
        d = engine.check_action(
            args.action,
            target=args.target,
            env=args.env,
            approval=args.approval,
            caller=args.caller,
            cwd=cwd,
            plan=args.plan,
        )
    else:
        # Paths are judged against the working tree the command runs in: the current directory
        # unless --cwd names another.
        cwd = args.cwd or os.getcwd()
        d = engine.check_command(args.command, cwd=cwd, approval=args.approval, caller=args.caller)
    _print_decision(d, json_out=args.json, explain=args.explain)
    if d.error:
        _err(f"{PROG}: {d.error}")
    return d.exit_code


def _print_decision(d, *, json_out: bool, explain: bool) -> None:
    if json_out:
        import json

        _out(json.dumps(d.to_dict(explain=explain), ensure_ascii=False))
        return
    from skill.guardrails.audit import redact_text
    from skill.guardrails.engine import approve_hint

    label = {"allow": "ALLOW", "ask": "ASK", "block": "BLOCK"}[d.decision]
    shown = redact_text(d.deciding or d.input or "") or ""
    if len(shown) > 160:
        shown = shown[:157] + "..."
    lines = [f"{label}  T{d.tier}  {shown}".rstrip()]
    if d.target:
        lines.append(f"  target: {d.target}")
    lines.append(f"  environment: {d.environment or 'unknown'}")
    for reason in d.reasons:
        lines.append(f"  - {redact_text(reason)}")
    if d.rule_ids:
        lines.append(f"  rules: {', '.join(d.rule_ids)}")
    if d.request_id:
        lines.append(f"  request: {d.request_id}")
        hint = approve_hint(d, PROG)
        if hint:
            lines.append(f"  {hint}")
    if explain:
        lines.append("  explain:")
        lines.extend(f"    {redact_text(line)}" for line in d.explain)
    _out("\n".join(lines))


def run_batch(source: str, *, cwd: str | None = None, caller: str = "cli", explain: bool = False) -> int:
    """JSON Lines in, JSON Lines out in the same order; a bad line gets an error object (block).

    Audit rows and pending requests are written in one transaction per 2,000 lines. Exit code:
    the strictest decision over all lines (0, 3 or 4).
    """
    import json

    from skill.guardrails import approvals, engine
    from skill.guardrails.audit import AuditLog
    from skill.guardrails.policy import load_policy

    audit = AuditLog(buffered=True)
    try:
        policy = load_policy(cwd)
        policy_error = None
    except Exception as exc:  # every line then fails closed with the same reason
        policy, policy_error = None, exc
    worst = 0
    try:
        fh = sys.stdin.buffer if source == "-" else open(source, "rb")  # noqa: SIM115
    except OSError as exc:  # a missing file or a folder is the caller's mistake: usage, not a block
        _err(f"{PROG}: error: cannot read --batch {source}: {exc.strerror or exc}")
        return 2
    out = sys.stdout
    try:
        with approvals.batch_session():
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                d, error = _batch_line(raw, lineno, engine, policy, policy_error, audit, cwd, caller)
                obj = d.to_dict(explain=explain) if d is not None else error
                out.write(json.dumps(obj, ensure_ascii=False) + "\n")
                code = d.exit_code if d is not None else 4
                worst = code if code > worst else worst
    finally:
        if fh is not sys.stdin.buffer:
            fh.close()
        audit.flush()
    return worst


def _batch_line(raw, lineno, engine, policy, policy_error, audit, cwd, caller):
    import json

    def bad(message):
        return None, {
            "line": lineno,
            "tier": 4,
            "decision": "block",
            "reasons": [f"line {lineno}: {message}"],
            "rule_ids": ["batch.bad-line"],
            "deciding": None,
            "environment": None,
            "request_id": None,
            "approval_used": None,
            "error": message,
        }

    try:
        item = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return bad(f"not a JSON object ({type(exc).__name__})")
    if not isinstance(item, dict):
        return bad("not a JSON object")
    command, action = item.get("command"), item.get("action")
    if (command is None) == (action is None):
        return bad("needs exactly one of 'command' or 'action'")
    if isinstance(command, str) and not command.strip():
        return bad("'command' is empty")
    for key in ("command", "action", "target", "env", "cwd", "approval", "plan"):
        if item.get(key) is not None and not isinstance(item[key], str):
            return bad(f"{key!r} must be a string")
    if policy_error is not None:
        d = engine._internal_block(
            policy_error, "command" if command is not None else "action", command or action
        )
        engine._record(d, audit, caller, cwd)
        return d, None
    line_cwd = item.get("cwd") or cwd
    if command is not None:
        d = engine.check_command(
            command, cwd=line_cwd, approval=item.get("approval"), caller=caller, audit=audit, policy=policy
        )
    else:
        d = engine.check_action(
            action,
            target=item.get("target"),
            env=item.get("env"),
            approval=item.get("approval"),
            caller=caller,
            cwd=line_cwd or os.getcwd(),
            plan=item.get("plan"),
            audit=audit,
            policy=policy,
        )
    return d, None


# ---------------------------------------------------------------- approvals


def _approve(args) -> int:
    from skill.guardrails import approvals

    ttl = approvals.approval_ttl(args.ttl)
    result = approvals.approve(args.request_id, by=args.by, ttl_seconds=ttl)
    if args.json:
        import json

        _out(json.dumps(result))
    else:
        _out(
            f"approved {result['request_id']} once ({result['approval_id']}, by {result['approved_by']} via "
            f"{result['method']}, expires {result['expires']}).\n"
            f"The same check now passes once; or pass the token explicitly:\n  --approval {result['token']}"
        )
    return 0


def _pending(args) -> int:
    import json
    import sqlite3

    from skill.guardrails import approvals

    try:
        rows = approvals.list_pending(args.limit)
    except sqlite3.Error:  # an unreadable approvals.db: nothing pending can be shown
        rows = []
    from skill.redact import redact

    for row in rows:
        row["input"] = redact(json.loads(row.pop("canonical"))["input"])
        row["reasons"] = [r for r in (row["reasons"] or "").split("\n") if r]
        row["approvable"] = bool(row["approvable"])
    if args.json:
        for row in rows:
            _out(json.dumps(row, ensure_ascii=False))
        return 0
    if not rows:
        _out("no pending requests")
    for row in rows:
        flag = "" if row["approvable"] else "  (cannot be approved)"
        where = "".join(
            f"  {label}={row[key]}"
            for label, key in (("target", "target"), ("env", "environment"))
            if row[key]
        )
        _out(f"{row['request_id']}  T{row['tier']} {row['decision']}  {row['input'][:100]}{where}{flag}")
    return 0


def _operator_key(args) -> int:
    from skill.guardrails import approvals

    if args.ok_cmd == "init":
        path = approvals.init_operator_key(force=args.force)
        _out(f"operator key hash stored in {path}; the key was shown on the terminal only")
        return 0
    if args.ok_cmd == "status":
        status = approvals.operator_key_status()
        _out(f"operator key: {'configured' if status['configured'] else 'not configured'} ({status['path']})")
        return 0
    raise _Usage("operator-key needs init or status")


# ---------------------------------------------------------------- audit, policy, install


def _audit(args) -> int:
    import json

    from skill.durations import parse_when
    from skill.guardrails.audit import read_audit

    since = parse_when(args.since).timestamp() if args.since is not None else None  # "" is an error
    rows = read_audit(since=since, limit=args.limit)
    if args.decision:
        rows = [r for r in rows if r.get("decision") == args.decision]
    if args.json:
        for row in rows:
            _out(json.dumps(row, ensure_ascii=False))
        return 0
    if not rows:
        _out("no decisions recorded" + (f" since {args.since}" if args.since else ""))
    for row in reversed(rows):
        text = (row.get("input") or "").replace("\n", " ")
        if len(text) > 90:
            text = text[:87] + "..."
        extra = f" approved={row['approval_used']}" if row.get("approval_used") else ""
        _out(
            f"{row.get('time')}  {row.get('decision', '?'):5}  T{row.get('tier')}  {row.get('kind')}: {text}"
            f"  [{' '.join(row.get('rule_ids') or [])}] {row.get('caller') or ''}{extra}".rstrip()
        )
    return 0


def _policy(args) -> int:
    from skill.guardrails.policy import load_policy, policy_files

    if args.policy_cmd == "show":
        policy = load_policy(args.cwd)
        data = policy.to_dict()
        import json

        if args.json:
            _out(json.dumps(data, indent=2, default=str))
            return 0
        _out("layers (lowest first): " + ", ".join(data["layers"]))
        _out("settings: " + json.dumps(data["settings"]))
        for section in ("actions",):
            for name, table in data[section].items():
                _out(f"action {name}: {json.dumps(table)}")
        for section in ("rules", "deny", "allow", "freeze"):
            for entry in data[section]:
                _out(f"{section}: {json.dumps(entry, default=str)}")
        for warning in data["warnings"]:
            _out(f"warning: {warning}")
        return 0
    if args.policy_cmd == "validate":
        files = args.files or policy_files(args.cwd)
        policy = load_policy(args.cwd, files=files)
        counts = {
            k: len(v) for k, v in (("rules", policy.rules), ("deny", policy.deny), ("allow", policy.allow))
        }
        _out(
            f"ok: {len(files)} file(s) valid ({', '.join(files) or 'built-in defaults only'}); "
            f"{counts['rules']} rules, {counts['deny']} deny, {counts['allow']} allow, {len(policy.freezes)} freeze"
        )
        for warning in policy.warnings + unknown_rule_ids(policy):
            _out(f"warning: {warning}")
        return 0
    raise _Usage("policy needs show or validate")


def unknown_rule_ids(policy) -> list[str]:
    """Warnings for `rule_id` matchers that match no catalogued rule (a typo silently does nothing)."""
    from skill.guardrails.rules import is_known

    out = []
    for entry in (*policy.rules, *policy.deny, *policy.allow):
        patterns = entry.match.get("rule_id")
        for pattern in patterns if isinstance(patterns, list) else [patterns] if patterns else []:
            if not is_known(pattern):
                out.append(
                    f"{entry.source} {entry.id}: rule_id {pattern!r} matches no rule of the gate"
                    " (see docs/guardrails-rules.md, Rule catalogue)"
                )
    return out


def _install_hook(args) -> int:
    from skill.guardrails.install_hook import install, settings_path, uninstall

    path = settings_path(user=args.user, explicit=args.settings)
    result = uninstall(path) if args.uninstall else install(path)
    if args.json:
        import json

        _out(json.dumps(result))
    else:
        _out(result["message"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
