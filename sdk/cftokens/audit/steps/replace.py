"""Fixes that replace the whole token by new ones: split per job, a scoped token for Global API
Key calls, an account-owned copy."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeAlias

from attrs import field, frozen

from ...model.resources import (
    ACCOUNT_PREFIX,
    ALL_ACCOUNTS_KEY,
    ALL_ZONES_KEY,
    USER_PREFIX,
    ZONE_PREFIX,
    Resource,
)

if TYPE_CHECKING:
    from ..remediation import FixPlan, Names

from .base import (
    Step,
    drop_empty,
    groups_of,
    join,
    kept_groups,
    token_body,
)


@frozen(kw_only=True)
class Recreate(Step):
    """Replace the token by new ones (split per job, a scoped token, an account-owned copy):
    the step of a planned :class:`Replacing` fix."""

    text: str

    def describe(self) -> str:
        return self.text


#: A fix's request body: one token body, the bodies of the tokens a split creates, or None
#: (a delete, a roll).
RequestBody: TypeAlias = "dict[str, Any] | list[dict[str, Any]] | None"


@frozen(kw_only=True)
class Replacement:
    """The request that replaces a token: ``method``/``path``/``body``, the step people read
    (None when no request can do it; ``summary`` then says why) and whether the body is one
    token spec."""

    method: str
    path: str
    body: RequestBody
    summary: str = ""
    step: Recreate | None = None
    one_token: bool = False


class Replacing(Step):
    """A fix that replaces the whole token by new ones. It is planned only when no finding
    asks for an edit of the token itself (the first replacement proposed wins)."""

    def merge(self, plan: FixPlan) -> None:
        plan.recreate = plan.recreate or self

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        raise NotImplementedError


@frozen(kw_only=True)
class SplitToken(Replacing):
    """Split the token into one token per job: ``parts`` are (label, group ids)."""

    parts: tuple[tuple[str, tuple[str, ...]], ...]

    def describe(self) -> str:
        return "split it into one token per job (" + join([p[0] for p in self.parts]) + ")"

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        base = token_body(payload)
        bodies = []
        for label, gids in self.parts:
            part = copy.deepcopy(base)
            part["name"] = f"{payload.get('name', 'token')} ({label})"[:120]
            for policy in part["policies"]:
                policy["permission_groups"] = kept_groups(groups_of(policy), set(gids))
            drop_empty(part)
            bodies.append(part)
        create = (
            f"/accounts/{owner_id}/tokens" if kind == "account" and owner_id else "/user/tokens"
        )
        step = Recreate(text=f"create {len(bodies)} tokens (one per job), then DELETE {path}")
        return Replacement(method="POST", path=create, body=bodies, step=step)


@frozen(kw_only=True)
class CreateScopedToken(Replacing):
    """Create a scoped token (``body``) for the calls made with the Global API Key."""

    body: dict[str, Any] = field(eq=False)

    def describe(self) -> str:
        return "create a scoped token for the calls made with the Global API Key"

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        step = Recreate(text=self.describe())
        return Replacement(
            method="POST", path="/user/tokens", body=self.body, step=step, one_token=True
        )


@frozen(kw_only=True)
class MoveToAccount(Replacing):
    """Replace a user-owned token by an account-owned copy on ``account``."""

    account: str

    def describe(self) -> str:
        return f"create an account-owned copy on {self.account}, then delete this token"

    def replacement(
        self,
        payload: Mapping[str, Any],
        *,
        kind: str,
        owner_id: str | None,
        path: str,
        names: Names,
    ) -> Replacement:
        body = token_body(payload)
        body.pop("status", None)
        blocker = _as_account_owned(body, self.account, names.directory)
        on = names.account(self.account)
        if blocker is not None:
            return Replacement(
                method="GET",
                path=path,
                body=None,
                summary=(
                    f"no request: an account-owned copy on {on} cannot hold "
                    f"{blocker}; create an account-owned token for the job "
                    "(cftokens.least_privilege), switch the job to it, then delete this one"
                ),
            )
        step = Recreate(text=f"create an account-owned copy on {on}, then DELETE {path}")
        return Replacement(
            method="POST",
            path=f"/accounts/{self.account}/tokens",
            body=body,
            step=step,
            one_token=True,
        )


def _as_account_owned(body: dict[str, Any], account: str, directory: Any) -> str | None:
    """Rewrite a user token's policies for an account-owned copy on ``account``: zone keys
    nested under the account, as Cloudflare requires of account-owned tokens. Returns what the
    copy cannot hold (grants on the user, other accounts, zones of other accounts), else None."""
    own = ACCOUNT_PREFIX + account
    extra: list[dict[str, Any]] = []
    for policy in body.get("policies") or []:
        nested: dict[str, Any] = {}
        kept: dict[str, Any] = {}
        for key, value in (policy.get("resources") or {}).items():
            if key.startswith(USER_PREFIX):
                return "grants on the user (the tokens API of a person)"
            if key in (ALL_ZONES_KEY, ALL_ACCOUNTS_KEY):
                return "grants on every account"
            if key.startswith(ZONE_PREFIX):
                zone = key[len(ZONE_PREFIX) :]
                found = directory.zone_account(zone) if directory is not None else None
                if found != account:
                    return f"{_describe_key(key, directory)} of another account"
                nested[key] = value
            elif key == own and isinstance(value, Mapping):
                nested.update(value)
            elif key == own:
                kept[key] = value
            else:
                return f"{_describe_key(key, directory)} (another account)"
        if nested and own in kept:  # an account grant and zone grants: two policies
            extra.append({**policy, "resources": {own: nested}})
            extra[-1].pop("id", None)
        elif nested:
            kept[own] = nested
        policy["resources"] = kept
    body["policies"].extend(extra)
    return None


def _describe_key(key: str, directory: Any) -> str:
    try:
        return " ".join(a.describe(directory) for a in Resource.from_api({key: "*"}))
    except Exception:
        return key
