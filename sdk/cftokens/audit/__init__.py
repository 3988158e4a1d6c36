"""The audit: existing tokens as DataFrames, the rule catalogue, findings and reports.

::

    import cftokens as cft
    audit = cft.run_audit(client)                  # live, concurrent, with a progress bar
    audit = cft.Audit.from_records(tokens=[...], accounts=[...], zones=[...])   # offline
    audit = cft.Audit.from_terraform("plan.json")  # lint tokens before they exist
    audit.tokens; audit.grants; audit.access; audit.findings; audit.gaps
    audit.access.expand(zone="example.com")        # wildcards stay symbolic in audit.access
    audit.who_can("DNS Write", zone="example.com"); audit.explain(token_id)
    audit.to_html("audit-report.html"); audit.to_sarif("audit.sarif")

Rules and their stable ids: :data:`RULES` (the ``rules`` package, one module per family; listed
in the repository's ``docs/rules.md``); profiles: :data:`PROFILES`.

``cftokens.audit`` is this package; the function that audits a live account is
:func:`run_audit` (``cftokens.run_audit``; :func:`run_audit_async` inside an event loop).
Calling the package, ``cftokens.audit(client)``, and the names ``audit``/``audit_async`` still
work for one release, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from typing import Unpack

from .._deprecated import moved_submodule, warn_renamed
from .._exports import export
from ..client import AsyncClient, Client
from .collect import (
    AuditOptions,
    AuditSource,
    collect_records,
    renamed,
    run_audit,
    run_audit_async,
)
from .core import Audit, Explanation, Finding, risk_score
from .profiles import PROFILES, Profile, Thresholds
from .remediation import Remediation
from .rules import RULES, Rule
from .severity import Severity
from .suppressions import Suppression, load_suppressions

__all__ = [
    "PROFILES",
    "RULES",
    "Audit",
    "Explanation",
    "Finding",
    "Profile",
    "Remediation",
    "Rule",
    "Severity",
    "Suppression",
    "Thresholds",
    "collect_records",
    "load_suppressions",
    "risk_score",
    "run_audit",
    "run_audit_async",
]


def __getattr__(name: str) -> Callable[..., object] | types.ModuleType:
    """The deprecated names: ``audit``/``audit_async`` (the functions' old names) and the
    submodules ``terraform`` and ``hcl``, which this package loaded itself in the last release
    (the reader moved to :mod:`cftokens.model.terraform`). A DeprecationWarning each."""
    if name in ("terraform", "hcl"):
        return moved_submodule(__name__, name)
    return renamed(__name__, name)


class _CallableModule(types.ModuleType):
    """Calling the package, ``cftokens.audit(client)``, is the deprecated spelling of
    :func:`run_audit` (the package and the function once shared the name)."""

    def __call__(
        self, client: Client | AsyncClient | AuditSource, **options: Unpack[AuditOptions]
    ) -> Audit:
        warn_renamed("calling the module, cftokens.audit(client)", "cftokens.run_audit(client)")
        return run_audit(client, **options)


sys.modules[__name__].__class__ = _CallableModule

export(__name__)  # the exported classes report cftokens as their module
