"""The public names of the last release stay importable for one more release: a name that left
a module's ``__all__`` answers with a :class:`DeprecationWarning` naming what replaces it.

``RELEASED`` is the ``__all__`` of each public module at the release before the restructuring
(a5222b2). A name taken out of the package without an alias fails here.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

RELEASED: dict[str, tuple[str, ...]] = {
    "cftokens": (
        "APIError",
        "Account",
        "Advice",
        "AmbiguousPermissionGroup",
        "AsyncClient",
        "Audit",
        "AuditExplorer",
        "AuditLogRecord",
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
        "Timeout",
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
        "audit_async",
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
        "scan",
        "templates",
        "triage",
    ),
    "cftokens.audit": (
        "Audit",
        "Explanation",
        "Finding",
        "PROFILES",
        "Profile",
        "RULES",
        "Remediation",
        "Rule",
        "Severity",
        "Suppression",
        "Thresholds",
        "audit",
        "audit_async",
        "collect_records",
        "load_suppressions",
        "risk_score",
    ),
    "cftokens.audit.terraform": (
        "PENDING_KEY",
        "UNKNOWN_KEY",
        "read_terraform",
        "to_token",
        "token_records",
    ),
    "cftokens.audit.hcl": (
        "UNREAD_MODULE",
        "read_configuration",
    ),
    "cftokens.audit.rules": (
        "Hits",
        "RULES",
        "RULE_FAMILIES",
        "Rule",
        "run_rules",
    ),
    "cftokens.audit.steps": (
        "BodyStep",
        "DeleteToken",
        "Disable",
        "DowngradeGroups",
        "EditPolicy",
        "GroupRef",
        "KeepOnlyGroups",
        "NarrowGroups",
        "NarrowResources",
        "PLACEHOLDER_PREFIX",
        "Recreate",
        "RemoveGroups",
        "ReplaceFirst",
        "RollSecret",
        "SetAllowlist",
        "SetExpiry",
        "Step",
    ),
    "cftokens.audit.core": (
        "Audit",
        "EXIT_FINDINGS",
        "EXIT_INCOMPLETE",
        "EXIT_PASS",
        "Finding",
        "risk_score",
    ),
    "cftokens.advisor": (
        "Advice",
        "DEFAULT_TTL",
        "Grant",
        "Intent",
        "IntentKind",
        "Overrides",
        "PUT_WARNING",
        "RightSize",
        "Solution",
        "Unmapped",
        "Usage",
        "brute_force",
        "least_privilege",
        "least_privilege_from_usage",
        "resolve_intents",
        "rightsize",
        "solve",
        "to_terraform",
        "usage_requests",
    ),
    "cftokens.advisor.core": (
        "Advice",
        "DEFAULT_TTL",
        "Grant",
        "MINTING_TTL",
        "least_privilege",
    ),
    "cftokens.advisor.terraform": (
        "hcl_string",
        "terraform_name",
        "to_terraform",
    ),
    "cftokens.client": (
        "AccountScope",
        "AsyncAccountScope",
        "AsyncClient",
        "AsyncPager",
        "AsyncTokens",
        "AuditLogRecord",
        "Client",
        "DnsRecord",
        "Pager",
        "RateLimit",
        "Recorder",
        "Retry",
        "Tokens",
        "Unreadable",
        "UnreadableItemWarning",
    ),
    "cftokens.model": (
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
    ),
    "cftokens.catalog": (
        "FAMILIES",
        "Level",
        "Operation",
        "OperationCatalog",
        "OperationMatch",
        "PermissionGroup",
        "PermissionGroupCatalog",
        "RiskFamilies",
        "Target",
        "Template",
        "TemplateCatalog",
        "normalise_path",
        "operations",
        "permission_groups",
        "risk_families",
        "templates",
    ),
    "cftokens.sandbox": (
        "Attendee",
        "Clock",
        "Faults",
        "RateLimit",
        "Role",
        "Sandbox",
        "is_sandbox_secret",
        "issued_secrets_everywhere",
    ),
    "cftokens.sandbox.demo": (
        "ACCOUNTS",
        "API_KEY_USAGE",
        "AccountDef",
        "PolicyDef",
        "TOKENS",
        "TokenDef",
        "USERS",
        "Usage",
        "UserDef",
        "ZONES",
        "ZoneDef",
        "seed_demo",
    ),
    "cftokens.leak": (
        "DEFAULT_MAX_SIZE",
        "Hit",
        "KINDS",
        "ScanResult",
        "Skipped",
        "Triage",
        "Verification",
        "Verifier",
        "fingerprint_of",
        "scan",
        "triage",
    ),
    "cftokens.leak.detect": (
        "KINDS",
        "RawHit",
        "detect",
        "fingerprint_of",
    ),
    "cftokens.errors": (
        "APIError",
        "AmbiguousPermissionGroup",
        "AuthenticationError",
        "BadRequest",
        "ClientClosed",
        "CloudflareError",
        "ConnectError",
        "ErrorDetail",
        "InvalidInput",
        "MaybeCreated",
        "MaybeRolled",
        "MissingExtra",
        "NotEmulated",
        "NotFound",
        "PermissionDenied",
        "RateLimited",
        "ScopeMismatch",
        "ServerError",
        "Timeout",
        "TransportError",
        "UnexpectedResponse",
        "UnknownOperation",
        "UnknownPermissionGroup",
        "UnknownTemplate",
        "describe",
        "redact",
        "redact_uri",
        "require_extra",
        "shown",
    ),
    "cftokens.policy": (
        "Decision",
        "EffectiveGrant",
        "RequestTarget",
        "ZoneAccounts",
        "check_token",
        "effective_grants",
        "evaluate",
        "evaluate_request",
    ),
    "cftokens.widgets": (
        "AuditExplorer",
        "PolicyEditor",
        "SecretField",
        "TokenBuilder",
        "group_label",
        "save_env",
    ),
    "cftokens.course": (
        "Exercise",
        "Place",
        "access",
        "compare",
        "describe",
        "intended",
        "lesson",
        "workshop",
    ),
}

#: Submodules the package imported itself, so ``package.submodule`` worked after
#: ``import package``; they are deprecated aliases now.
SUBMODULES = [
    ("cftokens.advisor", "terraform"),
    ("cftokens.leak", "detect"),
    ("cftokens.audit", "terraform"),
    ("cftokens.audit", "hcl"),
]


@pytest.mark.parametrize(("module", "names"), sorted(RELEASED.items()))
def test_every_released_name_is_still_there(module: str, names: tuple[str, ...]) -> None:
    mod = importlib.import_module(module)
    current = set(getattr(mod, "__all__", ()))
    for name in names:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = getattr(mod, name, None)
        assert value is not None, f"{module}.{name} disappeared without a deprecated alias"
        deprecations = [w for w in caught if issubclass(w.category, DeprecationWarning)]
        if name in current:
            assert not deprecations, f"{module}.{name} is current, yet warns"
        else:
            assert deprecations, f"{module}.{name} left __all__ without a DeprecationWarning"
            assert "deprecated" in str(deprecations[0].message)


def test_the_old_edit_policy_step_still_edits_a_body() -> None:
    steps = importlib.import_module("cftokens.audit.steps")
    with pytest.warns(DeprecationWarning, match=r"EditPolicy is deprecated.*BodyStep"):
        edit_policy = steps.EditPolicy

    def drop_second(body: dict[str, object]) -> None:
        policies = body["policies"]
        assert isinstance(policies, list)
        del policies[1]

    step = edit_policy(text="remove the second policy", edit=drop_second, needs=("X",))
    assert isinstance(step, steps.BodyStep)
    body: dict[str, object] = {"policies": [{"effect": "allow"}, {"effect": "deny"}]}
    assert step.apply(body) is body and body == {"policies": [{"effect": "allow"}]}
    assert step.describe() == str(step) == "remove the second policy"
    assert step.placeholders == ("X",)


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    steps = importlib.import_module("cftokens.audit.steps")
    with pytest.raises(AttributeError, match="EditPolicyy"):
        steps.EditPolicyy  # noqa: B018


def test_a_submodule_the_package_loaded_is_still_an_attribute() -> None:
    """``package.name`` after ``import package`` works, for each deprecated submodule, and
    with Python's default filters its warning is shown once, at the user's line (a warning
    blamed on importlib would be hidden). One interpreter for all of them (an interpreter
    each took 2 s of CPU): each package imported just before its attribute is read."""
    lines = []
    for i, (package, name) in enumerate(SUBMODULES):
        lines += [f"import {package} as p{i}", f"print(p{i}.{name}.__name__)"]
    code = "\n".join(lines) + "\n"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "".join(f"{package}.{name}\n" for package, name in SUBMODULES)
    warned = [line for line in run.stderr.splitlines() if "DeprecationWarning" in line]
    assert len(warned) == len(SUBMODULES) == run.stderr.count("DeprecationWarning"), run.stderr
    for i, ((package, name), line) in enumerate(zip(SUBMODULES, warned, strict=True)):
        assert line.startswith(f"<string>:{2 * i + 2}: DeprecationWarning: {package}.{name} ")
        assert "goes in the next release" in line
