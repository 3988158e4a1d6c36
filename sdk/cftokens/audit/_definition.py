"""Reading definitions as people write them: what Cloudflare rejects or ignores (CFT-LN-04).

Token definitions come from scripts, docs, Terraform and old exports. The inventory reads them
leniently, so one slip does not hide a whole token from the audit, and records each slip as a
:class:`DefinitionIssue` that CFT-LN-04 reports:

- a group given as a string (``"DNS Write"``) or with an id that is not 32 lower-case hex
  characters: read by name or id from the catalogue (Cloudflare refuses the body);
- AWS IAM-style fields (``action``, ``resource``, ``Statement`` …) in a policy;
- a ``condition`` inside a policy: Cloudflare reads conditions on the token only, so the IP
  restriction the author wrote has no effect (high: a restriction silently dropped);
- a policy whose groups fit none of its resources (it grants nothing);
- a placeholder left in a resource key (``<ACCOUNT_ID>``, ``${ZONE_ID}``, ``@CF_ACCOUNT_ID@``)
  or an id that is not 32 lower-case hex characters;
- an account-owned token naming zones not nested under its own account
  (``com.cloudflare.api.account.zone.*``, a flat zone key, another account): Cloudflare refuses
  these; the audit reads them as at most the owner's own zones, never "all zones of all
  accounts".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .severity import Severity

if TYPE_CHECKING:
    from .steps import Step

__all__ = [
    "AWS_FIELDS",
    "HIGH",
    "MEDIUM",
    "DefinitionIssue",
    "aws_fields",
    "bad_id_key",
    "placeholder",
]

MEDIUM, HIGH = Severity.MEDIUM, Severity.HIGH

# Fields of AWS IAM policy statements people paste into Cloudflare policies (compared lower-case).
AWS_FIELDS = frozenset(
    {"action", "actions", "notaction", "resource", "notresource", "principal", "sid", "statement"}
)
_PLACEHOLDER = re.compile(
    r"<[^<>]*>|\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|@[A-Za-z_][A-Za-z0-9_]*@|\{\{[^}]*\}\}|%[A-Z_]+%"
)
_RESOURCE_PREFIXES = (
    "com.cloudflare.api.account.zone.",
    "com.cloudflare.api.account.",
    "com.cloudflare.api.user.",
)
_HEX32 = re.compile(r"[0-9a-f]{32}")


class DefinitionIssue:
    """One part of a token definition Cloudflare rejects or ignores.

    ``tok``: the token's index in the inventory; ``pol``: the policy (1-based, 0 for the token);
    ``severity``: the finding's :class:`Severity`; ``evidence``/``detail``/``remediation``: the
    finding's texts; ``fix``: the :mod:`step <cftokens.audit.steps>` that fixes it, or None;
    ``key``: the resource key concerned.
    """

    __slots__ = ("detail", "evidence", "fix", "key", "pol", "remediation", "severity", "tok")

    def __init__(
        self,
        tok: int,
        pol: int,
        severity: Severity,
        evidence: str,
        detail: str,
        remediation: str,
        fix: Step | None = None,
        key: str | None = None,
    ):
        self.tok = tok
        self.pol = pol
        self.severity = severity
        self.evidence = evidence
        self.detail = detail
        self.remediation = remediation
        self.fix = fix
        self.key = key


def placeholder(key: str) -> str | None:
    """The template placeholder left in a resource key (``<ACCOUNT_ID>``, ``${ZONE_ID}`` …)."""
    found = _PLACEHOLDER.search(key)
    return found.group(0) if found else None


def bad_id_key(key: str) -> str | None:
    """The id part of a zone/account/user key when it is not 32 lower-case hex characters
    (``com.cloudflare.api.account.zone.example.com`` → ``example.com``); None otherwise."""
    for prefix in _RESOURCE_PREFIXES:
        if key.startswith(prefix):
            tail = key[len(prefix) :]
            if tail == "*" or _HEX32.fullmatch(tail):
                return None
            return tail
    return None


def aws_fields(policy: Mapping[str, Any]) -> list[str]:
    """The AWS IAM-style fields of a policy object, as written."""
    return [k for k in policy if isinstance(k, str) and k.lower() in AWS_FIELDS]
