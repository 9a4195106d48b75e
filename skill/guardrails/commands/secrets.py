"""vault, 1Password (op), doppler, aws-vault, sops."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_VAULT_VALUE = frozenset(
    {
        "-address",
        "--address",
        "-namespace",
        "--namespace",
        "-ns",
        "-format",
        "--format",
        "-field",
        "--field",
        "-mount",
        "--mount",
        "-version",
        "-versions",
        "-method",
        "-path",
        "-output-curl-string",
    }
)


def check(ctx: Ctx) -> None:
    if ctx.name == "vault":
        _vault(ctx)
    elif ctx.name == "aws-vault":
        _aws_vault(ctx)
    elif ctx.name == "op" and "run" in ctx.args[:3] and "--" in ctx.args:
        from skill.guardrails.commands.network import join_words

        rest = ctx.args[ctx.args.index("--") + 1 :]
        if rest:
            ctx.shell(join_words(rest), "op run")
        ctx.hit(2, "secrets.inject", "op run injects secrets into a command (classified)")
    elif ctx.name == "op":
        pos = positionals(
            ctx.args,
            frozenset(
                {"--vault", "--account", "--format", "--fields", "--session", "--categories", "--tags"}
            ),
        )
        verb = pos[1] if len(pos) > 1 else (pos[0] if pos else "")
        if verb in ("delete", "remove", "archive", "purge") or pos[:1] in (["delete"],):
            ctx.hit(3, "secrets.delete", f"op {' '.join(pos[:2])} deletes secrets")
        elif verb in ("get", "list", "ls", "read", "whoami", "signin", "inject", "run") or pos[:1] in (
            ["read"],
            ["whoami"],
            ["signin"],
            ["inject"],
            ["run"],
            ["--version"],
        ):
            ctx.hit(1, "secrets.read", f"op {' '.join(pos[:2])}")
        else:
            ctx.hit(2, "secrets.write", f"op {' '.join(pos[:2])}")
    elif ctx.name == "doppler":
        ctx.env(ctx.value("-c", "--config"), ctx.value("-p", "--project"))
        pos = positionals(ctx.args, frozenset({"-c", "--config", "-p", "--project", "--token", "--scope"}))
        words = pos[:3]
        if any(w in ("delete", "remove", "rm", "clean") for w in words):
            ctx.hit(3, "secrets.delete", f"doppler {' '.join(words)} deletes secrets/configs")
        elif any(w in ("set", "upload", "rollback", "rotate", "revoke") for w in words):
            ctx.hit(
                3 if "rollback" in words or "revoke" in words else 2,
                "secrets.write",
                f"doppler {' '.join(words)}",
            )
        else:
            ctx.hit(1, "secrets.read", f"doppler {' '.join(words)}")
    else:  # sops
        if ctx.has("-i", "--in-place", "--rotate", "-r", "--set", "--unset"):
            ctx.hit(2, "secrets.write", "sops edits an encrypted file in place")
        else:
            ctx.hit(1, "secrets.read", "sops decrypts/encrypts to stdout")


def _vault(ctx: Ctx) -> None:
    ctx.env(
        ctx.value("-address", "--address", "-namespace", "--namespace", "-ns"),
        ctx.assigns.get("VAULT_ADDR"),
        ctx.assigns.get("VAULT_NAMESPACE"),
    )
    pos = positionals(ctx.args, _VAULT_VALUE)
    if not pos:
        ctx.hit(1, "vault.read", "vault usage")
        return
    group = pos[0]
    verb = pos[1] if len(pos) > 1 else ""
    target = pos[2] if len(pos) > 2 else (pos[1] if len(pos) > 1 else "")
    if group in ("read", "list", "status", "version", "path-help", "print", "login"):
        ctx.hit(1, "vault.read", f"vault {group} {verb}".strip())
        return
    if group == "delete":
        ctx.env(verb)
        ctx.hit(3, "vault.delete", f"vault delete {verb} deletes a secret")
        return
    if group == "write":
        ctx.hit(2, "vault.write", f"vault write {verb}")
        return
    if group == "kv":
        if verb in ("get", "list", "metadata") and not (
            verb == "metadata" and target in ("delete", "put", "patch")
        ):
            ctx.hit(1, "vault.read", f"vault kv {verb}")
        elif verb == "destroy" or verb == "metadata":
            ctx.hit(
                4 if verb == "destroy" else 3,
                f"vault.kv-{verb}",
                f"vault kv {verb} permanently removes secret versions",
            )
        elif verb in ("delete",):
            ctx.hit(3, "vault.kv-delete", "vault kv delete removes a secret")
        elif verb in ("rollback",):
            ctx.hit(3, "vault.kv-rollback", "vault kv rollback replaces the current secret")
        else:
            ctx.hit(2, "vault.kv-write", f"vault kv {verb} writes a secret")
        return
    if group in ("secrets", "auth", "audit") and verb in ("disable",):
        ctx.env(target)
        ctx.hit(
            4 if group == "secrets" else 3,
            f"vault.{group}-disable",
            f"vault {group} disable {target} (mounted data/config lost)",
        )
        return
    if group in ("secrets", "auth", "audit", "policy", "plugin", "namespace") and verb in (
        "list",
        "read",
        "ls",
    ):
        ctx.hit(1, "vault.read", f"vault {group} {verb}")
        return
    if group in ("policy",) and verb in ("delete",):
        ctx.hit(3, "vault.policy-delete", "deletes a vault policy")
        return
    if group == "token" and verb == "revoke" or group == "lease" and verb == "revoke":
        ctx.hit(3, f"vault.{group}-revoke", f"vault {group} revoke cuts off access")
        return
    if group in ("lease", "token") and verb in ("lookup", "capabilities"):
        ctx.hit(1, "vault.read", f"vault {group} {verb}")
        return
    if group == "operator" and verb in ("seal", "step-down", "rekey", "generate-root", "raft", "migrate"):
        ctx.hit(4 if verb == "seal" else 3, f"vault.operator-{verb}", f"vault operator {verb}")
        return
    ctx.hit(2, "vault.change", f"vault {group} {verb}".strip())


def _aws_vault(ctx: Ctx) -> None:
    pos = positionals(ctx.args, frozenset({"--backend", "--duration", "-d", "--region", "--mfa-token", "-t"}))
    if pos[:1] == ["exec"] and len(pos) > 1:
        ctx.env(pos[1])
        args = ctx.argv[1:]
        if "--" in args:
            inner = args[args.index("--") + 1 :]
        else:
            inner = pos[2:]
        if inner:
            from skill.environments import infer_environment
            from skill.guardrails.commands.network import join_words

            ctx.shell(join_words(inner), f"aws-vault exec {pos[1]}", infer_environment(pos[1]))
        ctx.hit(1, "secrets.exec", f"runs with credentials of profile {pos[1]}")
    elif pos[:1] in (["remove"], ["rm"], ["clear"]):
        ctx.hit(3, "secrets.delete", f"aws-vault {pos[0]} deletes stored credentials")
    elif pos[:1] in (["list"], ["ls"], ["--version"]):
        ctx.hit(1, "secrets.read", "aws-vault list")
    else:
        ctx.hit(2, "secrets.write", f"aws-vault {' '.join(pos[:1])}")
