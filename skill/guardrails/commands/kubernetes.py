"""kubectl/oc, helm, kustomize, velero: reads and dry runs are T1, deletes and evictions are risky."""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx, positionals

_KUBECTL_VALUE = frozenset(
    {
        "-n",
        "--namespace",
        "--context",
        "--cluster",
        "--kubeconfig",
        "--user",
        "-s",
        "--server",
        "-l",
        "--selector",
        "-f",
        "--filename",
        "-k",
        "--kustomize",
        "-o",
        "--output",
        "-c",
        "--container",
        "--field-selector",
        "--grace-period",
        "--timeout",
        "--replicas",
        "--token",
        "--as",
        "--as-group",
        "--request-timeout",
        "-p",
        "--patch",
        "--type",
        "--image",
        "--port",
        "-L",
        "--label-columns",
        "--sort-by",
        "--since",
        "--tail",
        "--template",
        "--cascade",
        "--wait",
        "--field-manager",
        "--certificate-authority",
        "--client-certificate",
        "--client-key",
        "--tls-server-name",
        "--profile",
        "--chunk-size",
        "--current-replicas",
        "--resource-version",
        "--subresource",
        "--to-revision",
        "--overrides",
        "--restart",
        "--env",
        "--target-port",
        "--name",
    }
)
_KUBECTL_READ = frozenset(
    """get describe logs top explain api-resources api-versions version cluster-info diff kustomize
    events wait auth completion plugin options help port-forward proxy alpha""".split()
)
_CRITICAL_KINDS = frozenset(
    {
        "namespace",
        "namespaces",
        "ns",
        "pv",
        "persistentvolume",
        "persistentvolumes",
        "pvc",
        "persistentvolumeclaim",
        "persistentvolumeclaims",
        "crd",
        "crds",
        "customresourcedefinition",
        "customresourcedefinitions",
        "node",
        "nodes",
        "no",
        "statefulset",
        "statefulsets",
        "sts",
        "all",
        "clusterrole",
        "clusterrolebinding",
        "storageclass",
        "sc",
        "secret",
        "secrets",
    }
)


def check(ctx: Ctx) -> None:
    if ctx.name in ("kubectl", "oc"):
        _kubectl(ctx)
    elif ctx.name == "helm":
        _helm(ctx)
    elif ctx.name == "kustomize":
        pos = positionals(ctx.args, frozenset({"-o", "--output"}))
        ctx.hit(
            1 if not pos or pos[0] in ("build", "cfg", "version", "help") else 2,
            "kustomize.build",
            "kustomize renders manifests",
        )
    elif ctx.name == "velero":
        _velero(ctx)
    else:  # kubens/kubectx/k9s
        pos = positionals(ctx.args)
        if ctx.name in ("kubectx", "kubens") and pos:
            ctx.env(pos[0])
            ctx.hit(
                2,
                "kubectl.switch-context",
                f"switches the current {'context' if ctx.name == 'kubectx' else 'namespace'} to {pos[0]}",
            )
        else:
            ctx.hit(2 if ctx.name == "k9s" else 1, "kubectl.tool", ctx.name)


def _dry_run(ctx: Ctx) -> bool:
    for arg in ctx.argv[1:]:
        if arg == "--":
            return False
        if arg == "--dry-run":
            return True
        if arg.startswith("--dry-run="):
            return arg.split("=", 1)[1] not in ("none", "false")
    return False


def _kubectl(ctx: Ctx) -> None:
    ns = ctx.value("-n", "--namespace")
    ctx.env(
        ctx.value("--context"),
        ns,
        ctx.value("--cluster"),
        ctx.value("--kubeconfig"),
        ctx.assigns.get("KUBECONFIG"),
    )
    dash = ctx.argv.index("--") if "--" in ctx.argv else len(ctx.argv)
    pos = positionals(ctx.argv[1:dash], _KUBECTL_VALUE)
    if not pos:
        ctx.hit(1, "kubectl.read", "prints usage")
        return
    sub = pos[0]
    rest = pos[1:]
    all_ns = ctx.has("-A", "--all-namespaces")
    if (
        sub in _KUBECTL_READ
        or sub == "config"
        and rest[:1] in (["view"], ["get-contexts"], ["current-context"], ["get-clusters"], [])
    ):
        if sub == "events" or sub in _KUBECTL_READ:
            ctx.hit(1, "kubectl.read", f"kubectl {sub} only reads")
        else:
            ctx.hit(1, "kubectl.read", "reads kubeconfig")
        return
    if _dry_run(ctx):
        ctx.hit(1, "kubectl.dry-run", f"kubectl {sub} --dry-run changes nothing")
        return
    if sub == "config":
        op = rest[0] if rest else ""
        if op in ("use-context", "use", "set-context") and len(rest) > 1:
            ctx.env(rest[1])
            ctx.hit(2, "kubectl.switch-context", f"switches kubeconfig to {rest[1]}")
        elif op in ("delete-context", "delete-cluster", "delete-user", "unset"):
            ctx.hit(2, "kubectl.config-edit", f"kubectl config {op}")
        else:
            ctx.hit(2, "kubectl.config-edit", f"kubectl config {op}")
        return
    if sub == "delete":
        ctx.env(*rest[1:2] if rest and rest[0] in ("ns", "namespace", "namespaces") else ())
        kinds = set()
        for r in rest[:1]:
            for k in r.split(","):
                kinds.add(k.split("/")[0].split(".")[0].lower())
        for r in rest:
            if "/" in r:
                kinds.add(r.split("/")[0].split(".")[0].lower())
        force = ctx.has("--force") and ctx.value("--grace-period") == "0"
        wide = ctx.has("--all") or all_ns or ctx.value("-l", "--selector") is not None and all_ns
        if kinds & _CRITICAL_KINDS or wide or all_ns:
            what = ", ".join(sorted(kinds & _CRITICAL_KINDS)) or (
                "everything matched" if wide else "resources"
            )
            ctx.hit(4, "kubectl.delete-critical", f"kubectl delete {what} (data or whole workloads lost)")
        elif force:
            ctx.hit(4, "kubectl.delete-force", "force-deletes without graceful termination")
        else:
            ctx.hit(3, "kubectl.delete", "kubectl delete removes cluster resources")
        return
    if sub in ("drain", "cordon", "taint", "uncordon"):
        ctx.hit(2 if sub == "uncordon" else 3, f"kubectl.{sub}", f"kubectl {sub} changes scheduling on nodes")
        return
    if sub == "scale":
        replicas = ctx.value("--replicas")
        if replicas == "0":
            ctx.hit(3, "kubectl.scale-zero", "scales a workload to zero (outage)")
        else:
            ctx.hit(2, "kubectl.scale", "scales a workload")
        return
    if sub in ("apply", "replace", "create"):
        if ctx.has("--force"):
            ctx.hit(3, f"kubectl.{sub}-force", f"kubectl {sub} --force deletes and re-creates resources")
        elif ctx.has("--prune"):
            ctx.hit(
                3, "kubectl.apply-prune", "kubectl apply --prune deletes resources missing from the manifests"
            )
        else:
            ctx.hit(2, f"kubectl.{sub}", f"kubectl {sub} changes cluster resources")
        return
    if sub == "rollout":
        op = rest[0] if rest else ""
        if op in ("status", "history"):
            ctx.hit(1, "kubectl.read", f"kubectl rollout {op}")
        elif op == "undo":
            ctx.hit(3, "kubectl.rollout-undo", "rolls a deployment back")
        else:
            ctx.hit(2, "kubectl.rollout", f"kubectl rollout {op}")
        return
    if sub in ("exec", "attach", "debug", "run"):
        if "--" in ctx.argv and sub in ("exec", "run", "debug"):
            body = ctx.argv[dash + 1 :]
            if body:
                from skill.guardrails.commands.network import join_words

                ctx.shell(join_words(body), f"kubectl {sub} --")
        ctx.hit(2, f"kubectl.{sub}", f"kubectl {sub} runs commands in the cluster")
        return
    if sub in ("edit", "patch", "label", "annotate", "set", "autoscale", "expose", "cp", "certificate"):
        ctx.hit(2, f"kubectl.{sub}", f"kubectl {sub} changes cluster resources")
        return
    ctx.hit(2, "kubectl.other", f"kubectl {sub}")


_HELM_VALUE = frozenset(
    {
        "-n",
        "--namespace",
        "--kube-context",
        "--kubeconfig",
        "-f",
        "--values",
        "--set",
        "--set-string",
        "--set-file",
        "--version",
        "--timeout",
        "-o",
        "--output",
        "--repo",
        "--revision",
        "--max",
        "--description",
        "--post-renderer",
        "--registry-config",
        "--repository-config",
        "--repository-cache",
        "--kube-apiserver",
        "--kube-token",
        "--kube-as-user",
        "--history-max",
        "--wait-for-jobs",
    }
)


def _helm(ctx: Ctx) -> None:
    ctx.env(ctx.value("--kube-context"), ctx.value("-n", "--namespace"), ctx.value("--kubeconfig"))
    pos = positionals(ctx.args, _HELM_VALUE)
    if not pos:
        ctx.hit(1, "helm.read", "prints usage")
        return
    sub = pos[0]
    if (
        sub
        in (
            "list",
            "ls",
            "get",
            "status",
            "history",
            "hist",
            "template",
            "lint",
            "show",
            "inspect",
            "search",
            "version",
            "env",
            "diff",
            "verify",
            "completion",
            "help",
        )
        or sub == "repo"
        and pos[1:2] in (["list"], ["ls"], [])
    ):
        ctx.hit(1, "helm.read", f"helm {sub} only reads")
        return
    if _dry_run(ctx):
        ctx.hit(1, "helm.dry-run", f"helm {sub} --dry-run changes nothing")
        return
    if sub in ("uninstall", "delete", "del", "un"):
        ctx.env(*pos[1:2])
        ctx.hit(3, "helm.uninstall", "helm uninstall removes a release and its resources")
    elif sub == "rollback":
        ctx.env(*pos[1:2])
        ctx.hit(3, "helm.rollback", "helm rollback reverts a live release")
    elif sub in ("upgrade", "install"):
        if ctx.has("--force", "--reset-values", "--replace", "--force-replace"):
            ctx.hit(
                3,
                "helm.upgrade-force",
                f"helm {sub} with --force/--reset-values can re-create or reconfigure the release",
            )
        else:
            ctx.hit(2, f"helm.{sub}", f"helm {sub} changes a release")
    elif sub in (
        "repo",
        "dependency",
        "dep",
        "package",
        "pull",
        "fetch",
        "push",
        "plugin",
        "registry",
        "create",
    ):
        ctx.hit(2, "helm.local", f"helm {sub}")
    else:
        ctx.hit(2, "helm.other", f"helm {sub}")


def _velero(ctx: Ctx) -> None:
    pos = positionals(
        ctx.args,
        frozenset(
            {
                "-n",
                "--namespace",
                "--kubecontext",
                "--from-backup",
                "--from-schedule",
                "--include-namespaces",
                "--selector",
                "-l",
                "-o",
            }
        ),
    )
    ctx.env(ctx.value("--kubecontext"))
    verb = pos[1] if len(pos) > 1 else (pos[0] if pos else "")
    if "delete" in pos[:2] or pos[:1] == ["uninstall"]:
        ctx.hit(3, "velero.delete", "deletes backups or schedules")
    elif pos[:1] == ["restore"] and verb == "create" or pos[:1] == ["create"] and pos[1:2] == ["restore"]:
        ctx.hit(3, "velero.restore", "restores a backup over the live cluster")
    elif verb in ("get", "describe", "logs", "version") or pos[:1] in (["version"], ["get"], ["describe"]):
        ctx.hit(1, "velero.read", "velero reads")
    else:
        ctx.hit(2, "velero.change", f"velero {' '.join(pos[:2])}")
