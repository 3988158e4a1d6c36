"""Token records shared by the audit's modules: the inventory's rows as the API gave them
(:func:`token_records`) and a token as the policy engine reads its grants
(:func:`timeless_token`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..model.directory import Account
from ..model.token import Token
from ._inventory import TokenRecord

__all__ = ["timeless_token", "token_records"]


def token_records(
    tokens: Iterable[Mapping[str, Any]],
    account_tokens: Mapping[str, Iterable[Mapping[str, Any]]] | None,
    user: Mapping[str, Any] | None,
    accounts: Sequence[Account],
) -> list[TokenRecord]:
    """One record per token: the user's own (owned by ``user``) and each account's."""
    user_id = str(user.get("id")) if user and user.get("id") else None
    user_name = (str(user.get("email") or user_id) if user else None) or None
    names = {a.id: a.name for a in accounts}
    records = [TokenRecord(t, "user", user_id, user_name) for t in tokens]
    for account_id, items in (account_tokens or {}).items():
        records.extend(
            TokenRecord(t, "account", account_id, names.get(account_id, account_id)) for t in items
        )
    return records


def timeless_token(payload: Mapping[str, Any]) -> Token:
    """The token as the engine sees its policies, ignoring status and validity window (the
    frames list access of tokens that are not live too; ``live`` says whether it works now)."""
    clean = {
        k: v
        for k, v in payload.items()
        if k not in ("status", "not_before", "expires_on", "condition")
    }
    return Token.from_api(clean)
