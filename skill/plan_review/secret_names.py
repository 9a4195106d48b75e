"""Which attribute names hold credentials, shared by the plan review and the HCL checks."""

from __future__ import annotations

import re

_EXACT = {
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "access_key",
    "secret_key",
    "private_key",
    "client_secret",
    "connection_string",
    "auth_token",
    "sas_token",
    "access_token",
    "refresh_token",
    "primary_access_key",
    "secondary_access_key",
    "secret_string",
    "secret_data",
    "secret_value",
}
_SUFFIX = re.compile(
    r"_(?:password|passwd|passphrase|secret|token|api_key|apikey|access_key|secret_key|private_key|"
    r"client_secret|connection_string|credentials?)$"
)
# Names that mention a secret but hold a reference to it, a length or a policy, not the value.
_NOT_A_VALUE = re.compile(
    r"(?:_(?:arn|id|ids|name|names|length|version|versions|ttl|policy|rotation\w*|enabled|type|"
    r"wo_version|id_list|prefix|path|reference|ref|count|min\w*|max\w*)$)|(?:^(?:manage|generate)_)"
)


def is_secret_name(name: str) -> bool:
    """True when an attribute or variable called ``name`` would hold a credential.

    Write-only attributes (Terraform 1.11+: ``password_wo``, ``secret_string_wo``, ``value_wo``)
    exist to carry secrets out of plan and state, so any of them holds one; a literal written in
    the code is still in git.
    """
    lowered = name.lower().strip('"')
    if lowered.endswith("_wo"):
        return True
    if _NOT_A_VALUE.search(lowered):
        return False
    return lowered in _EXACT or bool(_SUFFIX.search(lowered))
