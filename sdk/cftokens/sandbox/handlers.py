"""Handlers of the emulated operations. Each takes a :class:`~.context.Call` (already
authenticated and authorised by the policy engine) and returns Cloudflare's success envelope,
or raises :class:`~.errors.SandboxError`. They run inside the call's transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from ..catalog import permission_groups
from ..model.resources import ResourceKind, Scope
from .context import Call, PrincipalKind, RawJSON, ok, page_info
from .errors import SandboxError
from .roles import role_allows
from .store import TokenRow, ZoneRow, api_time, ts
from .validate import (
    ParsedToken,
    parse_token_body,
    query_bool,
    query_choice,
    query_int,
)

VERIFY_MESSAGES = {
    "active": "This API Token is valid and active",
    "disabled": "This API Token is disabled",
    "expired": "This API Token has expired",
    "pending": "This API Token is not valid yet",
}


def _bad(message: str) -> SandboxError:
    return SandboxError.bad_request(message)


# --------------------------------------------------------------------------------------------
# Tokens (user-owned under /user/tokens, account-owned under /accounts/{account_id}/tokens)
# --------------------------------------------------------------------------------------------


def _owner(call: Call) -> tuple[str, str]:
    account_id = call.params.get("account_id")
    if account_id is not None:
        if call.store.account(account_id) is None:
            raise call.not_found()
        return "account", account_id
    user_id = call.principal.user_id
    if user_id is None:  # an account-owned token never reaches user paths past the engine
        raise SandboxError.forbidden()
    return "user", user_id


def _owned_token(call: Call, owner: tuple[str, str]) -> TokenRow:
    row = call.store.token(call.params["token_id"])
    if row is None or (row.owner_kind, row.owner_id) != owner:
        raise call.not_found()
    return row


def list_tokens(call: Call) -> dict[str, Any]:
    """GET …/tokens: one page of the owner's tokens, in creation order."""
    owner_kind, owner_id = _owner(call)
    query = call.query
    page = query_int(query, "page", 1, 1, None)
    per_page = query_int(query, "per_page", 20, 5, 50)
    direction = query_choice(query, "direction", ("asc", "desc"), "asc")
    include_expired = query_bool(query, "include_expired", False)
    rows, total = call.store.list_tokens(
        owner_kind,
        owner_id,
        now=call.now_ts,
        include_expired=include_expired,
        descending=direction == "desc",
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    now = call.now_ts
    result = RawJSON("[" + ",".join([r.to_json(now) for r in rows]) + "]")
    return ok(result, result_info=page_info(page, per_page, len(rows), total))


def get_token(call: Call) -> dict[str, Any]:
    """GET …/tokens/{token_id}."""
    row = _owned_token(call, _owner(call))
    return ok(row.to_api(call.now_ts))


def create_token(call: Call) -> dict[str, Any]:
    """POST …/tokens: validate, bound by the owner's rights, enforce the quota, issue."""
    owner_kind, owner_id = _owner(call)
    parsed = parse_token_body(call.json(), update=False)
    if parsed.expires_on is not None and parsed.expires_on <= call.now:
        raise _bad(
            f"expires_on: {api_time(ts(parsed.expires_on))} is in the past; choose a time after now"
        )
    check_bounds(call, parsed, owner_kind, owner_id)
    engine = call.engine
    limit = engine.user_token_quota if owner_kind == "user" else engine.account_token_quota
    if call.store.count_tokens(owner_kind, owner_id) >= limit:
        what = "this user" if owner_kind == "user" else "this account"
        raise SandboxError.quota(what, limit)
    created = engine.issue_token(
        owner_kind=owner_kind,
        owner_id=owner_id,
        name=parsed.name,
        policies=[{"id": engine.new_id(), **p.wire} for p in parsed.policies],
        condition=parsed.condition,
        not_before=parsed.not_before,
        expires_on=parsed.expires_on,
        created_by=_creator(call),
        when=call.now,
    )
    row, secret = created
    result = row.to_api(call.now_ts)
    result["value"] = secret
    return ok(result)


def update_token(call: Call) -> dict[str, Any]:
    """PUT …/tokens/{token_id}: replace name, policies, condition, window (and status)."""
    owner = _owner(call)
    row = _owned_token(call, owner)
    parsed = parse_token_body(call.json(), update=True)
    check_bounds(call, parsed, *owner)
    old_ids = {p.get("id") for p in json.loads(row.policies)}
    policies = [
        {"id": p.id if p.id in old_ids else call.engine.new_id(), **p.wire} for p in parsed.policies
    ]
    call.store.update_token(
        row.id,
        name=parsed.name,
        status=parsed.status or row.status,
        policies=json.dumps(policies),
        condition=None if parsed.condition is None else json.dumps(parsed.condition),
        not_before=None if parsed.not_before is None else ts(parsed.not_before),
        expires_on=None if parsed.expires_on is None else ts(parsed.expires_on),
        modified_on=call.now_ts,
    )
    updated = call.store.token(row.id)
    assert updated is not None
    return ok(updated.to_api(call.now_ts))


def delete_token(call: Call) -> dict[str, Any]:
    """DELETE …/tokens/{token_id}: the secret stops working at once."""
    row = _owned_token(call, _owner(call))
    call.store.delete_token(row.id)
    return ok({"id": row.id})


def roll_token(call: Call) -> dict[str, Any]:
    """PUT …/tokens/{token_id}/value: a new secret; the old one is invalid at once."""
    row = _owned_token(call, _owner(call))
    if call.request.body.strip():
        call.json()  # a body, when sent, must at least be JSON ({} is what SDKs send)
    secret = call.engine.roll_secret(row, call.now)
    return ok(secret)


def verify_token(call: Call) -> dict[str, Any]:
    """GET …/tokens/verify: the calling token's id and status (see ``docs/sandbox.md``)."""
    principal = call.principal
    token = principal.token
    account_id = call.params.get("account_id")
    wanted = PrincipalKind.ACCOUNT_TOKEN if account_id is not None else PrincipalKind.USER_TOKEN
    if token is None or principal.kind is not wanted:
        raise SandboxError.verify_invalid()
    if account_id is not None and token.owner_id != account_id:
        raise SandboxError.verify_invalid()
    if principal.refusal == "location":
        raise SandboxError.bad_location(call.request.ip)
    status = token.effective_status(call.now_ts)
    if status == "active" and token.not_before is not None and token.not_before > call.now_ts:
        message = VERIFY_MESSAGES["pending"]
    else:
        message = VERIFY_MESSAGES[status]
    result: dict[str, Any] = {"id": token.id, "status": status}
    if token.not_before is not None:
        result["not_before"] = api_time(token.not_before)
    if token.expires_on is not None:
        result["expires_on"] = api_time(token.expires_on)
    return ok(result, messages=[{"code": 10000, "message": message, "type": None}])


def list_permission_groups(call: Call) -> dict[str, Any]:
    """GET …/tokens/permission_groups, with ``name`` and ``scope`` filters."""
    query = call.query
    name = query.get("name")
    scope = query.get("scope")
    account_path = "account_id" in call.params
    result = []
    for group in permission_groups:
        if account_path and group.scope is Scope.USER:
            continue
        if name and group.name.lower() != name.lower():
            continue
        if scope and group.scope.value != scope:
            continue
        result.append({"id": group.id, "name": group.name, "scopes": [group.scope.value]})
    return ok(result, result_info=page_info(1, len(result), len(result), len(result)))


def _creator(call: Call) -> str:
    principal = call.principal
    if principal.token is not None:
        return principal.token.id
    return f"api_key:{principal.user_id}"


def check_bounds(call: Call, parsed: ParsedToken, owner_kind: str, owner_id: str) -> None:
    """A token can never grant more than its owner may: refuse resources the owner cannot
    reach, and (for allow policies) groups the owner's role does not include."""
    store = call.store
    creator_user = call.principal.user_id
    if owner_kind == "user":
        roles = dict(store.memberships(owner_id))
    else:
        roles = dict(store.memberships(creator_user)) if creator_user is not None else {}
    for i, policy in enumerate(parsed.policies):
        where = f"policies[{i}].resources"
        allow = policy.effect == "allow"
        for atom in policy.resources:
            account = _atom_account(call, atom, where, owner_kind, owner_id, roles)
            if not allow or account is None:
                continue
            if owner_kind == "account" and creator_user is None:
                continue  # created by an account-owned token: bounded by the account itself
            role = roles.get(account)
            if role is None:
                continue
            for j, group in enumerate(policy.groups):
                if group.scope is not atom.scope:
                    continue
                if not role_allows(role, group):
                    account_row = store.account(account)
                    label = account_row.name if account_row else account
                    raise _bad(
                        f"policies[{i}].permission_groups[{j}]: your role in account "
                        f"{label!r} ({role.value}) does not include {group.name}; a token "
                        "cannot grant more than its user's role"
                    )
        if owner_kind == "account":
            for j, group in enumerate(policy.groups):
                if group.scope is Scope.USER:
                    raise _bad(
                        f"policies[{i}].permission_groups[{j}]: {group.name} is a user "
                        "permission; account-owned tokens cannot hold user permissions"
                    )


def _atom_account(
    call: Call,
    atom: Any,
    where: str,
    owner_kind: str,
    owner_id: str,
    roles: Mapping[str, Any],
) -> str | None:
    """The account an atom lives in, after checking the owner may name it."""
    store = call.store
    kind = atom.kind
    key = f"{where}[{atom.wire_key!r}]"
    if kind is ResourceKind.USER:
        if owner_kind == "account":
            raise _bad(f"{key}: account-owned tokens cannot name a user")
        if atom.id != owner_id:
            raise _bad(f"{key}: a user token can only name its own user ({owner_id})")
        return None
    nested = (
        f'{{"com.cloudflare.api.account.{owner_id}": '
        '{"com.cloudflare.api.account.zone.<zone id>": "*"}}'
    )
    if kind in (ResourceKind.ALL_ACCOUNTS, ResourceKind.ALL_ZONES):
        if owner_kind == "account":
            raise _bad(
                f"{key}: an account-owned token cannot use a wildcard across accounts; name "
                f"com.cloudflare.api.account.{owner_id} or its zones, nested: {nested}"
            )
        return None
    if kind is ResourceKind.ZONE and owner_kind == "account" and atom.account_id is None:
        raise _bad(
            f"{key}: an account-owned token names zones nested under its own account, as in "
            f"{nested}; a flat zone key is refused"
        )
    if kind is ResourceKind.ZONE:
        zone_account = store.zone_account(str(atom.id))
        if zone_account is None:
            raise _bad(f"{key}: zone {atom.id} does not exist")
        if atom.account_id is not None and atom.account_id != zone_account:
            raise _bad(f"{key}: zone {atom.id} does not belong to account {atom.account_id}")
        account = zone_account
    else:
        account = str(atom.id if kind is ResourceKind.ACCOUNT else atom.account_id)
        if store.account(account) is None:
            raise _bad(f"{key}: account {account} does not exist")
    if owner_kind == "account":
        if account != owner_id:
            raise _bad(
                f"{key}: an account-owned token can only name its own account ({owner_id}) "
                "and that account's zones"
            )
    elif account not in roles:
        raise _bad(f"{key}: you are not a member of account {account}")
    return account


# --------------------------------------------------------------------------------------------
# User, accounts, zones
# --------------------------------------------------------------------------------------------


def get_user(call: Call) -> dict[str, Any]:
    """GET /user: the caller's user."""
    user_id = call.principal.user_id
    user = call.store.user(user_id) if user_id else None
    if user is None:
        raise SandboxError.forbidden()
    created = api_time(user.created_on)
    return ok(
        {
            "id": user.id,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "username": hashlib.sha256(user.email.encode()).hexdigest()[:32],
            "telephone": None,
            "country": None,
            "zipcode": None,
            "created_on": created,
            "modified_on": created,
            "two_factor_authentication_enabled": True,
            "two_factor_authentication_locked": False,
            "has_pro_zones": False,
            "has_business_zones": False,
            "has_enterprise_zones": False,
            "suspended": False,
            "betas": [],
            "organizations": [],
        }
    )


def _account_json(account: Any) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "type": account.type,
        "settings": {
            "enforce_twofactor": False,
            "api_access_enabled": None,
            "use_account_custom_ns_by_default": False,
            "abuse_contact_email": None,
        },
        "created_on": api_time(account.created_on),
    }


def list_accounts(call: Call) -> dict[str, Any]:
    """GET /accounts: the accounts the caller can reach (see ``docs/sandbox.md``)."""
    principal = call.principal
    if principal.kind is PrincipalKind.ACCOUNT_TOKEN:
        raise SandboxError.account_token_on_accounts()
    query = call.query
    page = query_int(query, "page", 1, 1, None)
    per_page = query_int(query, "per_page", 20, 5, 50)
    direction = query_choice(query, "direction", ("asc", "desc"), "asc")
    name = query.get("name")
    visible = call.engine.visible_accounts(call)
    accounts = call.store.accounts(visible)
    if name:
        accounts = [a for a in accounts if name.lower() in a.name.lower()]
    if direction == "desc":
        accounts.reverse()
    chunk = accounts[(page - 1) * per_page : page * per_page]
    return ok(
        [_account_json(a) for a in chunk],
        result_info=page_info(page, per_page, len(chunk), len(accounts), pages=True),
    )


def get_account(call: Call) -> dict[str, Any]:
    """GET /accounts/{account_id}."""
    account = call.store.account(call.params["account_id"])
    if account is None:
        raise call.not_found()
    return ok(_account_json(account))


_NAME_SERVERS = ("ada", "bob", "cruz", "dana", "ezra", "fay", "gus", "hana", "ivan", "june")


def zone_json(zone: ZoneRow) -> dict[str, Any]:
    """A zone object as GET /zones returns it."""
    pick = int(zone.id[:4], 16)
    first = pick % 10
    second = (first + 1 + (pick // 10) % 9) % 10
    servers = [f"{_NAME_SERVERS[i]}.ns.cloudflare.com" for i in (first, second)]
    plans = {
        "free": "Free Website",
        "pro": "Pro Website",
        "business": "Business Website",
        "enterprise": "Enterprise Website",
    }
    return {
        "id": zone.id,
        "name": zone.name,
        "status": zone.status,
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "name_servers": servers,
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "modified_on": api_time(zone.modified_on),
        "created_on": api_time(zone.created_on),
        "activated_on": api_time(zone.activated_on),
        "meta": {
            "step": 4,
            "custom_certificate_quota": 0,
            "page_rule_quota": 3,
            "phishing_detected": False,
        },
        "owner": {"id": zone.account_id, "type": "organization", "name": zone.account_name},
        "account": {"id": zone.account_id, "name": zone.account_name},
        "plan": {
            "id": hashlib.sha256(zone.plan.encode()).hexdigest()[:32],
            "name": plans.get(zone.plan, zone.plan),
            "legacy_id": zone.plan,
        },
    }


def _text_filter(value: str, spec: str) -> bool:
    """Cloudflare's name filter operators (``contains:``, ``starts_with:`` …)."""
    operator, _, operand = spec.partition(":")
    if not _:
        operator, operand = "equal", spec
    lowered, target = value.lower(), operand.lower()
    table: dict[str, Callable[[], bool]] = {
        "equal": lambda: lowered == target,
        "not_equal": lambda: lowered != target,
        "starts_with": lambda: lowered.startswith(target),
        "ends_with": lambda: lowered.endswith(target),
        "contains": lambda: target in lowered,
        "starts_with_case_sensitive": lambda: value.startswith(operand),
        "ends_with_case_sensitive": lambda: value.endswith(operand),
        "contains_case_sensitive": lambda: operand in value,
    }
    test = table.get(operator)
    if test is None:
        return value.lower() == spec.lower()
    return test()


def list_zones(call: Call) -> dict[str, Any]:
    """GET /zones: the zones the token can see, with Cloudflare's filters and paging."""
    query = call.query
    page = query_int(query, "page", 1, 1, None)
    # The schema says 5-50, but Cloudflare's own legacy client finds a zone by name with
    # per_page=1: accepted (a sandbox choice).
    per_page = query_int(query, "per_page", 20, 1, 50)
    direction = query_choice(query, "direction", ("asc", "desc"), "asc")
    order = query_choice(query, "order", ("name", "status", "account.id", "account.name"), None)
    match = query_choice(query, "match", ("any", "all"), "all")
    status = query_choice(query, "status", ("initializing", "pending", "active", "moved"), None)
    zones = call.engine.visible_zones(call)
    tests: list[Callable[[ZoneRow], bool]] = []
    if query.get("name"):
        spec = query["name"]
        tests.append(lambda z: _text_filter(z.name, spec))
    if status:
        tests.append(lambda z: z.status == status)
    if query.get("account.id"):
        account_id = query["account.id"]
        tests.append(lambda z: z.account_id == account_id)
    if query.get("account.name"):
        spec_a = query["account.name"]
        tests.append(lambda z: _text_filter(z.account_name, spec_a))
    if tests:
        combine = any if match == "any" else all
        zones = [z for z in zones if combine(t(z) for t in tests)]
    key: Callable[[ZoneRow], Any] = {
        "name": lambda z: z.name,
        "status": lambda z: z.status,
        "account.id": lambda z: z.account_id,
        "account.name": lambda z: z.account_name,
    }.get(order or "name", lambda z: z.name)
    zones.sort(key=key, reverse=direction == "desc")
    chunk = zones[(page - 1) * per_page : page * per_page]
    return ok(
        [zone_json(z) for z in chunk],
        result_info=page_info(page, per_page, len(chunk), len(zones), pages=True),
    )


def get_zone(call: Call) -> dict[str, Any]:
    """GET /zones/{zone_id}."""
    zone = call.store.zone(call.params["zone_id"])
    if zone is None:
        raise call.not_found()
    return ok(zone_json(zone))
