"""The token-by-token lenient reader: one token's wire dict into the inventory's columns,
each slip Cloudflare rejects or ignores read by meaning and reported (CFT-LN-04), anything
unreadable refused (:class:`~cftokens.audit._atoms.InvalidToken`). The reference the bulk
path (:mod:`._bulk`) is tested against, and the reader of every token it leaves.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Mapping
from typing import Any

from ..catalog import permission_groups
from ..model.terraform import UNKNOWN_KEY
from ._atoms import (
    _HEX32,
    _KIND_SCOPE_LIST,
    _OWNED_DETAIL,
    K_ACCOUNT,
    K_UNPARSED,
    Atom,
    InvalidToken,
    _at_policy,
    _owned_reading,
    _owned_texts,
    parse_resources,
)
from ._cidr import parse_network
from ._columns import (
    S_ACCOUNT,
    S_R2,
    S_USER,
    S_ZONE,
    STATUSES,
    Inventory,
    TokenRecord,
    _is_map,
)
from ._definition import (
    AWS_FIELDS,
    HIGH,
    MEDIUM,
    DefinitionIssue,
    bad_id_key,
    placeholder,
)
from ._labels import _label
from .steps import MoveCondition, RemovePolicy, RemoveResource


def parse_cidr(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR (host bits allowed, as Cloudflare allows them); cached."""
    try:
        return parse_network(text)
    except ValueError:
        raise InvalidToken(
            f"{text!r} is not a valid IPv4 or IPv6 CIDR in the token's IP condition"
        ) from None


def _condition(payload: Mapping[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A token's allowed and denied IP ranges (tuples: kept as the inventory's ``ip_in`` and
    ``ip_out``)."""
    cond = payload.get("condition")
    if not cond:
        return (), ()
    if not isinstance(cond, Mapping):
        raise InvalidToken(f"condition must be a JSON object, got {type(cond).__name__}")
    ip = cond.get("request.ip")
    if ip is None:
        ip = cond.get("request_ip")
    if ip is None:
        return (), ()
    if not isinstance(ip, Mapping):
        raise InvalidToken('condition["request.ip"] must be an object with "in"/"not_in" lists')
    allow = ip.get("in") or []
    deny = ip.get("not_in") or []
    if not isinstance(allow, list) or not isinstance(deny, list):
        raise InvalidToken('condition["request.ip"] "in" and "not_in" must be lists of CIDRs')
    for value in allow:
        parse_cidr(value)
    for value in deny:
        parse_cidr(value)
    return tuple([str(v) for v in allow]), tuple([str(v) for v in deny])


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise InvalidToken(f"{what} must be 32 lower-case hex characters, got {value!r}")
    return value


_valid_ids: set[str] = set()


def _token_id(payload: Mapping[str, Any]) -> str:
    """The token's id; a definition not created yet (no id) gets a stable one from its text."""
    tid = payload.get("id")
    if tid is None:
        try:
            try:
                text = json.dumps(payload, sort_keys=True, default=str)
            except TypeError:  # keys of mixed types (a YAML or Python source): sort as text
                text = json.dumps(_text_keys(payload), sort_keys=True, default=str)
        except (ValueError, RecursionError):  # a cycle, or nested deeper than JSON goes
            raise InvalidToken(
                "a token must be JSON data (objects, lists, text, numbers); this one refers "
                "to itself or is nested too deep"
            ) from None
        return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return _check_id(tid, "token id")


def _text_keys(value: Any) -> Any:
    """``value`` with every mapping key as its ``repr`` (keys of any type sort as text)."""
    if isinstance(value, Mapping):
        return {repr(k): _text_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_text_keys(v) for v in value]
    return value


def _add_token(inv: Inventory, record: TokenRecord) -> None:
    payload = record.payload
    if not _is_map(payload):
        raise InvalidToken(f"a token must be a JSON object, got {type(payload).__name__}")
    tid = _token_id(payload)
    status = payload.get("status", "active") or "active"
    if status not in STATUSES:
        raise InvalidToken(f"status must be one of active, disabled, expired; got {status!r}")
    policies = payload.get("policies") or []
    if type(policies) is not list:
        raise InvalidToken("policies must be a list")
    ip_in, ip_out = _condition(payload)
    groups = inv.groups
    scopes = groups.scope
    known = groups.known
    names = groups.names
    kind_scope = _KIND_SCOPE_LIST
    t = inv.n
    start = inv.m
    c_pol: list[int] = []
    c_deny: list[bool] = []
    c_group: list[int] = []
    c_atoms: list[Atom] = []
    c_pid: list[str | None] = []
    c_mis: list[bool] = []
    nofit: list[tuple[int, int, int]] = []
    issues: list[DefinitionIssue] = []
    has_deny = False
    for index, policy in enumerate(policies, start=1):
        if not _is_map(policy):
            raise InvalidToken(f"policy {index} must be a JSON object")
        deny = _effect(policy, index, t, issues)
        has_deny = has_deny or deny
        _policy_condition(policy, index, t, issues)
        resources = _policy_resources(policy, index, t, issues)
        atoms = _owned_atoms(parse_resources(resources), record, index, t, issues)
        atom_scopes = [kind_scope[a[0]] for a in atoms]
        pid = policy.get("id")
        policy_id = _label(pid) if type(pid) is str else None  # (a credential: its label)
        seen: set[int] = set()
        for code, given in _group_codes(inv, policy, index, t, atom_scopes, issues):
            if code in seen:
                continue
            seen.add(code)
            mismatch = (
                given is not None
                and given != names[code]
                and known[code]
                and _norm_name(given) != _norm_name(names[code])
            )
            scope = scopes[code]
            n_atoms = len(atoms)
            if n_atoms:
                c_pol.extend([index] * n_atoms)
                c_deny.extend([deny] * n_atoms)
                c_group.extend([code] * n_atoms)
                c_atoms.extend(atoms)
                c_pid.extend([policy_id] * n_atoms)
                c_mis.extend([mismatch] * n_atoms)
            if scope not in atom_scopes:
                nofit.append((t, index, code))
        _policy_fits(inv, seen, atoms, index, t, issues)
    n_rows = len(c_pol)
    inv.g_tok.extend([t] * n_rows)
    inv.g_pol.extend(c_pol)
    inv.g_deny.extend(c_deny)
    inv.g_group.extend(c_group)
    inv.g_kind.extend([a[0] for a in c_atoms])
    inv.g_rid.extend([a[1] for a in c_atoms])
    inv.g_racct.extend([a[2] for a in c_atoms])
    inv.g_rkey.extend([a[3] for a in c_atoms])
    inv.g_policy_id.extend(c_pid)
    inv.g_name_mismatch.extend(c_mis)
    inv.nofit.extend(nofit)
    inv.ln04.extend(issues)
    inv.records.append(record)
    inv.ids.append(tid)
    name = payload.get("name")
    inv.names.append(name if type(name) is str else "")
    inv.kinds.append(record.kind)
    inv.owner_ids.append(record.owner_id)
    inv.owner_names.append(record.owner_name)
    inv.status.append(STATUSES.index(status))
    for key, values in inv.dates.items():
        values.append(payload.get(key))
    inv.unknown.append(payload.get(UNKNOWN_KEY))
    inv.ip_in.append(ip_in)
    inv.ip_out.append(ip_out)
    inv.n_policies.append(len(policies))
    inv.has_deny.append(has_deny)
    inv.row_start.append(start)
    inv.row_end.append(start + n_rows)


# -- lenient reading of definitions (each slip is a CFT-LN-04 issue) ------------------------


def _effect(policy: Mapping[str, Any], index: int, t: int, issues: list[DefinitionIssue]) -> bool:
    """True for a deny policy. Cloudflare takes exactly "allow" or "deny"; other spellings are
    read by meaning, and anything else as allow (the widest reading)."""
    effect = policy.get("effect")
    if effect is None and "Effect" in policy:
        effect = policy.get("Effect")  # AWS-style, reported with the other AWS fields
    if effect == "allow":
        return False
    if effect == "deny":
        return True
    text = effect.strip().lower() if isinstance(effect, str) else None
    if text in ("allow", "deny"):
        if "Effect" not in policy:
            issues.append(
                DefinitionIssue(
                    t,
                    index,
                    MEDIUM,
                    f"policy {index} has effect {effect!r}; Cloudflare accepts only "
                    '"allow" or "deny"',
                    "Cloudflare refuses the definition as written.",
                    f'Write "effect": "{text}" in policy {index}.',
                )
            )
        return text == "deny"
    issues.append(
        DefinitionIssue(
            t,
            index,
            MEDIUM,
            f"policy {index} has effect {effect!r}, neither allow nor deny; read as allow",
            "Cloudflare refuses the definition as written; the audit reads the policy as an "
            "allow (the widest reading).",
            f'Set "effect" to "allow" or "deny" in policy {index}.',
        )
    )
    return False


def _policy_condition(
    policy: Mapping[str, Any], index: int, t: int, issues: list[DefinitionIssue]
) -> None:
    """A condition inside a policy: Cloudflare reads conditions on the token only."""
    condition = policy.get("condition")
    if condition is None:
        condition = policy.get("conditions")
    if not condition:
        return
    ranges = _condition_ranges(condition)
    what = f"the IP restriction {ranges}" if ranges else "its restriction"
    issues.append(
        DefinitionIssue(
            t,
            index,
            HIGH,
            f"policy {index} carries a condition ({what}); Cloudflare reads conditions on the "
            "token, not inside a policy",
            f"The author's restriction is silently dropped: {what} has no effect.",
            'Move the condition to the token: {"condition": {"request.ip": {"in": [...]}}} '
            f"next to name and policies, and remove it from policy {index}.",
            MoveCondition(policy=index),
        )
    )


def _condition_ranges(condition: Any) -> str:
    if not isinstance(condition, Mapping):
        return ""
    ip = condition.get("request.ip") or condition.get("request_ip")
    if not isinstance(ip, Mapping):
        return ""
    parts = []
    for field, label in (("in", "allow"), ("not_in", "deny")):
        values = ip.get(field)
        if isinstance(values, list) and values:
            parts.append(f"{label} {', '.join(str(v) for v in values[:4])}")
    return "; ".join(parts)


def _policy_resources(
    policy: Mapping[str, Any], index: int, t: int, issues: list[DefinitionIssue]
) -> Any:
    """The policy's resources map (a JSON-encoded string is decoded), with placeholders and
    malformed ids reported; AWS-style fields are reported here too."""
    aws = [k for k in policy if isinstance(k, str) and k.lower() in AWS_FIELDS]
    if aws or "Effect" in policy:
        written = ", ".join(repr(k) for k in [*aws, *(["Effect"] if "Effect" in policy else [])])
        issues.append(
            DefinitionIssue(
                t,
                index,
                MEDIUM,
                f"policy {index} uses AWS IAM-style fields ({written})",
                "Cloudflare policies have effect, permission_groups and resources; it refuses "
                "or ignores these fields.",
                f"Rewrite policy {index} with permission_groups ([{{'id': …}}]) and resources "
                "(Cloudflare resource keys).",
            )
        )
    resources = policy.get("resources")
    if isinstance(resources, str):
        try:
            decoded = json.loads(resources)
        except json.JSONDecodeError:
            raise InvalidToken(f"policy {index}: resources is a string but not JSON") from None
        issues.append(
            DefinitionIssue(
                t,
                index,
                MEDIUM,
                f"policy {index} gives resources as a JSON-encoded string",
                "Cloudflare wants resources as an object; it refuses a string.",
                f"Write policy {index}'s resources as an object, not as encoded JSON.",
            )
        )
        resources = decoded
    if not isinstance(resources, Mapping):
        return resources  # parse_resources says what is wrong
    for key, value in resources.items():
        keys = [key] + (list(value) if isinstance(value, Mapping) else [])
        for k in keys:
            if isinstance(k, str):
                _check_key(k, index, t, issues)
    return resources


def _check_key(key: str, index: int, t: int, issues: list[DefinitionIssue]) -> None:
    hole = placeholder(key)
    if hole is not None:
        issues.append(
            DefinitionIssue(
                t,
                index,
                MEDIUM,
                f"policy {index} names {key!r}: the placeholder {hole} was never filled in",
                "Cloudflare refuses the key; the audit reads it as covering nothing.",
                f"Replace {hole} with the real id (32 lower-case hex characters).",
                fix=RemoveResource(policy=index, key=key),
                key=key,
            )
        )
        return
    bad = bad_id_key(key)
    if bad is not None:
        issues.append(
            DefinitionIssue(
                t,
                index,
                MEDIUM,
                f"policy {index} names {key!r}: {bad!r} is not an id (32 lower-case hex "
                "characters)",
                "Cloudflare refuses the key; the audit reads it as covering nothing.",
                "Use the zone's or account's id (from the dashboard's overview page or the "
                "API), not its name.",
                fix=RemoveResource(policy=index, key=key),
                key=key,
            )
        )


def _owned_atoms(
    atoms: list[Atom], record: TokenRecord, index: int, t: int, issues: list[DefinitionIssue]
) -> list[Atom]:
    """An account-owned token reaches only its own account and that account's zones, named
    nested under the account: Cloudflare refuses other keys. Wildcards across accounts are read
    as the most such a token can reach (its own account, all its zones), never wider."""
    if record.kind != "account":
        return atoms
    owner = record.owner_id if isinstance(record.owner_id, str) else None
    out: list[Atom] = []
    for atom in atoms:
        problem, read_as = _owned_reading(atom, owner)
        if problem is not None:
            issues.append(_owned_issue(t, index, atom, read_as, problem, owner, record.owner_name))
        out.append(read_as)
    return out


def _owned_issue(
    t: int,
    index: int,
    atom: Atom,
    read_as: Atom,
    problem: str,
    owner: str | None,
    owner_name: str | None,
) -> DefinitionIssue:
    """The CFT-LN-04 issue of an account-owned token's atom :func:`_owned_reading` faults."""
    return _owned_issue_at(t, index, _owned_texts(atom, read_as, problem, owner, owner_name))


def _owned_issue_at(t: int, index: int, texts: tuple[str, str, str]) -> DefinitionIssue:
    evidence, remediation, key = _at_policy(index, texts)
    return DefinitionIssue(t, index, MEDIUM, evidence, _OWNED_DETAIL, remediation, key=key)


def _group_codes(
    inv: Inventory,
    policy: Mapping[str, Any],
    index: int,
    t: int,
    atom_scopes: list[int],
    issues: list[DefinitionIssue],
) -> list[tuple[int, str | None]]:
    """(group code, name as written) of each permission group a policy lists; names given as
    strings and malformed ids are read through the catalogue and reported."""
    pgroups = policy.get("permission_groups")
    if pgroups is None:
        if not any(isinstance(k, str) and k.lower() in AWS_FIELDS for k in policy):
            issues.append(
                DefinitionIssue(
                    t,
                    index,
                    MEDIUM,
                    f"policy {index} lists no permission_groups",
                    "Cloudflare refuses a policy without permission groups; it grants nothing.",
                    f"Add the permission groups to policy {index}, or remove the policy.",
                )
            )
        return []
    if isinstance(pgroups, str | Mapping):
        pgroups = [pgroups]
    if type(pgroups) is not list:
        raise InvalidToken(f"policy {index}: permission_groups must be a list")
    out: list[tuple[int, str | None]] = []
    groups = inv.groups
    for entry in pgroups:
        if isinstance(entry, str):
            codes = _resolve(inv, entry, atom_scopes)
            issues.append(
                _group_issue(
                    inv, index, t, codes, f"names the group {entry!r} as a string", "a string"
                )
            )
            out.extend((c, None) for c in codes)
            continue
        if not _is_map(entry):
            raise InvalidToken(f"policy {index}: each permission group must be an object")
        gid = entry.get("id")
        name = entry.get("name")
        given = name if type(name) is str else None
        if type(gid) is str and gid in _valid_ids:
            code = groups.code.get(gid)
            out.append((code if code is not None else groups.intern(gid, given), given))
            continue
        if type(gid) is str and _HEX32.fullmatch(gid):
            _valid_ids.add(gid)
            code = groups.code.get(gid)
            out.append((code if code is not None else groups.intern(gid, given), given))
            continue
        text = gid if isinstance(gid, str) and gid.strip() else given
        if not isinstance(text, str) or not text.strip():
            raise InvalidToken(
                f"policy {index}: permission group id must be 32 lower-case hex characters, "
                f"got {gid!r}"
            )
        codes = _resolve(inv, text, atom_scopes)
        what = (
            f"gives permission group id {gid!r}, which is not 32 lower-case hex characters"
            if gid is not None
            else f"names the group {given!r} without its id"
        )
        issues.append(_group_issue(inv, index, t, codes, what, "a malformed id"))
        out.extend((c, None) for c in codes)
    return out


def _group_issue(
    inv: Inventory, index: int, t: int, codes: list[int], what: str, shape: str
) -> DefinitionIssue:
    groups = inv.groups
    resolved = [c for c in codes if groups.known[c]]
    if resolved:
        read = " and ".join(f"{groups.names[c]} ({groups.ids[c]})" for c in resolved)
        fix = f'Write {{"id": "{groups.ids[resolved[0]]}"}} for {groups.names[resolved[0]]}.'
        detail = (
            f'Cloudflare wants permission groups as {{"id": …}} objects and refuses {shape}; '
            f"the audit reads it as {read}."
        )
    else:
        fix = "Look the group up with cftokens.permission_groups.search(...) and write its id."
        detail = (
            f'Cloudflare wants permission groups as {{"id": …}} objects and refuses {shape}; '
            "the catalogue knows no group by that name."
        )
    return DefinitionIssue(t, index, MEDIUM, f"policy {index} {what}", detail, fix)


def _resolve(inv: Inventory, text: str, atom_scopes: list[int]) -> list[int]:
    """Group codes for a name or id as people write it (catalogue look-up; the groups whose
    scope fits the policy's resources when the name exists in several scopes)."""
    groups = inv.groups
    lowered = text.strip().lower()
    if _HEX32.fullmatch(lowered):
        code = groups.code.get(lowered)
        return [code if code is not None else groups.intern(lowered, None)]
    found = permission_groups.written(text)
    if not found:
        return [groups.intern(text, text)]
    codes = [groups.code[g.id] for g in found if g.id in groups.code]
    fitting = [c for c in codes if groups.scope[c] in atom_scopes]
    return fitting or codes or [groups.intern(text, text)]


def _policy_fits(
    inv: Inventory,
    codes: set[int],
    atoms: list[Atom],
    index: int,
    t: int,
    issues: list[DefinitionIssue],
) -> None:
    """A policy none of whose groups fits any of its resources grants nothing."""
    groups = inv.groups
    known = [c for c in codes if groups.known[c]]
    if not known or not atoms or len(known) != len(codes):
        return
    atom_kinds = {a[0] for a in atoms}
    if K_UNPARSED in atom_kinds:
        return  # a key the audit cannot read: LN-02 or the key's own issue says so
    atom_scopes = {_KIND_SCOPE_LIST[k] for k in atom_kinds}
    group_scopes = {groups.scope[c] for c in known}
    if group_scopes & atom_scopes:
        return
    if S_ZONE in group_scopes and K_ACCOUNT in atom_kinds:
        return  # a zone group on a bare account key: CFT-LN-02's reading
    labels = {S_USER: "user", S_ACCOUNT: "account", S_ZONE: "zone", S_R2: "R2 bucket"}
    have = " and ".join(sorted(labels[s] for s in group_scopes if s in labels))
    named = " and ".join(sorted(labels[s] for s in atom_scopes if s in labels))
    issues.append(
        DefinitionIssue(
            t,
            index,
            MEDIUM,
            f"policy {index} lists {have} permission groups but names only {named} resources",
            "A permission group applies only to resources of its own scope: this policy grants "
            "nothing (Cloudflare refuses it).",
            f"Name the {have} resources the groups are meant for in policy {index}, or move "
            "the groups to a policy that does.",
            fix=RemovePolicy(policy=index),
        )
    )
    inv.mismatched_policies.add((t, index))


def _norm_name(name: str) -> str:
    """Names compare exactly but for surrounding/repeated whitespace: "DNS Edit" stored for
    "DNS Write" is the old name and is reported (CFT-LN-01)."""
    return " ".join(name.split())
