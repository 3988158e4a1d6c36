"""Token-wide steps: allowlist, expiry, status, the secret, deleting the token, keeping it
until a replacement exists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import frozen

if TYPE_CHECKING:
    from ..remediation import FixPlan

from .base import (
    PLACEHOLDER_PREFIX,
    BodyStep,
    Step,
    join,
    last_use,
)

# -- token-wide steps ----------------------------------------------------------------------------


@frozen(kw_only=True)
class SetAllowlist(BodyStep):
    """Set the IP allowlist (``condition.request.ip.in``), keeping a deny list."""

    allow: tuple[str, ...]
    deny: tuple[str, ...] = ()
    source: str = ""

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(c for c in self.allow if PLACEHOLDER_PREFIX in c)

    def describe(self) -> str:
        if self.placeholders:
            return (
                f"allow only your callers' IP ranges: replace {self.placeholders[0]} in the body "
                "with them (CIDRs)"
            )
        return "allow only " + join(list(self.allow)) + (f" ({self.source})" if self.source else "")

    def brief(self) -> str:
        if self.placeholders:
            return "add an IP allowlist (your CIDRs)"
        return f"allow only {len(self.allow)} address range{'s' if len(self.allow) > 1 else ''}"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        ip: dict[str, Any] = {"in": list(self.allow)}
        if self.deny:
            ip["not_in"] = list(self.deny)
        body["condition"] = {"request.ip": ip}
        return body

    def merge(self, plan: FixPlan) -> None:
        """Every proposal is kept: the plan sets one allowlist from them."""
        plan.allowlists.append((self.allow, self.deny))


@frozen(kw_only=True)
class SetExpiry(BodyStep):
    """Set ``expires_on``."""

    expires_on: str
    reason: str = ""

    def describe(self) -> str:
        return f"expire on {self.expires_on[:10]}" + (f" ({self.reason})" if self.reason else "")

    def brief(self) -> str:
        return f"expire on {self.expires_on[:10]}"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        body["expires_on"] = self.expires_on
        return body

    def merge(self, plan: FixPlan) -> None:
        """Every proposal is kept: the plan sets the earliest."""
        plan.expiries.append((self.expires_on, False))


@frozen(kw_only=True)
class Disable(BodyStep):
    """Set the status to disabled (reversible, unlike a delete)."""

    last_used: str | None = None

    def describe(self) -> str:
        return f"disable the token ({last_use(self.last_used)}; delete it once nothing breaks)"

    def apply(self, body: dict[str, Any]) -> dict[str, Any]:
        body["status"] = "disabled"
        return body

    def merge(self, plan: FixPlan) -> None:
        plan.disable = True


@frozen(kw_only=True)
class RollSecret(Step):
    """A separate request after the PUT: a new secret (``PUT …/tokens/{id}/value``)."""

    path: str = ""

    def describe(self) -> str:
        path = self.path or "…/tokens/{id}"
        return f"roll the secret (PUT {path}/value) and update where it is stored"

    def brief(self) -> str:
        return "roll the secret"

    def merge(self, plan: FixPlan) -> None:
        plan.roll = True


@frozen(kw_only=True)
class DeleteToken(Step):
    """Delete the token (``DELETE …/tokens/{id}``)."""

    last_used: str | None = None
    reason: str = ""

    def describe(self) -> str:
        why = f"{self.reason}; " if self.reason else ""
        return f"delete the token ({why}{last_use(self.last_used)})"

    def merge(self, plan: FixPlan) -> None:
        plan.delete = True


@frozen(kw_only=True)
class ReplaceFirst(Step):
    """Keep a token in use whole until a replacement exists: its findings alone would take
    every permission it holds, and nothing says which of them its callers need."""

    last_used: str
    groups: tuple[str, ...]
    usage_days: int

    def describe(self) -> str:
        return (
            f"keep its permissions for now: its findings would remove all of them "
            f"({join(list(self.groups))}), but it was {last_use(self.last_used)}, within the "
            f"last {self.usage_days} days; audit with usage data (cft.run_audit(..., usage=True)) "
            "or right-size it (cft.rightsize) to learn what its callers need, create that "
            "replacement, then delete this token"
        )

    def brief(self) -> str:
        return f"in use ({last_use(self.last_used)}): replace it before removing anything"
