"""One redaction function for everything that is stored, logged, embedded or sent to an LLM.

Stdlib only and compiled on first use: the audit log of the guardrails hook calls it on
every decision. Replacements keep the shape of the text (``password=[REDACTED:password]``)
so a redacted command still reads as what it was.
"""

from __future__ import annotations

import re
from typing import Any

_RULES: list[tuple[str, re.Pattern[str], str]] | None = None


def _rules() -> list[tuple[str, re.Pattern[str], str]]:
    global _RULES
    if _RULES is None:
        raw = [
            # Whole PEM blocks first, so no later rule sees half a key.
            (
                "private-key",
                r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
                "[REDACTED:private-key]",
            ),
            (
                "url-password",
                r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@'\"]+:)(?P<secret>[^\s@/'\"]+)(?P<post>@)",
                r"\g<pre>[REDACTED:url-password]\g<post>",
            ),
            (
                "aws-access-key",
                r"\b(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b",
                "[REDACTED:aws-access-key]",
            ),
            (
                "github-token",
                r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})",
                "[REDACTED:github-token]",
            ),
            (
                "gitlab-token",
                r"\b(?:glpat|gldt|glrt|glcbt|glptt|glsoat|glimt|glagent|glffct)-[A-Za-z0-9_\-]{16,}",
                "[REDACTED:gitlab-token]",
            ),
            ("slack-token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", "[REDACTED:slack-token]"),
            (
                "slack-webhook",
                r"https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]+",
                "[REDACTED:slack-webhook]",
            ),
            ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}\b", "[REDACTED:google-api-key]"),
            ("llm-api-key", r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}", "[REDACTED:api-key]"),
            ("stripe-key", r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", "[REDACTED:stripe-key]"),
            ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", "[REDACTED:jwt]"),
            (
                "bearer",
                r"(?P<pre>\b(?:Bearer|Basic|token)\s+)(?P<secret>[A-Za-z0-9._~+/\-]{16,}=*)",
                r"\g<pre>[REDACTED:bearer]",
            ),
            # key=value / key: value / --key value / "key": "value" pairs whose key names a secret.
            # After a bare space the value must hold a digit or a symbol: "token signing key
            # rotated" names a secret, it does not contain one (redact values, not words).
            (
                "secret-pair",
                r"(?P<pre>(?<![A-Za-z0-9])[\"']?(?:--)?[A-Za-z0-9_.\-]*(?:password|passwd|passphrase|pwd|secret|token|api[_\-]?key|apikey|access[_\-]?key|private[_\-]?key|client[_\-]?secret|auth[_\-]?key|credentials?)[\"']?(?:\s*[=:]\s*|\s+(?=[\"']?(?=[^\s\"']*[^A-Za-z\s\"'])[^\s\"'-]{6,}))[\"']?)(?P<secret>(?!\[REDACTED)[^\s\"',;}&]{3,})",
                r"\g<pre>[REDACTED:secret]",
            ),
            # mysql -pSECRET (no space), a classic leak in shell history.
            (
                "mysql-password",
                r"(?P<pre>\bmysql(?:dump|admin)?\b[^\n|;&]*?\s-p)(?P<secret>[^\s\-][^\s]*)",
                r"\g<pre>[REDACTED:secret]",
            ),
        ]
        # Key names match in any case; tokens keep their exact case; PEM blocks span lines.
        flags = {"private-key": re.DOTALL, "secret-pair": re.IGNORECASE, "bearer": re.IGNORECASE}
        _RULES = [(name, re.compile(pattern, flags.get(name, 0)), repl) for name, pattern, repl in raw]
    return _RULES


def redact(text: str) -> str:
    """Return ``text`` with secrets replaced by ``[REDACTED:<kind>]``."""
    if not text:
        return text
    for _name, pattern, repl in _rules():
        text = pattern.sub(repl, text)
    return text


def find_secrets(text: str) -> list[str]:
    """The kinds of secret found in ``text`` (empty when clean)."""
    return [name for name, pattern, _ in _rules() if pattern.search(text or "")]


def redact_obj(value: Any) -> Any:
    """Redact every string inside nested dicts/lists; keys whose name marks a secret are blanked."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and isinstance(item, str) and _SECRET_KEY.search(key):
                out[key] = "[REDACTED:secret]" if item else item
            else:
                out[key] = redact_obj(item)
        return out
    if isinstance(value, (list, tuple)):
        return [redact_obj(item) for item in value]
    return value


_SECRET_KEY = re.compile(
    r"password|passwd|secret|token|api[_\-]?key|private[_\-]?key|credential", re.IGNORECASE
)
