"""Typed, frozen models of Cloudflare's token API (attrs, keyword-only).

Wire format appears only at the edges: every model has ``from_api(dict)`` and ``to_api()``,
tolerates unknown keys (kept and written back) and validates ids and timestamps.
"""

from .._exports import export
from .condition import Condition, IPNetwork
from .directory import Account, AccountRef, Directory, User, Zone
from .policy import Effect, PermissionGroupRef, Policy
from .resources import Resource, ResourceKind, Scope
from .secret import Secret
from .token import CreatedToken, SpecSummary, Token, TokenSpec, TokenStatus, VerifyResult

__all__ = [
    "Account",
    "AccountRef",
    "Condition",
    "CreatedToken",
    "Directory",
    "Effect",
    "IPNetwork",
    "PermissionGroupRef",
    "Policy",
    "Resource",
    "ResourceKind",
    "Scope",
    "Secret",
    "SpecSummary",
    "Token",
    "TokenSpec",
    "TokenStatus",
    "User",
    "VerifyResult",
    "Zone",
]

export(__name__)  # the exported classes report cftokens as their module
