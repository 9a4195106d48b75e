"""terraform/tofu/terragrunt, pulumi, ansible: previews are T1, applies and state surgery are risky."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_TF_READ = frozenset(
    """plan show output providers graph validate version fmt state-list console get login logout
    metadata modules test init refresh-only""".split()
)


def check(ctx: Ctx) -> None:
    if ctx.name in ("terraform", "tofu", "terragrunt"):
        _terraform(ctx)
    elif ctx.name == "pulumi":
        _pulumi(ctx)
    elif ctx.name in ("ansible", "ansible-playbook"):
        _ansible(ctx)
    elif ctx.name == "atmos":
        _atmos(ctx)
    else:  # cdk, cdktf
        sub = positionals(ctx.args)[:1]
        if sub and sub[0] == "destroy":
            ctx.hit(4, "iac.destroy", f"{ctx.name} destroy deletes the whole stack")
        elif sub and sub[0] == "deploy":
            ctx.hit(
                3 if ctx.has("--require-approval") and ctx.value("--require-approval") == "never" else 2,
                "iac.apply",
                "deploys the stack",
            )
        else:
            ctx.hit(1, "iac.read", f"{ctx.name} {' '.join(sub)} previews or synthesises")


def _terraform(ctx: Ctx) -> None:
    argv = ctx.argv
    i = 1
    chdir = None
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i].startswith("-chdir="):
            chdir = argv[i].split("=", 1)[1]
        i += 1
    rest = argv[i:]
    ctx.env(chdir, ctx.assigns.get("TF_WORKSPACE"), ctx.workspace)
    if chdir is None and ctx.cwd:
        ctx.env(ctx.cwd)
    for name, value in ctx.assigns.items():
        if name.startswith("TF_VAR_") and name[7:].lower() in ("env", "environment", "stage"):
            ctx.env(value)
    if not rest:
        ctx.hit(1, "terraform.read", "prints usage")
        return
    sub, args = rest[0], rest[1:]
    sctx = Ctx(name=sub, argv=rest, dynamic=[False] * len(rest))
    for v in sctx.values("-var-file", "--var-file", "-backend-config"):
        ctx.env(v)
    auto = sctx.has("-auto-approve", "--auto-approve")
    tool = ctx.name
    if sub in ("plan",):
        ctx.hit(1, "terraform.plan", f"{tool} plan only previews changes")
    elif sub == "apply":
        pos = positionals(
            args,
            frozenset(
                {
                    "-var",
                    "-var-file",
                    "-target",
                    "-replace",
                    "-parallelism",
                    "-lock-timeout",
                    "-state",
                    "-state-out",
                    "-backup",
                }
            ),
        )
        if sctx.has("-destroy"):
            ctx.hit(4, "terraform.destroy", f"{tool} apply -destroy deletes every resource")
        elif pos and ctx.plan_reviewed:
            ctx.hit(2, "terraform.apply-saved-plan", "applies a saved plan reviewed by devops iac review")
        elif pos:
            # A plan file applies without a prompt; whoever wrote it, nobody has looked at it here.
            ctx.hit(
                3,
                "terraform.apply-unreviewed-plan",
                f"{tool} apply PLANFILE changes infrastructure without a prompt (review it: devops iac review)",
            )
        elif auto:
            ctx.hit(
                3,
                "terraform.apply-auto-approve",
                f"{tool} apply -auto-approve changes infrastructure without review",
            )
        elif sctx.has("-replace"):
            ctx.hit(3, "terraform.apply-replace", "forces resources to be destroyed and re-created")
        else:
            ctx.hit(2, "terraform.apply", f"{tool} apply (asks for confirmation itself)")
    elif sub == "destroy":
        ctx.hit(4, "terraform.destroy", f"{tool} destroy deletes managed infrastructure")
    elif sub == "state":
        op = args[0] if args else "list"
        if op in ("list", "show", "pull"):
            ctx.hit(1, "terraform.state-read", f"{tool} state {op} only reads")
        elif op == "push":
            ctx.hit(4, "terraform.state-push", "overwrites the remote state")
        else:
            ctx.hit(3, "terraform.state-edit", f"{tool} state {op} edits state by hand")
    elif sub in ("force-unlock",):
        ctx.hit(3, "terraform.force-unlock", "breaks a state lock another run may hold")
    elif sub in ("taint",):
        ctx.hit(3, "terraform.taint", "marks a resource for destruction on the next apply")
    elif sub == "untaint":
        ctx.hit(2, "terraform.untaint", "clears a taint")
    elif sub == "import":
        ctx.hit(2, "terraform.import", "adopts an existing resource into state")
    elif sub == "workspace":
        op = args[0] if args else "list"
        if op == "delete":
            ctx.hit(3, "terraform.workspace-delete", "deletes a workspace (and may orphan its state)")
        elif op in ("list", "show"):
            ctx.hit(1, "terraform.read", "lists workspaces")
        else:
            if len(args) > 1:
                ctx.env(args[1])
            ctx.hit(1 if op == "select" else 2, "terraform.workspace", f"workspace {op}")
    elif sub == "refresh":
        ctx.hit(2, "terraform.refresh", "rewrites state from real infrastructure")
    elif sub in _TF_READ:
        ctx.hit(1, "terraform.read", f"{tool} {sub} does not change infrastructure")
    elif tool == "terragrunt" and sub in ("run-all", "run"):
        inner = [a for a in args if not a.startswith("-")]
        if inner and inner[0] in ("destroy",):
            ctx.hit(4, "terraform.destroy", "terragrunt destroy across modules")
        elif inner and inner[0] in ("apply",):
            ctx.hit(3, "terraform.apply-all", "terragrunt applies across modules")
        else:
            ctx.hit(1, "terraform.read", "terragrunt preview")
    else:
        ctx.hit(2, "terraform.other", f"{tool} {sub}")


def _pulumi(ctx: Ctx) -> None:
    with_value = frozenset(
        {
            "--cwd",
            "-C",
            "--stack",
            "-s",
            "--color",
            "--logflow",
            "-v",
            "--tracing",
            "--profiling",
            "--config-file",
        }
    )
    pos = positionals(ctx.args, with_value)
    ctx.env(ctx.value("--cwd", "-C"), ctx.value("--stack", "-s"), ctx.assigns.get("PULUMI_STACK"))
    if ctx.value("--cwd", "-C") is None and ctx.cwd:
        ctx.env(ctx.cwd)
    sub = pos[0] if pos else ""
    yes = ctx.has("--yes", "-y", "--skip-preview", "-f")
    if (
        sub
        in (
            "preview",
            "logs",
            "version",
            "whoami",
            "about",
            "plugin",
            "schema",
            "convert",
            "gen-completion",
            "help",
            "new",
            "login",
            "logout",
            "install",
            "org",
            "search",
            "policy",
            "watch",
        )
        or not sub
    ):
        ctx.hit(1, "pulumi.read", f"pulumi {sub} does not change infrastructure")
    elif sub in ("up", "update"):
        ctx.hit(
            3 if yes else 2,
            "pulumi.up-yes" if yes else "pulumi.up",
            "pulumi up --yes changes infrastructure without review"
            if yes
            else "pulumi up (previews and asks first)",
        )
    elif sub == "destroy":
        ctx.hit(4, "pulumi.destroy", "pulumi destroy deletes the stack's resources")
    elif sub == "refresh":
        ctx.hit(3 if yes else 2, "pulumi.refresh", "rewrites state from real infrastructure")
    elif sub == "cancel":
        ctx.hit(3, "pulumi.cancel", "cancels a running update (can leave resources half-changed)")
    elif sub == "state":
        op = pos[1] if len(pos) > 1 else ""
        ctx.hit(
            3 if op in ("delete", "edit", "unprotect", "move", "rename", "repair") else 2,
            "pulumi.state-edit",
            f"pulumi state {op}",
        )
    elif sub == "stack":
        op = pos[1] if len(pos) > 1 else "ls"
        if op in ("rm", "remove"):
            if len(pos) > 2:
                ctx.env(pos[2])
            ctx.hit(3, "pulumi.stack-rm", "removes a stack and its state")
        elif op in ("select", "init"):
            if len(pos) > 2:
                pass  # selecting a stack changes nothing; the env shows on the next command
            ctx.hit(1 if op == "select" else 2, "pulumi.stack", f"pulumi stack {op}")
        elif op in ("ls", "output", "history", "export", "graph", "tag"):
            ctx.hit(1, "pulumi.read", f"pulumi stack {op}")
        else:
            ctx.hit(2, "pulumi.stack", f"pulumi stack {op}")
    elif sub == "config":
        op = pos[1] if len(pos) > 1 else "get"
        ctx.hit(1 if op in ("get",) or len(pos) == 1 else 2, "pulumi.config", f"pulumi config {op}")
    elif sub == "import":
        ctx.hit(2, "pulumi.import", "adopts a resource")
    else:
        ctx.hit(2, "pulumi.other", f"pulumi {sub}")


_ANSIBLE_READ_MODULES = frozenset(
    {"ping", "setup", "gather_facts", "debug", "stat", "slurp", "find", "package_facts", "service_facts"}
)
_ANSIBLE_SHELL_MODULES = frozenset(
    {
        "shell",
        "command",
        "raw",
        "script",
        "ansible.builtin.shell",
        "ansible.builtin.command",
        "ansible.builtin.raw",
    }
)


def _ansible(ctx: Ctx) -> None:
    inventory = ctx.values("-i", "--inventory", "--inventory-file")
    limit = ctx.values("-l", "--limit")
    ctx.env(*inventory, *limit)
    if ctx.has("--check", "-C", "--syntax-check", "--list-tasks", "--list-hosts", "--list-tags", "--version"):
        ctx.hit(1, "ansible.check", "check/syntax/list mode changes nothing")
        return
    if ctx.name == "ansible-playbook":
        ctx.hit(2, "ansible.playbook", "runs a playbook against its hosts")
        return
    pos = positionals(
        ctx.args,
        frozenset(
            {
                "-i",
                "--inventory",
                "-m",
                "--module-name",
                "-a",
                "--args",
                "-e",
                "--extra-vars",
                "-l",
                "--limit",
                "-u",
                "--user",
                "-f",
                "--forks",
                "-b",
                "-K",
                "-k",
                "--become-user",
                "-c",
                "--connection",
                "-t",
                "--tree",
                "-B",
                "-P",
                "--private-key",
                "-M",
            }
        ),
    )
    ctx.env(*pos[:1])
    module = ctx.value("-m", "--module-name") or "command"
    margs = ctx.value("-a", "--args") or ""
    if module in _ANSIBLE_READ_MODULES:
        ctx.hit(1, "ansible.read-module", f"ansible -m {module} only reads")
    elif module in _ANSIBLE_SHELL_MODULES:
        ctx.hit(
            3,
            "ansible.adhoc-shell",
            f"runs a shell command on every host matched by {pos[0] if pos else 'the pattern'}",
        )
        if margs:
            ctx.shell(margs, f"ansible -m {module}")
    elif "state=absent" in margs.replace(" ", ""):
        ctx.hit(3, "ansible.adhoc-remove", f"ansible -m {module} state=absent removes things on every host")
    else:
        ctx.hit(2, "ansible.adhoc", f"ansible -m {module} changes hosts")


_ATMOS_TOOLS = {
    "terraform": "terraform",
    "tf": "terraform",
    "tofu": "terraform",
    "opentofu": "terraform",
    "helmfile": "helmfile",
    "hf": "helmfile",
}


def _atmos(ctx: Ctx) -> None:
    pos = positionals(
        ctx.args,
        frozenset(
            {"-s", "--stack", "--logs-level", "--logs-file", "--base-path", "--config", "--config-path"}
        ),
    )
    ctx.env(ctx.value("-s", "--stack"))
    if len(pos) >= 2 and pos[0] in _ATMOS_TOOLS:
        tool, op = _ATMOS_TOOLS[pos[0]], pos[1]
        if op == "destroy":
            ctx.hit(4, "terraform.destroy", f"atmos {pos[0]} destroy")
        elif op == "deploy":  # apply without asking
            ctx.hit(3, "terraform.apply-auto-approve", f"atmos {pos[0]} deploy applies without review")
        elif op in ("apply", "sync"):
            auto = ctx.has("-auto-approve", "--auto-approve")
            ctx.hit(
                3 if auto else 2,
                "terraform.apply-auto-approve" if auto else "terraform.apply",
                f"atmos {pos[0]} {op}",
            )
        elif op == "clean":
            ctx.hit(
                3 if ctx.has("--force", "--everything") else 2,
                "iac.clean",
                "atmos clean deletes local state/plan files",
            )
        elif op in (
            "plan",
            "show",
            "output",
            "validate",
            "diff",
            "generate",
            "init",
            "shell",
            "varfile",
            "backend",
            "planfile",
            "version",
            "template",
            "lint",
            "list",
        ):
            ctx.hit(1, "terraform.plan", f"atmos {pos[0]} {op}")
        elif op in ("state", "import", "force-unlock", "workspace", "taint"):
            ctx.hit(3, "terraform.state-edit", f"atmos {pos[0]} {op}")
        else:
            ctx.hit(2, "iac.other", f"atmos {tool} {op}")
    else:
        ctx.hit(1, "iac.read", f"atmos {' '.join(pos[:2])}")
