"""cftokens: design, issue and audit Cloudflare API tokens with least privilege.

The curated public API. Heavy parts (the HTTP client, the sandbox, the audit, pandas) load on
first use, so ``import cftokens`` stays fast::

    import cftokens as cft
    cft.permission_groups.get("DNS Write")
    spec = cft.templates["Edit zone DNS"].build(zones=[zone_id], name="ci-dns")
    cft.evaluate(spec, "DNS Write", zone=zone_id)
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from ._deprecated import warn_renamed as _warn_renamed
from ._exports import LAZY as _LAZY
from ._exports import export_class as _export_class
from .errors import RENAMED as _RENAMED
from .errors import (
    AmbiguousPermissionGroup,
    APIError,
    AuditTimedOut,
    AuthenticationError,
    BadRequest,
    ClientClosed,
    CloudflareError,
    ConnectError,
    InvalidInput,
    MaybeCreated,
    MaybeRolled,
    MissingExtra,
    NotEmulated,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestTimedOut,
    ScopeMismatch,
    ServerError,
    TransportError,
    UnexpectedResponse,
    UnknownOperation,
    UnknownPermissionGroup,
    UnknownTemplate,
)
from .errors import renamed as _renamed

__version__ = "0.1.0"

# A library logs; the application decides where to: without configuration nothing is printed.
logging.getLogger(__name__).addHandler(logging.NullHandler())

_SUBMODULES = frozenset(
    (
        "advisor",
        "audit",
        "catalog",
        "cli",
        "client",
        "course",
        "leak",
        "model",
        "policy",
        "sandbox",
        "widgets",
    )
)

if TYPE_CHECKING:  # pragma: no cover
    from . import audit, course
    from .advisor import Advice, RightSize, least_privilege, least_privilege_from_usage, rightsize
    from .audit import Audit, Finding, Severity, run_audit, run_audit_async
    from .catalog import (
        Level,
        Operation,
        OperationMatch,
        PermissionGroup,
        Template,
        operations,
        permission_groups,
        risk_families,
        templates,
    )
    from .client import AsyncClient, AuditLogRecord, Client, DnsRecord, Recorder
    from .leak import ScanResult, Triage, scan, triage
    from .model import (
        Account,
        Condition,
        CreatedToken,
        Directory,
        Effect,
        PermissionGroupRef,
        Policy,
        Resource,
        ResourceKind,
        Scope,
        Secret,
        SpecSummary,
        Token,
        TokenSpec,
        TokenStatus,
        User,
        VerifyResult,
        Zone,
    )
    from .policy import Decision, EffectiveGrant, effective_grants, evaluate, evaluate_request
    from .sandbox import Sandbox
    from .widgets import AuditExplorer, TokenBuilder


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if name in _RENAMED:  # cftokens.Timeout: a deprecated alias (DeprecationWarning)
            return _renamed(__name__, name)
        if name == "audit_async":  # renamed run_audit_async (DeprecationWarning)
            _warn_renamed("cftokens.audit_async", "cftokens.run_audit_async")
            return importlib.import_module(".audit", __name__).run_audit_async
        if name in _SUBMODULES:  # cftokens.model etc. before anything imported them
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module 'cftokens' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "APIError",
    "Account",
    "Advice",
    "AmbiguousPermissionGroup",
    "AsyncClient",
    "Audit",
    "AuditExplorer",
    "AuditLogRecord",
    "AuditTimedOut",
    "AuthenticationError",
    "BadRequest",
    "Client",
    "ClientClosed",
    "CloudflareError",
    "Condition",
    "ConnectError",
    "CreatedToken",
    "Decision",
    "Directory",
    "DnsRecord",
    "Effect",
    "EffectiveGrant",
    "Finding",
    "InvalidInput",
    "Level",
    "MaybeCreated",
    "MaybeRolled",
    "MissingExtra",
    "NotEmulated",
    "NotFound",
    "Operation",
    "OperationMatch",
    "PermissionDenied",
    "PermissionGroup",
    "PermissionGroupRef",
    "Policy",
    "RateLimited",
    "Recorder",
    "RequestTimedOut",
    "Resource",
    "ResourceKind",
    "RightSize",
    "Sandbox",
    "ScanResult",
    "Scope",
    "ScopeMismatch",
    "Secret",
    "ServerError",
    "Severity",
    "SpecSummary",
    "Template",
    "Token",
    "TokenBuilder",
    "TokenSpec",
    "TokenStatus",
    "TransportError",
    "Triage",
    "UnexpectedResponse",
    "UnknownOperation",
    "UnknownPermissionGroup",
    "UnknownTemplate",
    "User",
    "VerifyResult",
    "Zone",
    "__version__",
    "audit",
    "course",
    "effective_grants",
    "evaluate",
    "evaluate_request",
    "least_privilege",
    "least_privilege_from_usage",
    "operations",
    "permission_groups",
    "rightsize",
    "risk_families",
    "run_audit",
    "run_audit_async",
    "scan",
    "templates",
    "triage",
]

# The errors are imported above, so they are the only classes here yet (the others: export()).
for _name in __all__:
    if isinstance(globals().get(_name), type):
        _export_class(globals()[_name])
del _name
