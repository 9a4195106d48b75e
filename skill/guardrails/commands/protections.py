"""Switching protections off: SELinux/AppArmor, audit, sshd password/root login, TLS verification,
cloud exposure (open ingress, public buckets and services), cluster-admin bindings, a PV reclaim
policy of Delete, and replacing the whole crontab.

Each is T3 (ask): it is often done on purpose, but it quietly removes a safeguard that nothing
else will notice until it is needed; a production target makes it T4 like every other rule.
Firewall flushes (`ufw disable`, `iptables -F`, `nft flush ruleset`) keep their `firewall.*`
rules in commands/services.py; stopping the services behind them is judged by systemctl's rules.

``check`` is the family for setenforce, aa-*, apparmor_parser, auditctl and firewall-cmd; ``part_hits`` looks at commands other families
own (git, npm, pip, kubectl, aws, gcloud, az, gsutil, crontab, sed/tee onto sshd_config) and
``env_hit`` at variables (`NODE_TLS_REJECT_UNAUTHORIZED=0`).
"""

from __future__ import annotations

from skill.guardrails.commands._base import Ctx


def check(ctx: Ctx) -> None:
    name = ctx.name
    args = [a for a in ctx.args if a != "--"]
    if name in ("getenforce", "sestatus", "aa-status"):
        ctx.hit(1, "protect.status", f"{name} only reads")
    elif name == "setenforce":
        mode = args[0].lower() if args else ""
        if mode in ("0", "permissive"):
            ctx.hit(3, "protect.selinux-off", "setenforce 0 switches SELinux to permissive (no enforcement)")
        else:
            ctx.hit(2, "protect.selinux", f"setenforce {mode}".strip())
    elif name == "aa-teardown":
        ctx.hit(3, "protect.apparmor-off", "aa-teardown unloads every AppArmor profile")
    elif name in ("aa-disable", "aa-complain"):
        ctx.hit(3, "protect.apparmor-off", f"{name} stops AppArmor enforcing a profile")
    elif name == "apparmor_parser":
        if ctx.short("R", "--remove"):
            ctx.hit(3, "protect.apparmor-off", "apparmor_parser -R unloads an AppArmor profile")
        else:
            ctx.hit(2, "protect.apparmor", "apparmor_parser loads or replaces a profile")
    elif name == "auditctl":
        _auditctl(ctx, args)
    else:
        _firewall_cmd(ctx, args)


def _auditctl(ctx: Ctx, args: list[str]) -> None:
    if "-D" in args:
        ctx.hit(3, "protect.audit-off", "auditctl -D deletes every audit rule")
    elif ctx.value("-e") == "0":
        ctx.hit(3, "protect.audit-off", "auditctl -e 0 switches kernel auditing off")
    elif not args or any(a in ("-l", "-s", "-v", "--help", "-h") for a in args):
        ctx.hit(1, "protect.status", "auditctl lists rules or status")
    else:
        ctx.hit(2, "protect.audit", "auditctl changes audit rules")


def _firewall_cmd(ctx: Ctx, args: list[str]) -> None:
    if not args or all(
        a.startswith(("--list", "--get", "--query", "--state", "--info"))
        or a in ("-h", "--help", "--version")
        for a in args
    ):
        ctx.hit(1, "protect.status", "firewall-cmd only reads")
        return
    opens_all = any(_world(a.split("=", 1)[-1]) for a in args if a.startswith("--add-source"))
    if ctx.value("--set-default-zone") == "trusted" or opens_all:
        ctx.hit(3, "protect.firewall-off", "firewall-cmd trusts every source (the firewall stops filtering)")
    else:
        ctx.hit(2, "protect.firewall", "firewall-cmd changes the firewall")


def _world(value: str) -> bool:
    return any(
        v.strip() in ("0.0.0.0/0", "::/0", "*", "Internet", "Any", "any", "0.0.0.0")
        for v in value.replace(",", " ").split()
    )


# -- protections other families' commands switch off ---------------------------------------------
_FALSE = frozenset({"false", "0", "no", "off"})
_TLS_VARS = {
    "NODE_TLS_REJECT_UNAUTHORIZED": lambda v: v.strip() == "0",
    "PYTHONHTTPSVERIFY": lambda v: v.strip() == "0",
    "GIT_SSL_NO_VERIFY": lambda v: v.strip().lower() not in ("", "0", "false", "no"),
    "CURL_SSL_NO_VERIFY": lambda v: v.strip().lower() not in ("", "0", "false", "no"),
    "REQUESTS_CA_BUNDLE": lambda v: v.strip() == "",
    "NPM_CONFIG_STRICT_SSL": lambda v: v.strip().lower() in _FALSE,
    "PIP_TRUSTED_HOST": lambda v: bool(v.strip()),
    "GONOSUMCHECK": lambda v: False,
    "GOINSECURE": lambda v: bool(v.strip()),
    "GOFLAGS": lambda v: "-insecure" in v,
}


def env_hit(name: str, value: str) -> tuple[int, str, str] | None:
    """A variable that switches TLS verification off for whatever runs with it."""
    test = _TLS_VARS.get(name)
    if test is not None and test(value):
        return (3, "protect.tls-verify-off", f"{name}={value} switches TLS certificate verification off")
    return None


_RELEVANT = frozenset(
    {
        "git",
        "npm",
        "yarn",
        "pnpm",
        "pip",
        "pip3",
        "conda",
        "mamba",
        "kubectl",
        "oc",
        "aws",
        "gcloud",
        "gsutil",
        "az",
        "crontab",
        "sed",
        "gsed",
        "perl",
        "tee",
        "echo",
        "printf",
        "cat",
    }
)
_SSHD_WEAK = (
    "passwordauthentication yes",
    "permitrootlogin yes",
    "permitemptypasswords yes",
    "kbdinteractiveauthentication yes",
    "challengeresponseauthentication yes",
)


def part_hits(simple, argv: list[str]) -> list[tuple[int, str, str]]:
    name = argv[0]
    if name not in _RELEVANT and not simple.redirects:
        return []
    words = [a for a in argv[1:] if not a.startswith("-")]
    hit = None
    if name == "git":
        hit = _git(argv, words)
    elif name in ("npm", "yarn", "pnpm"):
        hit = _node_config(name, words)
    elif (
        name in ("pip", "pip3")
        and words[:2] == ["config", "set"]
        and len(words) > 2
        and words[2].endswith(".trusted-host")
    ):
        hit = (
            3,
            "protect.tls-verify-off",
            f"pip config set {words[2]} trusts a host without verifying its certificate",
        )
    elif name in ("conda", "mamba") and "ssl_verify" in argv and any(a.lower() in _FALSE for a in argv):
        hit = (3, "protect.tls-verify-off", f"{name} config --set ssl_verify false")
    elif name in ("kubectl", "oc"):
        hit = _kube(argv, words)
    elif name in ("aws", "gcloud", "gsutil", "az"):
        hit = _cloud(name, argv, words)
    elif name == "crontab":
        hit = _crontab(argv)
    hits = [hit] if hit is not None else []
    hits.extend(_config_edits(simple, argv))
    return hits


def _git(argv: list[str], words: list[str]) -> tuple[int, str, str] | None:
    if "-c" not in argv and "config" not in argv:
        return None
    for i, a in enumerate(argv[1:], 1):
        if a == "-c" and i + 1 < len(argv) and _ssl_off(*argv[i + 1].partition("=")[::2]):
            return (3, "protect.tls-verify-off", f"git -c {argv[i + 1]} skips TLS certificate checks")
    if "config" in words:
        rest = words[words.index("config") + 1 :]
        if rest and "=" not in rest[0] and len(rest) >= 2 and _ssl_off(rest[0], rest[1]):
            return (
                3,
                "protect.tls-verify-off",
                f"git config {rest[0]} {rest[1]} switches TLS certificate checks off",
            )
    return None


def _ssl_off(key: str, value: str) -> bool:
    key = key.lower()
    return key.startswith("http.") and key.endswith(".sslverify") and value.lower() in _FALSE


def _node_config(name: str, words: list[str]) -> tuple[int, str, str] | None:
    if words[:1] == ["config"]:
        words = words[1:]
    if words[:1] != ["set"] or len(words) < 2:
        return None
    key, _, value = words[1].partition("=")
    value = value or (words[2] if len(words) > 2 else "")
    if key.lower() in ("strict-ssl", "enablestrictssl", "strict_ssl") and value.lower() in _FALSE:
        return (
            3,
            "protect.tls-verify-off",
            f"{name} config set {key} {value} switches TLS certificate checks off",
        )
    return None


def _kube(argv: list[str], words: list[str]) -> tuple[int, str, str] | None:
    if "patch" not in argv and "create" not in argv and "config" not in argv:
        return None
    text = " ".join(argv)
    for i, w in enumerate(words):  # skip values of global options (`--context prod create …`)
        if w in ("patch", "create", "config"):
            words = words[i:]
            break
    if words[:2] == ["config", "set-cluster"] and any(
        a == "--insecure-skip-tls-verify" or a == "--insecure-skip-tls-verify=true" for a in argv
    ):
        return (
            3,
            "protect.tls-verify-off",
            "kubectl config set-cluster --insecure-skip-tls-verify stops checking the API server",
        )
    if words[:1] == ["patch"] and len(words) > 1:
        kind = words[1].split("/")[0].lower()
        if (
            kind in ("pv", "persistentvolume", "persistentvolumes")
            and "persistentVolumeReclaimPolicy" in text
            and "Delete" in text
        ):
            return (
                3,
                "protect.pv-reclaim-delete",
                "sets a PersistentVolume's reclaim policy to Delete (its data goes with its claim)",
            )
    if words[:1] == ["create"] and len(words) > 1 and words[1] in ("clusterrolebinding", "rolebinding"):
        role = None
        for i, a in enumerate(argv):
            if a == "--clusterrole" and i + 1 < len(argv):
                role = argv[i + 1]
            elif a.startswith("--clusterrole="):
                role = a.split("=", 1)[1]
        if role == "cluster-admin":
            return (3, "protect.cluster-admin", f"kubectl create {words[1]} grants cluster-admin")
    return None


_SERVICES = frozenset(
    {
        "ec2",
        "s3",
        "s3api",
        "s3control",
        "run",
        "functions",
        "compute",
        "storage",
        "iam",
        "acl",
        "defacl",
        "network",
    }
)


# Text a cloud command must contain to expose anything: one scan rejects `aws s3 ls` and friends.
_CLOUD_MARKERS = {
    "aws": ("0.0.0.0/0", "::/0", "public", "AllUsers", "Principal", "--acl"),
    "gcloud": ("allUsers", "allAuthenticatedUsers", "--allow-unauthenticated", "0.0.0.0/0", "::/0"),
    "gsutil": ("allUsers", "AllUsers", "allAuthenticatedUsers", "public-read"),
    "az": ("--public-access", "--allow-blob-public-access", "nsg"),
}


def _cloud(name: str, argv: list[str], words: list[str]) -> tuple[int, str, str] | None:
    text = " ".join(argv)
    if not any(m in text for m in _CLOUD_MARKERS[name]):
        return None
    for i, w in enumerate(words):  # skip values of global options (`aws --profile prod ec2 …`)
        if w in _SERVICES:
            words = words[i:]
            break
    flat = "".join(text.split())
    if name == "aws":
        if words[:2] == ["ec2", "authorize-security-group-ingress"] and (
            "0.0.0.0/0" in text or "::/0" in text
        ):
            return (
                3,
                "protect.open-ingress",
                "opens a security group to the whole internet (0.0.0.0/0 or ::/0)",
            )
        acl = _value(argv, "--acl")
        if (
            acl in ("public-read", "public-read-write", "authenticated-read")
            or "acs.amazonaws.com/groups/global/AllUsers" in text
        ):
            return (3, "protect.public-bucket", f"makes S3 data public ({acl or 'AllUsers grant'})")
        if words[:2] in (
            ["s3api", "delete-public-access-block"],
            ["s3control", "delete-public-access-block"],
        ) or (words[:2] == ["s3api", "put-public-access-block"] and "=false" in flat.lower()):
            return (3, "protect.public-bucket", "removes an S3 public access block")
        if words[:2] == ["s3api", "put-bucket-policy"] and ('"Principal":"*"' in flat or '"AWS":"*"' in flat):
            return (
                3,
                "protect.public-bucket",
                "a bucket policy that grants access to everyone (Principal *)",
            )
        return None
    if name == "gcloud":
        if "--allow-unauthenticated" in argv:
            return (
                3,
                "protect.public-service",
                "--allow-unauthenticated lets anyone on the internet call it",
            )
        member = _value(argv, "--member")
        if member in ("allUsers", "allAuthenticatedUsers"):
            return (
                3,
                "protect.public-bucket" if "storage" in words else "protect.public-service",
                f"grants {member} access",
            )
        if words[:2] == ["compute", "firewall-rules"] and _world(_value(argv, "--source-ranges") or ""):
            return (3, "protect.open-ingress", "a firewall rule open to the whole internet (0.0.0.0/0)")
        return None
    if name == "gsutil":
        if ("allUsers" in text or "AllUsers" in text or "allAuthenticatedUsers" in text) and words[:1] in (
            ["iam"],
            ["acl"],
            ["defacl"],
        ):
            return (3, "protect.public-bucket", "gsutil grants allUsers access to a bucket")
        if (
            words[:2] in (["acl", "set"], ["defacl", "set"])
            and len(words) > 2
            and words[2].startswith("public-read")
        ):
            return (3, "protect.public-bucket", f"gsutil {words[0]} set {words[2]}")
        return None
    # az
    if words[:3] in (["network", "nsg", "rule"],) and _world(
        _value(argv, "--source-address-prefixes") or _value(argv, "--source-address-prefix") or ""
    ):
        return (3, "protect.open-ingress", "an NSG rule open to the whole internet")
    public = _value(argv, "--public-access")
    if words[:2] == ["storage", "container"] and public in ("blob", "container"):
        return (3, "protect.public-bucket", f"az storage container --public-access {public}")
    if (
        words[:2] == ["storage", "account"]
        and (_value(argv, "--allow-blob-public-access") or "").lower() == "true"
    ):
        return (3, "protect.public-bucket", "az storage account --allow-blob-public-access true")
    return None


def _value(argv: list[str], flag: str) -> str | None:
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _crontab(argv: list[str]) -> tuple[int, str, str] | None:
    args = argv[1:]
    files = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a == "-u":
            skip = True
        elif not a.startswith("-"):
            files.append(a)
    if files:
        return (3, "protect.crontab-replace", f"crontab {files[0]} replaces the whole crontab with that file")
    return None


def _config_edits(simple, argv: list[str]) -> list[tuple[int, str, str]]:
    """sed -i / echo >> / tee onto sshd_config or the SELinux config that weaken them."""
    name = argv[0]
    if not simple.redirects and name not in ("sed", "gsed", "perl", "tee"):
        return []
    targets = [t for op, t in simple.redirects if op in (">", ">>", ">|")]
    if name in ("sed", "gsed", "perl", "tee"):
        targets += [a for a in argv[1:] if not a.startswith("-")]
    if not targets:
        return []
    sshd = any("sshd_config" in t for t in targets)
    selinux = any(t.endswith("selinux/config") for t in targets)
    if not (sshd or selinux):
        return []
    if name in ("sed", "gsed", "perl"):
        text = " ".join(_written_by_expression(a) for a in argv[1:] if not a.startswith("-"))
    else:
        text = " ".join(argv[1:])
    if simple.stdin:
        text += "\n" + simple.stdin
    src = simple.pipe_src
    if src is not None and src.argv and src.argv[0] in ("echo", "printf", "cat"):
        text += "\n" + " ".join(src.argv[1:]) + ("\n" + src.stdin if src.stdin else "")
    flat = " ".join(text.lower().replace("\\s", " ").replace("\\t", " ").split())
    if sshd and any(w in flat for w in _SSHD_WEAK):
        return [(3, "protect.sshd-weakened", "enables password or root login in sshd_config")]
    if selinux and ("selinux=disabled" in flat or "selinux=permissive" in flat):
        return [(3, "protect.selinux-off", "disables SELinux in /etc/selinux/config (from the next boot)")]
    return []


def _written_by_expression(expr: str) -> str:
    """What a sed/perl expression writes: the replacement of `s/old/new/`, else the whole text
    (`$a PermitRootLogin yes`). `s/PermitRootLogin yes/PermitRootLogin no/` tightens, not loosens."""
    if len(expr) > 2 and expr[0] == "s" and not expr[1].isalnum() and not expr[1].isspace():
        delim = expr[1]
        pieces = []
        cur = ""
        escaped = False
        for ch in expr[2:]:
            if escaped:
                cur += ch
                escaped = False
            elif ch == "\\":
                cur += ch
                escaped = True
            elif ch == delim:
                pieces.append(cur)
                cur = ""
            else:
                cur += ch
        pieces.append(cur)
        if len(pieces) >= 2:
            return pieces[1]
    return expr
