"""``CFT-SUP-01``: lapsed suppressions (raised by the audit itself, not by a rule function)."""

from __future__ import annotations

from ..severity import Severity
from .base import Rule

SUPPRESSION_RULE = Rule(
    id="CFT-SUP-01",
    title="Lapsed suppression",
    severity="info",
    default=Severity.INFO,
    family="SUP",
    usage=False,
    fires_when="a suppression's expires date has passed",
    help="A suppression past its expiry date no longer applies; renew it with a new reason "
    "or fix the findings it covered.",
)
