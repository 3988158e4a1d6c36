"""The audit: existing tokens as DataFrames, the rule catalogue, findings and reports.

::

    import cftokens as cft
    audit = cft.audit(client)                      # live, concurrent, with a progress bar
    audit = cft.Audit.from_records(tokens=[...], accounts=[...], zones=[...])   # offline
    audit = cft.Audit.from_terraform("plan.json")  # lint tokens before they exist
    audit.tokens; audit.grants; audit.access; audit.findings; audit.gaps
    audit.access.expand(zone="example.com")        # wildcards stay symbolic in audit.access
    audit.who_can("DNS Write", zone="example.com"); audit.explain(token_id)
    audit.to_html("audit-report.html"); audit.to_sarif("audit.sarif")

Rules and their stable ids: :data:`RULES` (the ``rules`` package, one module per family; listed
in the repository's ``docs/rules.md``); profiles: :data:`PROFILES`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .collect import audit, audit_async, collect_records
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
    "audit",
    "audit_async",
    "collect_records",
    "load_suppressions",
    "risk_score",
]


class _CallableModule(types.ModuleType):
    """``cftokens.audit`` is both this package and the :func:`audit` function: once the
    package is imported, the attribute ``cftokens.audit`` may be the module, so the module
    itself calls :func:`audit`."""

    def __call__(self, *args: Any, **kwargs: Any) -> Audit:
        return audit(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
