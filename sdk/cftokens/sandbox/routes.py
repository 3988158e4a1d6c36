"""The route table: which operations the sandbox emulates, keyed by the operations catalogue's
``(method, path template)``. Requests are matched with ``cftokens.operations.find`` (the most
literal template wins), so every catalogued operation is at least authorised; only these have
handlers. ``mode`` says how the request is authorised:

- ``policy``: by :func:`cftokens.policy.evaluate_request` on the token and on its owner's rights;
- ``verify``: authentication only; the handler reports the token's status;
- ``accounts``: authentication only; the handler lists what the token can reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import dns
from . import handlers as h
from .audit_logs import list_audit_logs
from .context import Call

__all__ = ["ROUTES", "Route"]

Handler = Callable[[Call], dict[str, Any]]


class Route:
    """An emulated operation: its handler and authorisation mode."""

    __slots__ = ("handler", "mode")

    def __init__(self, handler: Handler, mode: str = "policy"):
        self.handler = handler
        self.mode = mode


_USER = "/user/tokens"
_ACCOUNT = "/accounts/{account_id}/tokens"
_DNS = "/zones/{zone_id}/dns_records"

ROUTES: dict[tuple[str, str], Route] = {
    # user-owned tokens
    ("GET", _USER): Route(h.list_tokens),
    ("POST", _USER): Route(h.create_token),
    ("GET", _USER + "/verify"): Route(h.verify_token, "verify"),
    ("GET", _USER + "/permission_groups"): Route(h.list_permission_groups),
    ("GET", _USER + "/{token_id}"): Route(h.get_token),
    ("PUT", _USER + "/{token_id}"): Route(h.update_token),
    ("DELETE", _USER + "/{token_id}"): Route(h.delete_token),
    ("PUT", _USER + "/{token_id}/value"): Route(h.roll_token),
    # account-owned tokens
    ("GET", _ACCOUNT): Route(h.list_tokens),
    ("POST", _ACCOUNT): Route(h.create_token),
    ("GET", _ACCOUNT + "/verify"): Route(h.verify_token, "verify"),
    ("GET", _ACCOUNT + "/permission_groups"): Route(h.list_permission_groups),
    ("GET", _ACCOUNT + "/{token_id}"): Route(h.get_token),
    ("PUT", _ACCOUNT + "/{token_id}"): Route(h.update_token),
    ("DELETE", _ACCOUNT + "/{token_id}"): Route(h.delete_token),
    ("PUT", _ACCOUNT + "/{token_id}/value"): Route(h.roll_token),
    # user, accounts, zones
    ("GET", "/user"): Route(h.get_user),
    ("GET", "/accounts"): Route(h.list_accounts, "accounts"),
    ("GET", "/accounts/{account_id}"): Route(h.get_account),
    ("GET", "/zones"): Route(h.list_zones),
    ("GET", "/zones/{zone_id}"): Route(h.get_zone),
    # DNS records
    ("GET", _DNS): Route(dns.list_dns),
    ("POST", _DNS): Route(dns.create_dns),
    ("GET", _DNS + "/{dns_record_id}"): Route(dns.get_dns),
    ("PUT", _DNS + "/{dns_record_id}"): Route(dns.update_dns),
    ("PATCH", _DNS + "/{dns_record_id}"): Route(dns.patch_dns),
    ("DELETE", _DNS + "/{dns_record_id}"): Route(dns.delete_dns),
    # Audit Logs v2
    ("GET", "/accounts/{account_id}/logs/audit"): Route(list_audit_logs),
}
