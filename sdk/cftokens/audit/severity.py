"""Severities of audit findings: ``critical > high > medium > low > info``."""

from __future__ import annotations

import enum
import functools
from typing import TYPE_CHECKING

from ..errors import InvalidInput

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SEVERITY_ORDER", "Severity", "severity_dtype"]


class Severity(enum.StrEnum):
    """How bad a finding is. Compare with ``rank`` (``Severity.HIGH.rank > Severity.LOW.rank``)."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """0 for info … 4 for critical."""
        return _RANKS[self._value_]

    def lower(self, steps: int = 1, *, floor: Severity | None = None) -> Severity:
        """This severity ``steps`` lower, never below ``floor`` (default: low for low and up)."""
        bottom = floor if floor is not None else (Severity.LOW if self.rank >= 1 else self)
        rank = max(self.rank - steps, bottom.rank)
        return Severity(SEVERITY_ORDER[rank])

    @classmethod
    def parse(cls, value: str | Severity) -> Severity:
        """Accept a severity name in any case; a clear error lists the valid names."""
        if isinstance(value, Severity):
            return value
        text = str(value).strip().lower()
        if text in SEVERITY_ORDER:
            return cls(text)
        raise InvalidInput(
            f"unknown severity {value!r}; use one of: {', '.join(reversed(SEVERITY_ORDER))}"
        )

    @classmethod
    def of_rank(cls, rank: int) -> Severity:
        """The severity with this rank (0 info … 4 critical)."""
        return cls(SEVERITY_ORDER[rank])


# Ordered from least to most severe, so an ordered categorical compares the natural way:
# ``findings[findings.severity >= "high"]``.
SEVERITY_ORDER: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
_RANKS = {name: rank for rank, name in enumerate(SEVERITY_ORDER)}


@functools.cache
def severity_dtype() -> pd.CategoricalDtype:
    """The ordered categorical dtype of ``severity`` columns (one object, made on first use)."""
    import pandas as pd

    return pd.CategoricalDtype(list(SEVERITY_ORDER), ordered=True)
