"""The usage row: one request as observed usage, the schema every usage source shares.

The client's :class:`~cftokens.Recorder` writes these rows; the audit reads them (with the
sandbox journal and Cloudflare Audit Logs v2, which it converts to the same rows) into its usage
table (:func:`cftokens.audit.usage.normalise_usage`), whose columns are :data:`USAGE_COLUMNS` in
this order. A leaf module, so the client and the audit share it without importing each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

__all__ = ["USAGE_COLUMNS", "UsageRow"]


class UsageRow(TypedDict):
    """One request. ``None`` where the source does not know the value."""

    time: datetime | str | None
    """When (an aware datetime, or RFC 3339 text in Audit Logs v2)."""
    token_id: str | None
    """The API token that authenticated it (None for the Global API Key)."""
    method: str | None
    """The HTTP method."""
    path: str | None
    """The request path relative to ``/client/v4`` (ids redacted by the recorder)."""
    operation_id: str | None
    """The catalogue operation it matched (None: the audit matches the path itself)."""
    status: int | None
    """The HTTP status of the answer."""
    ip: str | None
    """The client's IP address."""
    user_agent: str | None
    """The client's User-Agent."""
    auth: str | None
    """``api_token``, ``api_key`` or ``other``."""
    zone_id: str | None
    """The zone the request acted on."""
    account_id: str | None
    """The account the request acted on."""
    actor: str | None
    """Who acted, when known (an email for the Global API Key and audit-log rows)."""


USAGE_COLUMNS: tuple[str, ...] = tuple(UsageRow.__annotations__)
"""The usage table's columns, in order."""
