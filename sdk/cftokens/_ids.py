"""Leaf helpers shared by the model and the catalogue: Cloudflare ids and resource scopes.

Below both :mod:`cftokens.model` and :mod:`cftokens.catalog` (it imports only
:mod:`cftokens.errors`), so the catalogue can name a group's :class:`Scope` without importing
the model, and the model can resolve groups through the catalogue.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from .errors import InvalidInput, shown

__all__ = ["Scope", "check_id", "is_id"]

_HEX32 = re.compile(r"[0-9a-f]{32}")


def check_id(value: object, what: str, *, secrets: Sequence[str] = ()) -> str:
    """Return ``value`` if it is a Cloudflare identifier (32 lower-case hex characters).
    The refusal never echoes a credential (``secrets``: exact values to hide as well)."""
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise InvalidInput(
            f"{what} must be a Cloudflare identifier of 32 lower-case hex characters, "
            f"got {shown(value, secrets=secrets)}; copy it from the dashboard or from the API's "
            "`id` field"
        )
    return value


def is_id(value: object) -> bool:
    """True when ``value`` looks like a Cloudflare identifier."""
    return isinstance(value, str) and _HEX32.fullmatch(value) is not None


class Scope(enum.StrEnum):
    """The scope of a permission group: the kind of resource it can be granted on."""

    USER = "com.cloudflare.api.user"
    ACCOUNT = "com.cloudflare.api.account"
    ZONE = "com.cloudflare.api.account.zone"
    R2_BUCKET = "com.cloudflare.edge.r2.bucket"

    @property
    def label(self) -> str:
        """``user``, ``account``, ``zone`` or ``r2 bucket``."""
        return _SCOPE_LABELS[self]

    @classmethod
    def parse(cls, value: str | Scope) -> Scope:
        """Accept a full scope string or a short label (``zone``, ``account``, ``user``)."""
        if isinstance(value, Scope):
            return value
        text = str(value).strip().lower()
        for scope in cls:
            if text in (scope.value, scope.label, scope.name.lower()):
                return scope
        raise InvalidInput(
            f"unknown scope {value!r}; use one of: user, account, zone, r2 bucket "
            "(or the full com.cloudflare.api… scope string)"
        )


_SCOPE_LABELS = {
    Scope.USER: "user",
    Scope.ACCOUNT: "account",
    Scope.ZONE: "zone",
    Scope.R2_BUCKET: "r2 bucket",
}
