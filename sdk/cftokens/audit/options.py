"""The audit's typed options and results: the keyword arguments :meth:`Audit.from_json` and
:meth:`Audit.from_terraform` take, and what :meth:`Audit.summary` returns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from ..model.directory import Account, Zone
    from .profiles import Profile
    from .suppressions import SuppressionSource
    from .usage import UsageSource

__all__ = ["AuditSummary", "JsonOptions", "RecordOptions", "TerraformOptions"]


class AuditSummary(TypedDict):
    """The counts :meth:`Audit.summary` gives (reports and the CLI print them)."""

    tokens: int
    live_tokens: int
    user_tokens: int
    account_tokens: int
    findings: dict[str, int]
    """Open findings by severity, worst first."""
    suppressed: int
    gaps: int
    incomplete: bool


class JsonOptions(TypedDict, total=False):
    """What :meth:`Audit.from_json` may change of an exported audit."""

    now: datetime
    profile: str | Profile
    suppressions: SuppressionSource
    usage: UsageSource


class RecordOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`Audit.from_records` besides the tokens and their owner
    (for the functions that pass them on, such as ``Advice.audit(**options)``)."""

    accounts: Iterable[Mapping[str, Any] | Account]
    zones: Iterable[Mapping[str, Any] | Zone]
    usage: UsageSource | None
    now: datetime | None
    profile: str | Profile
    suppressions: SuppressionSource | None
    gaps: Sequence[Mapping[str, Any]]


class TerraformOptions(TypedDict, total=False):
    """The keyword arguments of :meth:`Audit.from_terraform`."""

    var_files: Sequence[str | Path]
    accounts: Iterable[Mapping[str, Any] | Account]
    zones: Iterable[Mapping[str, Any] | Zone]
    user: Mapping[str, Any] | None
    usage: UsageSource | None
    now: datetime | None
    profile: str | Profile
    suppressions: SuppressionSource | None
    gaps: Sequence[Mapping[str, Any]]
