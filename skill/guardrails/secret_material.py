"""What counts as secret material: files and folders, variable names, commands that print secrets.

One matcher, by family rather than by string: a private key is recognised by its name or suffix in
any folder (`id_ed25519`, `*.key`, `*.p12`, a `.pem` whose content holds a private key), tool
credentials by the folder they live in wherever that folder is (`…/.aws/credentials` under any
home, `/root/.kube/config`), `.env` files by shape (`.env`, `.env.production`, `prod.env`) minus
templates. The shell-command pass (skill.guardrails.exfiltration) and the hook's Read/Grep/Glob
check both ask this module.

Kept free of `re` and `fnmatch` on the common path: it runs inside the per-call hook budget.
Policy can widen and narrow the list (``[secrets] paths``/``allow``, see :func:`configure`).
"""

from __future__ import annotations

import os

MATERIAL = "material"
ENVIRONMENT = "environment"

# Names that are secret wherever they are.
_SECRET_NAMES = {
    ".netrc": "credentials file",
    "_netrc": "credentials file",
    ".pgpass": "database password file",
    ".git-credentials": "git credentials",
    ".vault-token": "vault token",
    ".my.cnf": "database password file",
    ".htpasswd": "password file",
    ".s3cfg": "cloud credentials",
    ".boto": "cloud credentials",
    ".databrickscfg": "cloud credentials",
    ".envrc": "environment file (direnv)",
    "credentials.tfrc.json": "terraform cloud token",
    "application_default_credentials.json": "cloud credentials",
    "access_tokens.db": "cloud credentials",
    "shadow": None,  # only under /etc, see below
    "gshadow": None,
    "master.key": "private key",
}
# Private keys by name (the `.pub` half is public).
_KEY_PREFIXES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_xmss")
_KEY_SUFFIXES = (".key", ".p12", ".pfx", ".jks", ".keystore", ".ppk", ".kdbx", ".p8", ".pkcs12", ".der.key")
_PUBLIC_SUFFIXES = (".pub", ".crt", ".cer", ".csr", ".pub.pem")
_ENV_TEMPLATES = (".example", ".sample", ".template", ".dist", ".defaults", ".tpl", ".schema")
# Home-style folders: the folder itself and (unless listed as public) everything in it.
# folder -> (label, names inside that are not secret; None = every entry is secret)
_FOLDERS: dict[str, tuple[str, frozenset[str] | None]] = {
    ".ssh": (
        "SSH keys",
        frozenset(
            {"known_hosts", "known_hosts.old", "authorized_keys", "authorized_keys2", "config", "environment"}
        ),
    ),
    ".gnupg": ("GnuPG keyring", None),
    ".azure": (
        "Azure credentials",
        frozenset({"config", "clouds.config", "az.json", "commands", "logs", "telemetry"}),
    ),
    ".password-store": ("password store", None),
    ".aws": (
        "AWS credentials",
        frozenset({"config", "cli", "amazonq", "models"}),
    ),
    ".kube": ("Kubernetes credentials", frozenset({"cache", "http-cache", "kuberc"})),
    ".docker": (
        "Docker registry credentials",
        frozenset({"buildx", "contexts", "features.json", "cli-plugins", "daemon.json", "machine"}),
    ),
    ".oci": ("OCI credentials", None),
}
# Two-level folders under a home: (parent, child) -> label, names inside that are not secret.
_NESTED: dict[tuple[str, str], tuple[str, frozenset[str] | None]] = {
    (".config", "gcloud"): (
        "Google Cloud credentials",
        frozenset({"configurations", "logs", "active_config", ".last_update_check.json", "virtenv"}),
    ),
    (".config", "gh"): ("GitHub CLI token", frozenset({"config.yml"})),
    (".config", "hub"): ("GitHub token", None),
    (".config", "op"): ("1Password CLI session", None),
    (".config", "doctl"): ("DigitalOcean token", None),
    (".config", "rclone"): ("rclone remotes and keys", None),
    (".config", "helm"): ("Helm registry credentials", frozenset({"repositories.yaml"})),
    (".local", "share"): ("", None),  # only share/keyrings, below
    (".terraform.d", "credentials.tfrc.json"): ("terraform cloud token", None),
    (".cargo", "credentials"): ("cargo registry token", None),
    (".cargo", "credentials.toml"): ("cargo registry token", None),
    (".gem", "credentials"): ("rubygems API key", None),
    (".aws", "credentials"): ("AWS credentials", None),
    (".aws", "sso"): ("AWS SSO tokens", None),
    (".kube", "config"): ("Kubernetes credentials", None),
    (".docker", "config.json"): ("Docker registry credentials", None),
}
_FOLDER_WORDS = frozenset({*_FOLDERS, *(k[0] for k in _NESTED), "secrets", "environ"})
# Folders that hold secret material somewhere inside: sending them whole sends secrets.
_HOME_LIKE = ("~", "$HOME", "${HOME}", "/root")

_EXTRA: list[str] = []  # policy [secrets] paths (globs)
_ALLOW: list[str] = []  # policy [secrets] allow (globs)


def configure(paths: list[str] | tuple = (), allow: list[str] | tuple = ()) -> None:
    """Policy `[secrets] paths = [...]` (more secret material) and `allow = [...]` (not secret)."""
    _EXTRA[:] = [os.path.expanduser(p) for p in paths]
    _ALLOW[:] = [os.path.expanduser(p) for p in allow]


def _glob_hit(patterns: list[str], word: str, full: str) -> bool:
    from fnmatch import fnmatchcase

    base = full.rsplit("/", 1)[-1]
    for pattern in patterns:
        target = full if "/" in pattern else base
        if fnmatchcase(target, pattern) or fnmatchcase(word, pattern):
            return True
        if "/" in pattern and full.startswith(pattern.rstrip("/") + "/"):
            return True  # a folder named in policy covers everything in it
    return False


def _expand(word: str, cwd: str | None) -> str:
    """The path a word names, with the home directory written out and relative paths joined."""
    home = os.path.expanduser("~")
    for prefix in ("${HOME}", "$HOME"):
        if word == prefix or word.startswith(prefix + "/"):
            word = home + word[len(prefix) :]
            break
    if word.startswith("~"):
        word = os.path.expanduser(word)
    if cwd and not word.startswith("/"):
        word = os.path.join(cwd, word)
    return os.path.normpath(word) if word else word


def secret_path(word: str, cwd: str | None = None, *, folders: bool = False) -> str | None:
    """A short description when ``word`` names secret material, else None.

    ``folders``: also count folders that merely contain secrets (a home directory, /etc) — for
    archives and copies sent off the machine, not for printing.
    """
    if not word or word[0] == "-" or len(word) > 4096:
        return None
    if "://" in word:
        return None
    label = _match(word)
    if label is None and folders:
        stripped = word.rstrip("/") or "/"
        if stripped in _HOME_LIKE or stripped in ("/home", "/etc", "/Users", "/"):
            label = f"{word} (a folder that holds keys and credentials)"
        elif stripped.startswith(("/home/", "/Users/")) and stripped.count("/") == 2:
            label = f"{word} (a home folder: keys and credentials)"
    if (_EXTRA or _ALLOW) and "$" not in word:
        full = _expand(word, cwd)
        if _ALLOW and _glob_hit(_ALLOW, word, full):
            return None
        if label is None and _EXTRA and _glob_hit(_EXTRA, word, full):
            return f"{word} (secret by policy)"
    if label == "pem?":
        return _pem(word, cwd)
    if label is not None and label.startswith("rc?"):
        return _token_file(word, cwd, label[3:])
    return label


def _match(word: str) -> str | None:
    path = word
    for prefix in ("${HOME}", "$HOME"):
        if path.startswith(prefix):
            path = "~" + path[len(prefix) :]
            break
    parts = [p for p in path.split("/") if p and p != "."]
    if not parts:
        return None
    base = parts[-1]
    lower = base.lower()
    glob = any(c in base for c in "*?[")
    if glob:
        found = _glob_name(lower)
        if found:
            return f"{word} ({found})"
    # folder families, wherever the folder sits (any user's home, a mounted home, a backup)
    for i, part in enumerate(parts if not _FOLDER_WORDS.isdisjoint(parts) else ()):
        if part == "secrets" and i >= 1 and parts[i - 1] == "run":
            return f"{word} (mounted secrets)"
        if part == "environ" and i >= 2 and parts[i - 2] == "proc":
            return "environment"
        spec = _FOLDERS.get(part)
        rest = parts[i + 1 :]
        if i + 1 < len(parts):
            nested = _NESTED.get((part, parts[i + 1]))
            if nested is not None:
                if part == ".local":
                    if len(parts) > i + 2 and parts[i + 2] == "keyrings":
                        return f"{word} (desktop keyring)"
                    continue
                inner = parts[i + 2 :]
                if nested[1] is None or not inner or inner[0] not in nested[1]:
                    return f"{word} ({nested[0]})"
                return None
        if spec is None:
            continue
        label, public = spec
        if not rest:
            return f"{word} ({label})"
        first = rest[0]
        if public is not None and (
            first in public or first.endswith(_PUBLIC_SUFFIXES) or first.startswith("known_hosts")
        ):
            return None
        return f"{word} ({label})"
    if lower in _SECRET_NAMES:
        what = _SECRET_NAMES[lower]
        if what is None:
            return f"{word} (the password hash file)" if len(parts) >= 2 and parts[-2] == "etc" else None
        return f"{word} ({what})"
    if lower.endswith(_PUBLIC_SUFFIXES):
        return None
    if lower.startswith(_KEY_PREFIXES) or (lower.startswith("ssh_host_") and lower.endswith("_key")):
        return f"{word} (private key)"
    if lower.endswith(_KEY_SUFFIXES):
        return f"{word} (private key or key store)"
    if lower.endswith(".pem"):
        return "pem?"
    if _is_env_file(lower):
        return f"{word} (environment file with secrets)"
    if lower.endswith((".tfstate", ".tfstate.backup")) or "terraform.tfstate.d" in parts:
        return f"{word} (terraform state: holds resource secrets)"
    if lower.startswith("kubeconfig"):
        return f"{word} (Kubernetes credentials)"
    if lower.endswith(".json") and (
        lower.startswith("client_secret")
        or "service-account" in lower
        or "service_account" in lower
        or "serviceaccount" in lower
        or lower.endswith(("-sa-key.json", "_sa_key.json", "credentials.json"))
    ):
        return f"{word} (cloud service account key)"
    if (
        lower.split(".")[0] in ("secrets", "secret")
        and lower.endswith((".yml", ".yaml", ".json", ".toml", ".env", ".ini"))
        and not any(x in lower for x in (".enc.", ".sops.", "sealed", ".example", ".sample", ".template"))
    ):
        return f"{word} (secrets file)"
    if lower in (".npmrc", ".pypirc"):
        home_level = len(parts) == 2 and parts[0] in ("~",) or len(parts) >= 2 and parts[-2] == "root"
        return f"{word} (registry token)" if home_level else "rc?" + f"{word} (registry token)"
    return None


def _is_env_file(lower: str) -> bool:
    if lower == ".env":
        return True
    if lower.startswith(".env.") or lower.endswith(".env") and len(lower) > 4:
        return not lower.endswith(_ENV_TEMPLATES)
    return False


# A glob's basename could match one of these: judge the glob by the worst file it can name.
_REPRESENTATIVE = (
    "id_rsa",
    "id_ed25519",
    "server.key",
    "cert.p12",
    ".env",
    ".env.production",
    "prod.tfstate",
)


def _glob_name(lower: str) -> str | None:
    from fnmatch import fnmatchcase

    for name in _REPRESENTATIVE:
        if fnmatchcase(name, lower) and lower not in ("*", "*.*", "?*"):
            return "a glob that can match keys or .env files"
    return None


def _read_head(word: str, cwd: str | None) -> str | None:
    full = _expand(word, cwd)
    try:
        with open(full, "rb") as fh:
            return fh.read(65536).decode("latin-1")
    except (OSError, ValueError):
        return None


def _pem(word: str, cwd: str | None) -> str | None:
    """A .pem can be a certificate (public) or a private key: look when the file is there."""
    text = _read_head(word, cwd)
    if text is not None:
        return f"{word} (private key)" if "PRIVATE KEY" in text else None
    lower = os.path.basename(word).lower()
    if any(w in lower for w in ("cert", "chain", "ca-", "ca.", "bundle", "public", "pub")):
        return None  # named like a certificate and not there to read: public until shown otherwise
    return f"{word} (PEM file, may hold a private key)"


def _token_file(word: str, cwd: str | None, label: str) -> str | None:
    """A project .npmrc/.pypirc is secret only when it holds a token or password."""
    text = _read_head(word, cwd)
    if text is None:
        return None
    return label if any(k in text for k in ("_authToken", "_auth", "password", ":_password")) else None


# -- variables ---------------------------------------------------------------------------------
_STRONG = (
    "TOKEN",
    "TOKENS",
    "SECRET",
    "SECRETS",
    "PASSWORD",
    "PASSWORDS",
    "PASSWD",
    "PASSPHRASE",
    "CREDENTIAL",
    "CREDENTIALS",
    "APIKEY",
    "PRIVATEKEY",
)
_WEAK = frozenset({"PASS", "PWD", "KEY", "KEYS", "PAT", "DSN", "CREDS", "WEBHOOK", "COOKIE", "AUTH", "OTP"})
_NOT_SECRET_LAST = frozenset(
    {
        "ID",
        "IDS",
        "NAME",
        "USER",
        "USERNAME",
        "HOST",
        "PORT",
        "FILE",
        "PATH",
        "DIR",
        "REGION",
        "TYPE",
        "METHOD",
        "EXPIRY",
        "EXPIRES",
        "EXPIRATION",
        "ENDPOINT",
        "LENGTH",
        "SIZE",
        "TTL",
        "ENABLED",
        "MODE",
        "VERSION",
        "ARN",
        "SOCK",
        "ALGORITHM",
        "FINGERPRINT",
        "HEADER",
        "URI",
        "URL",
        "PREFIX",
        "LOCATION",
    }
)
_SECRET_URLS = (
    "DATABASE_URL",
    "WEBHOOK_URL",
    "CONNECTION_STRING",
    "REDIS_URL",
    "MONGODB_URI",
    "MONGO_URL",
    "AMQP_URL",
)
# Variables that hold the path of a secret file.
PATH_VARS = frozenset(
    {
        "GOOGLE_APPLICATION_CREDENTIALS",
        "KUBECONFIG",
        "AWS_SHARED_CREDENTIALS_FILE",
        "PGPASSFILE",
        "NETRC",
        "VAULT_TOKEN_FILE",
        "SSH_KEY",
        "SSH_KEY_PATH",
        "SSH_PRIVATE_KEY_FILE",
        "DOCKER_CONFIG",
    }
)


def secret_variable(name: str) -> bool:
    """Does a variable of this name usually hold a secret (token, password, key, DSN)?"""
    upper = name.upper()
    if upper in ("PWD", "OLDPWD") or not upper:
        return False
    if upper.endswith(_SECRET_URLS) or upper.endswith("_DSN"):
        return True
    parts = [p for p in upper.split("_") if p]
    if not parts or parts[-1] in _NOT_SECRET_LAST:
        return False
    if "PUBLIC" in parts or "PUB" in parts:
        return False
    for part in parts:
        if part in _WEAK or part.endswith(_STRONG):
            return True
    return False


# -- commands that print secrets -------------------------------------------------------------
def _flag(argv: list[str], *flags: str) -> bool:
    for a in argv[1:]:
        if a in flags or (a.startswith("--") and a.split("=", 1)[0] in flags):
            return True
    return False


def _words(argv: list[str]) -> list[str]:
    return [a for a in argv[1:] if a and a[0] != "-"]


def _seq(words: list[str], *seq: str) -> bool:
    n = len(seq)
    for i in range(len(words) - n + 1):
        if tuple(words[i : i + n]) == seq:
            return True
    return False


_AWS = (
    (("secretsmanager", "get-secret-value"), None),
    (("secretsmanager", "batch-get-secret-value"), None),
    (("ssm", "get-parameter"), "--with-decryption"),
    (("ssm", "get-parameters"), "--with-decryption"),
    (("ssm", "get-parameters-by-path"), "--with-decryption"),
    (("ssm", "get-parameter-history"), "--with-decryption"),
    (("configure", "export-credentials"), None),
    (("ecr", "get-login-password"), None),
    (("ecr", "get-authorization-token"), None),
    (("ecr-public", "get-login-password"), None),
    (("sts", "get-session-token"), None),
    (("sts", "assume-role"), None),
    (("sts", "get-federation-token"), None),
    (("iam", "create-access-key"), None),
    (("kms", "decrypt"), None),
    (("rds", "generate-db-auth-token"), None),
    (("codeartifact", "get-authorization-token"), None),
    (("eks", "get-token"), None),
)
_GCLOUD = (
    ("secrets", "versions", "access"),
    ("auth", "print-access-token"),
    ("auth", "print-identity-token"),
    ("auth", "application-default", "print-access-token"),
    ("sql", "generate-login-token"),
)
_AZ = (
    ("keyvault", "secret", "show"),
    ("account", "get-access-token"),
    ("storage", "account", "keys", "list"),
    ("storage", "account", "show-connection-string"),
    ("acr", "credential", "show"),
    ("ad", "sp", "create-for-rbac"),
    ("cosmosdb", "keys", "list"),
    ("redis", "list-keys"),
    ("webapp", "deployment", "list-publishing-credentials"),
)
_KUBE_OUTPUTS = (
    "yaml",
    "json",
    "jsonpath",
    "go-template",
    "template",
    "custom-columns",
    "jsonpath-file",
    "go-template-file",
)


# A word one of these programs needs before it can print a secret: most calls (`git status`,
# `aws s3 ls`) are rejected with one set test, which keeps the hook's common path cheap.
_TRIGGERS = {
    "git": frozenset({"credential"}),
    "gh": frozenset({"auth"}),
    "glab": frozenset({"auth"}),
    "aws": frozenset(
        {
            "secretsmanager",
            "ssm",
            "configure",
            "ecr",
            "ecr-public",
            "sts",
            "iam",
            "kms",
            "rds",
            "codeartifact",
            "eks",
        }
    ),
    "gcloud": frozenset({"secrets", "auth", "sql"}),
    "az": frozenset({"keyvault", "account", "storage", "acr", "ad", "cosmosdb", "redis", "webapp"}),
    "vault": frozenset({"kv", "read", "token", "print"}),
    "terraform": frozenset({"state"}),
    "tofu": frozenset({"state"}),
    "terragrunt": frozenset({"state"}),
}


def printing_command(argv: list[str]) -> str | None:
    """A label when this command prints a secret value (a token, a decrypted secret)."""
    name = argv[0]
    trigger = _TRIGGERS.get(name)
    if trigger is not None and trigger.isdisjoint(argv):
        return None
    if name in ("kubectl", "oc") and not any("secret" in a or a in ("config", "token") for a in argv):
        return None
    words = _words(argv)
    if name in ("gh", "glab"):
        if name == "gh" and _seq(words, "auth", "token"):
            return "gh auth token (a GitHub token)"
        if _seq(words, "auth", "status") and _flag(argv, "-t", "--show-token"):
            return f"{name} auth status --show-token"
        return None
    if name == "aws":
        for seq, needs in _AWS:
            if _seq(words, *seq) and (needs is None or _flag(argv, needs)):
                return f"aws {' '.join(seq)} (prints a secret)"
        if _seq(words, "configure", "get") and any(secret_variable(w) for w in words[2:]):
            return "aws configure get (prints a secret key)"
        return None
    if name == "gcloud":
        for seq in _GCLOUD:
            if _seq(words, *seq):
                return f"gcloud {' '.join(seq)} (prints a secret)"
        return None
    if name == "az":
        for seq in _AZ:
            if _seq(words, *seq):
                return f"az {' '.join(seq)} (prints a secret)"
        return None
    if name in ("kubectl", "oc"):
        return _kube_secret(argv, words)
    if name == "vault":
        if _seq(words, "kv", "get") or _seq(words, "token", "create") or _seq(words, "print", "token"):
            return f"vault {' '.join(words[:2])} (prints a secret)"
        if (
            words[:1] == ["read"]
            and len(words) > 1
            and not words[1].startswith(("sys/", "auth/", "identity/"))
        ):
            return "vault read (prints a secret)"
        return None
    if name == "op":
        if words[:1] == ["read"]:
            return "op read (prints a 1Password secret)"
        if _seq(words, "item", "get") and _flag(argv, "--reveal"):
            return "op item get --reveal"
        if (words[:1] == ["inject"] or _seq(words, "document", "get")) and not _flag(
            argv, "-o", "--out-file", "--output"
        ):
            return f"op {' '.join(words[:2])} (prints secrets)"
        return None
    if name == "doppler":
        if words[:1] == ["secrets"] and (len(words) == 1 or words[1] in ("get",)):
            return "doppler secrets (prints secret values)"
        if _seq(words, "secrets", "download") and _flag(argv, "--no-file"):
            return "doppler secrets download --no-file"
        return None
    if name == "sops":
        if _flag(argv, "-d", "--decrypt") and not _flag(argv, "--output", "-i", "--in-place"):
            return "sops --decrypt (prints decrypted secrets)"
        return None
    if name in ("pass", "gopass"):
        if words[:1] == ["show"] or (words and words[0] not in _PASS_SUBCOMMANDS):
            return f"{name} show (prints a password)"
        return None
    if name == "security" and words[:1] in (["find-generic-password"], ["find-internet-password"]):
        return "security find-*-password (prints a keychain password)" if _flag(argv, "-w", "-g") else None
    if name == "secret-tool" and words[:1] == ["lookup"]:
        return "secret-tool lookup (prints a keyring secret)"
    if name == "bw" and words[:1] == ["get"]:
        return "bw get (prints a Bitwarden secret)"
    if name == "lpass" and words[:1] == ["show"]:
        return "lpass show (prints a LastPass secret)"
    if name == "git" and _seq(words, "credential", "fill"):
        return "git credential fill (prints stored credentials)"
    if name in ("gpg", "gpg2"):
        if _flag(argv, "--export-secret-keys", "--export-secret-subkeys"):
            return "gpg --export-secret-keys (prints private keys)"
        if _flag(argv, "-d", "--decrypt") and not _flag(argv, "-o", "--output"):
            return "gpg --decrypt (prints decrypted data)"
        return None
    if name == "age" and _flag(argv, "-d", "--decrypt") and not _flag(argv, "-o", "--output"):
        return "age --decrypt (prints decrypted data)"
    if name == "ansible-vault" and (
        words[:1] == ["view"] or words[:1] == ["decrypt"] and "--output=-" in argv
    ):
        return "ansible-vault view (prints decrypted vars)"
    if name.startswith("docker-credential-") and words[:1] == ["get"]:
        return f"{name} get (prints a registry credential)"
    if name == "heroku" and words[:1] == ["auth:token"]:
        return "heroku auth:token"
    if name in ("terraform", "tofu", "terragrunt") and _seq(words, "state", "pull"):
        return f"{name} state pull (the state holds resource secrets)"
    return None


_PASS_SUBCOMMANDS = frozenset(
    {
        "ls",
        "list",
        "find",
        "search",
        "grep",
        "insert",
        "add",
        "edit",
        "generate",
        "rm",
        "mv",
        "cp",
        "git",
        "init",
        "help",
        "version",
    }
)


def _kube_secret(argv: list[str], words: list[str]) -> str | None:
    if _seq(words, "config", "view") and _flag(argv, "--raw"):
        return "kubectl config view --raw (prints cluster credentials)"
    if _seq(words, "create", "token"):
        return "kubectl create token (prints a token)"
    if "get" not in words:
        return None
    after = words[words.index("get") + 1 :]
    if not after:
        return None
    kinds = after[0].lower().split(",")
    if not any(k.split("/")[0] in ("secret", "secrets") for k in kinds):
        return None
    output = None
    args = argv[1:]
    for i, a in enumerate(args):
        if a in ("-o", "--output") and i + 1 < len(args):
            output = args[i + 1]
        elif a.startswith("--output="):
            output = a.split("=", 1)[1]
        elif a.startswith("-o") and len(a) > 2 and not a.startswith("--"):
            output = a[2:].lstrip("=")
    if output and output.split("=", 1)[0] in _KUBE_OUTPUTS:
        return f"kubectl get secret -o {output.split('=', 1)[0]} (prints secret data)"
    return None


def environment_dump(argv: list[str]) -> str | None:
    """A label when the command prints the whole environment."""
    name = argv[0]
    args = argv[1:]
    if name in ("env", "printenv") and all(a.startswith("-") for a in args):
        return f"{name} (the whole environment)"
    if name == "set" and not args:
        return "set (every variable)"
    if (
        name in ("export", "declare", "typeset")
        and all(a.startswith("-") for a in args)
        and (not args or any("p" in a or "x" in a for a in args))
    ):
        return f"{name} {' '.join(args)} (every exported variable)".replace("  ", " ")
    if name == "ps" and args and not args[0].startswith("-") and "e" in args[0]:
        return "ps e (the environment of processes)"
    return None


# -- the hook's Read/Grep/Glob ---------------------------------------------------------------
_GATE_FILES = ("approval.key", "approvals.db", "operator-key.json")


def read_verdict(path: str, cwd: str | None = None) -> tuple[int, str, str, bool]:
    """(tier, rule id, reason, deny) for reading ``path`` (or a glob) with a file tool.

    The path as written and, for a symlink, where it points are both judged: `notes.txt ->
    ~/.ssh/id_rsa` is a key. The gate's own key and approvals are never read (deny).
    """
    full = _expand(path, cwd)
    candidates = [path, full]
    try:
        real = os.path.realpath(full)
        if real != full:
            candidates.append(real)
    except (OSError, ValueError):
        pass
    try:
        from skill.paths import data_dir

        gate = os.path.normpath(data_dir())
    except Exception:  # noqa: BLE001 - no data dir: nothing of the gate's to protect here
        gate = None
    for name in candidates:
        if gate and (name == gate or name.startswith(gate + os.sep)) or os.path.basename(name) in _GATE_FILES:
            return 4, "file.gate-data", "reads the gate's own keys or approvals", True
    for name in candidates:
        label = secret_path(name, cwd)
        if label is not None and label != "environment":
            return 3, "file.secret-read", f"reads secrets into the transcript: {label}", False
        if label == "environment":
            return 2, "secrets.environment", f"reads a process environment ({name})", False
    return 1, "file.read", "ordinary file", False
