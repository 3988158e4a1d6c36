"""The audit rule catalogue: every rule of ``docs/rules.md`` (in the repository) as a
vectorised function, one module per family (``pe``, ``sc``, ``rk``, ``lc``, ``nw``, ``ln``,
``id``; ``sup`` for lapsed suppressions), the machinery in ``base``.

Rule ids are stable (reports, suppressions and CI gates refer to them). Each rule function's
docstring is its rationale; :data:`RULES` holds the metadata (title, default severity, family,
whether it needs usage data, help text for reports and SARIF), in catalogue order.

Notation (as in docs/rules.md): E(T) the token's effective grants (from the policy engine's
semantics: allows not removed by a deny), G(T) its groups, W(T) its write-level groups.
"""

from __future__ import annotations

# The family modules register their rules on import: imported in catalogue order, so RULES
# (and every report listing the rules) keeps that order.
# isort: off
from . import pe, sc, rk, lc, nw, ln, id  # noqa: F401

# isort: on
from .base import RULE_FAMILIES, RULES, UNEVALUATED, Hits, Rule, run_rules
from .sup import SUPPRESSION_RULE

__all__ = ["RULES", "RULE_FAMILIES", "SUPPRESSION_RULE", "UNEVALUATED", "Hits", "Rule", "run_rules"]
