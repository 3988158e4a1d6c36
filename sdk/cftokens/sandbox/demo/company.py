"""Acme, the demo company, declared: its accounts, zones, users, tokens (each with the audit
rules it trips) and the usage history of its Global API Key. The package docstring
(:mod:`cftokens.sandbox.demo`) lists the planted problems; :mod:`.builder` seeds them.

The declarations are in :mod:`.org` (accounts, zones, users and the constants the tokens
share), :mod:`.user_tokens` and :mod:`.account_tokens`; ``TOKENS`` lists them in seeding
order."""

from __future__ import annotations

from .account_tokens import AGENCY_TOKENS, PRODUCTION_TOKENS, STAGING_TOKENS
from .defs import TokenDef, Usage
from .org import ACCOUNTS, ACME, USERS, ZONES
from .user_tokens import DANA_TOKENS, SAM_TOKENS

__all__ = [
    "ACCOUNTS",
    "API_KEY_USAGE",
    "MISSING_ZONE_ID",
    "TOKENS",
    "USERS",
    "ZONES",
]

TOKENS: list[TokenDef] = [
    *DANA_TOKENS,
    *PRODUCTION_TOKENS,
    *STAGING_TOKENS,
    *AGENCY_TOKENS,
    *SAM_TOKENS,
]

# Dana's Global API Key, used by an old cron job (ID-01).
API_KEY_USAGE: tuple[Usage, ...] = (
    Usage(
        ops=("GET /zones/{zone}/dns_records",),
        zones=(ACME,),
        days=60,
        per_day=1,
        ips=("198.51.100.23",),
        agents=("curl/7.81.0",),
    ),
    Usage(
        ops=("POST /zones/{zone}/dns_records",),
        zones=(ACME,),
        on_days=(41, 27, 13),
        ips=("198.51.100.23",),
        agents=("curl/7.81.0",),
    ),
)

MISSING_ZONE_ID = "9d3f5a0c1b2e4d6f8a7c9e0b1d2f3a4c"
HISTORY_DAYS = 60
