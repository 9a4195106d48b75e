"""Domain errors and the exit codes every command shares.

Exit codes (one convention for every command and script):

    0  OK / allowed
    1  findings at or above the threshold, or a gate not met (a failed deploy, a NO-GO)
    2  usage or input error
    3  approval needed
    4  blocked (also: an internal error of the safety gate, which fails closed)
    5  operational failure: a store could not be read or written, an external tool failed

The library raises the exceptions below; the CLI layers turn them into a one-line
``Error: ...`` on stderr and the matching exit code in one place (``skill.cli_support``).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_APPROVAL = 3
EXIT_BLOCKED = 4
EXIT_FAILURE = 5


class DevopsError(Exception):
    """Base class: an expected failure with a message fit for the user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(DevopsError):
    """Bad arguments or bad input given by the caller."""


class InputError(DevopsError):
    """An input file is missing, unreadable, malformed or of the wrong kind."""


class ConfigError(DevopsError):
    """A configuration or policy file is broken."""


class ToolMissingError(DevopsError):
    """An external CLI (gh, glab, terraform, kubectl, ...) is not installed or not on PATH."""


class ToolFailedError(DevopsError):
    """An external CLI ran and failed (non-zero exit, timeout, not authenticated)."""

    exit_code = EXIT_FAILURE


class StorageError(DevopsError):
    """A database or index could not be read or written (locked, corrupt, unavailable)."""

    exit_code = EXIT_FAILURE


class NotFoundError(DevopsError):
    """A record asked for by id does not exist."""


class GateRefusal(DevopsError):
    """The safety gate did not allow a change. Carries the decision's data; each front-end renders
    its own hint (a CLI names its flags, an MCP tool its parameters), so none is built in here."""

    def __init__(
        self,
        message: str,
        *,
        tier: int | None = None,
        reasons: list[str] | None = None,
        request_id: str | None = None,
        decision: dict | None = None,
        hint: str | None = None,
    ):
        super().__init__(message, hint=hint)
        self.tier = tier
        self.reasons = list(reasons or [])
        self.request_id = request_id
        self.decision = decision

    def payload(self) -> dict:
        """The JSON a front-end prints or returns for this refusal."""
        return {
            "status": "approval_required" if isinstance(self, ApprovalRequired) else "blocked",
            "error": self.message,
            "request_id": self.request_id,
            "tier": self.tier,
            "reasons": self.reasons,
            "decision": self.decision,
        }


class ApprovalRequired(GateRefusal):
    """The safety gate asks for a human approval (request_id) before this change."""

    exit_code = EXIT_APPROVAL


class Blocked(GateRefusal):
    """The safety gate refused the change; nobody can approve it as it stands."""

    exit_code = EXIT_BLOCKED
