"""What the top-level ``cftokens`` exports lazily, and where from; the classes among them
report ``cftokens`` as their module (:func:`export`). A leaf: every layer may import it."""

from __future__ import annotations

import sys

__all__ = ["LAZY", "export"]

# name -> module that defines it; imported on first attribute access (the catalogue, the
# models and the policy engine too: a script that only builds a client never loads them).
LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
            "Level",
            "Operation",
            "OperationMatch",
            "PermissionGroup",
            "Template",
            "operations",
            "permission_groups",
            "risk_families",
            "templates",
        ),
        ".catalog",
    ),
    **dict.fromkeys(
        (
            "Account",
            "Condition",
            "CreatedToken",
            "Directory",
            "Effect",
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
        ),
        ".model",
    ),
    **dict.fromkeys(
        ("Decision", "EffectiveGrant", "effective_grants", "evaluate", "evaluate_request"),
        ".policy",
    ),
    "Advice": ".advisor",
    "AuditExplorer": ".widgets",
    "RightSize": ".advisor",
    "AsyncClient": ".client",
    "Audit": ".audit",
    "AuditLogRecord": ".client",
    "Client": ".client",
    "DnsRecord": ".client",
    "Finding": ".audit",
    "Recorder": ".client",
    "Sandbox": ".sandbox",
    "Severity": ".audit",
    "run_audit": ".audit",
    "run_audit_async": ".audit",
    "least_privilege": ".advisor",
    "least_privilege_from_usage": ".advisor",
    "rightsize": ".advisor",
    "scan": ".leak",
    "ScanResult": ".leak",
    "Triage": ".leak",
    "triage": ".leak",
    "TokenBuilder": ".widgets",
}


def export(module: str) -> None:
    """Give the classes ``cftokens`` exports that ``module`` holds (``cftokens.model``,
    ``cftokens.catalog.templates``...) the top level as their ``__module__``: reprs,
    tracebacks, help and pickles name ``cftokens.Token``, not the file that defines it today.
    Each module that provides exported classes calls this once, at the end of its import,
    whatever imported it first; the errors (imported eagerly) are done at the end of
    ``cftokens/__init__.py``. Lazily loaded names of ``module`` are not loaded here."""
    namespace = vars(sys.modules[module])
    for name, where in LAZY.items():
        package = "cftokens" + where
        if module == package or module.startswith(package + "."):
            value = namespace.get(name)
            if isinstance(value, type):
                value.__module__ = "cftokens"
