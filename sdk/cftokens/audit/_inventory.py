"""The columnar token inventory: API dicts parsed straight into arrays.

Parsing every token through :class:`~cftokens.Token` costs ~35 µs, which dominates an audit of
100,000 tokens. This module reads the wire dicts directly into column lists (resource keys,
group ids and CIDRs are cached, since they repeat across tokens) and then into numpy arrays.

Semantics stay the engine's: for a token without deny policies, E(T) is exactly its allow
(group, atom) pairs whose atom has the group's scope (what :func:`cftokens.effective_grants`
computes); for a token with any deny policy, the engine's comparisons of each allow with the
denies of its group are computed on the grant rows of all such tokens at once (the engine
itself, :func:`cftokens.effective_grants`, for those the lenient reader read or that name an R2
bucket or an unreadable resource; ``tests/audit/test_effective_fast.py`` compares the two).
Zones are placed in their accounts from the directory (``effective_grants(directory=…)``): a
flat zone allow (``account.zone.<id>``) that a deny on all zones of the zone's account, or on
the zone in its nested form, removes is not in E(T), as :func:`cftokens.evaluate` refuses every
request it could serve (when the zone's account is unknown the grant stays in E(T), marked
narrowed: the audit does not assume away a risk). ``tests/audit/test_outputs.py`` checks
row for row that the columnar path agrees with the engine on generated inventories. Resource
keys are read into atoms (:mod:`._atoms`) with the same rules as
:meth:`cftokens.Resource.from_api`. The date columns are kept as the API wrote them and read
by the rules' context (:mod:`._dates`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain, compress, repeat
from operator import add, attrgetter, eq, is_, is_not, itemgetter, ne, or_
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..catalog import permission_groups, risk_families
from ..catalog.groups import Level
from ..errors import InvalidInput, labelled, labelled_texts
from ..model.resources import (
    ALL_ZONES_KEY,
    Resource,
    Scope,
)
from ..model.terraform import UNKNOWN_KEY
from ..model.token import Token
from ..policy import effective_grants
from ._atoms import (
    _HEX32,
    _KIND_SCOPE_LIST,
    _MISSING,
    _OWNED_DETAIL,
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_UNPARSED,
    K_USER,
    K_ZONE,
    KIND_SCOPE,
    KINDS,
    Atom,
    AtomCodes,
    InvalidToken,
    _at_policy,
    _atom_numbers,
    _atom_readings,
    _bulk_atoms,
    _owned_reading,
    _owned_texts,
    _resource,
    _star_atoms,
    parse_resources,
)
from ._cidr import IPV4_CIDR, parse_network
from ._definition import (
    AWS_FIELDS,
    HIGH,
    MEDIUM,
    DefinitionIssue,
    DefinitionIssues,
    bad_id_key,
    placeholder,
)
from .steps import MoveCondition, RemovePolicy, RemoveResource

__all__ = [  # (the resource kinds' codes are _atoms', kept here for the rules)
    "DUPLICATE",
    "FAMILY_BITS",
    "KINDS",
    "K_ACCOUNT",
    "K_ALL_ACCOUNTS",
    "K_ALL_ZONES",
    "K_ALL_ZONES_IN",
    "K_R2",
    "K_UNPARSED",
    "K_USER",
    "K_ZONE",
    "Inventory",
    "TokenRecord",
    "build_inventory",
    "payload_columns",
    "payload_values",
]

_HEX = re.compile(r"[0-9a-f]*")
_NONE = type(None)

# Scope codes: 0 user, 1 account, 2 zone, 3 r2 bucket, 4 unknown (group not in the catalogue).
SCOPES: tuple[str, ...] = ("user", "account", "zone", "r2 bucket", "unknown")
S_USER, S_ACCOUNT, S_ZONE, S_R2, S_UNKNOWN = range(5)
_SCOPE_CODE = {Scope.USER: 0, Scope.ACCOUNT: 1, Scope.ZONE: 2, Scope.R2_BUCKET: 3}
# Level codes: 0 read, 1 write, 2 other, 3 unknown.
LEVELS: tuple[str, ...] = ("read", "write", "other", "unknown")
L_READ, L_WRITE, L_OTHER, L_UNKNOWN = range(4)
_LEVEL_CODE = {Level.READ: 0, Level.WRITE: 1, Level.OTHER: 2}
FAMILY_BITS: dict[str, int] = {"PE": 1, "HIJACK": 2, "EXFIL": 4, "CRED": 8, "EVASION": 16}
STATUSES: tuple[str, ...] = ("active", "disabled", "expired")
R2_PREFIX = "com.cloudflare.edge.r2.bucket."
DUPLICATE = "listed twice; the second copy was left out"


class TokenRecord:
    """One token to audit: its wire dict and who owns it (``kind`` is ``user`` or ``account``)."""

    __slots__ = ("kind", "owner_id", "owner_name", "payload")

    def __init__(
        self, payload: Mapping[str, Any], kind: str, owner_id: str | None, owner_name: str | None
    ):
        if (type(payload) is dict or isinstance(payload, Mapping)) and "value" in payload:
            payload = {k: v for k, v in payload.items() if k != "value"}  # never keep a secret
        self.payload = payload
        self.kind = kind
        self.owner_id = owner_id
        self.owner_name = owner_name


def payload_values(records: Sequence[TokenRecord], key: str) -> list[Any]:
    """``payload.get(key)`` of each record, in order (None where the payload is not a
    mapping): one C-level look-up per record when every payload is a plain dict (the API's
    and the JSON export's), else each mapping's own ``get``, as the audit reads it."""
    return payload_columns(records, (key,))[0]


def payload_columns(records: Sequence[TokenRecord], keys: Sequence[str]) -> list[list[Any]]:
    """:func:`payload_values` of several keys, the payloads and their types read once."""
    payloads = list(map(attrgetter("payload"), records))
    if set(map(type, payloads)) <= {dict}:
        return [list(map(dict.get, payloads, repeat(key))) for key in keys]
    return [[p.get(key) if isinstance(p, Mapping) else None for p in payloads] for key in keys]


@functools.cache
def _catalogue_columns() -> tuple[
    tuple[str, ...], tuple[str, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]
]:
    """The catalogue's groups as :class:`GroupTable` columns (ids, names, scope, level and
    family codes), worked out once per process: the catalogue never changes once loaded, and
    a small audit spent ~2 ms a time on it (each family set read from ``risk_families``)."""
    catalogue = list(permission_groups)
    return (
        tuple(g.id for g in catalogue),
        tuple(g.name for g in catalogue),
        tuple(_SCOPE_CODE.get(g.scope, S_UNKNOWN) for g in catalogue),
        tuple(_LEVEL_CODE.get(g.level, L_OTHER) for g in catalogue),
        tuple(
            sum(FAMILY_BITS[f] for f in risk_families.of(g.id) if f in FAMILY_BITS)
            for g in catalogue
        ),
    )


class GroupTable:
    """Permission groups by integer code: the catalogue first, unknown ids appended.

    Each table owns its lists (an audit appends the unknown groups it meets), copied from the
    catalogue's columns, which are worked out once per process."""

    def __init__(self) -> None:
        ids, names, scope, level, families = _catalogue_columns()
        self.ids: list[str] = list(ids)
        self.names: list[str] = list(names)
        self.scope: list[int] = list(scope)
        self.level: list[int] = list(level)
        self.families: list[int] = list(families)
        self.known: list[bool] = [True] * len(ids)
        self.code: dict[str, int] = dict(zip(ids, range(len(ids)), strict=True))
        self.n_catalogue = len(ids)

    def intern(self, gid: str, name: str | None) -> int:
        """The code of a group id, adding an unknown group when the catalogue lacks it."""
        code = self.code.get(gid)
        if code is None:
            code = len(self.ids)
            self.code[gid] = code
            self.ids.append(gid)
            self.names.append(name or gid)
            self.scope.append(S_UNKNOWN)
            self.level.append(L_UNKNOWN)
            self.families.append(0)
            self.known.append(False)
        return code

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """Per-group numpy arrays (scope, level, families, known)."""
        return {
            "scope": np.array(self.scope, dtype=np.int8),
            "level": np.array(self.level, dtype=np.int8),
            "families": np.array(self.families, dtype=np.int16),
            "known": np.array(self.known, dtype=bool),
        }


def parse_cidr(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR (host bits allowed, as Cloudflare allows them); cached."""
    try:
        return parse_network(text)
    except ValueError:
        raise InvalidToken(
            f"{text!r} is not a valid IPv4 or IPv6 CIDR in the token's IP condition"
        ) from None


def _condition(payload: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    cond = payload.get("condition")
    if not cond:
        return [], []
    if not isinstance(cond, Mapping):
        raise InvalidToken(f"condition must be a JSON object, got {type(cond).__name__}")
    ip = cond.get("request.ip")
    if ip is None:
        ip = cond.get("request_ip")
    if ip is None:
        return [], []
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
    return [str(v) for v in allow], [str(v) for v in deny]


#: The token dates the inventory keeps (``Inventory.dates``), in order.
DATE_KEYS = ("issued_on", "modified_on", "last_used_on", "not_before", "expires_on")


class _ListOfArray:
    """An :class:`Inventory` column as a list, made from its array (``Inventory.arrays``) on
    first read and kept, where the bulk path left the list out (it builds the arrays): most
    of an audit reads the arrays only (at 100,000 tokens the lists of the columns no rule
    reads cost ~10 ms)."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, inv: Inventory | None, owner: type | None = None) -> Any:
        if inv is None:
            return self
        values = inv.arrays[self.name].tolist()
        vars(inv)[self.name] = values
        return values


class Inventory:
    """Every token as columns, plus one row per (token, policy, group, resource atom).

    Token arrays have length ``n``; grant arrays (``g_*``) length ``m``; rows of one token are
    contiguous (``row_start[t]:row_end[t]``). ``g_effective`` marks rows in E(T). ``groups``:
    the permission groups' table (a new one, from the catalogue, when not given). The columns
    of ``_ARRAY_DTYPES`` the bulk path read are lists made from their arrays on first read
    (:meth:`_lazy_lists`).
    """

    if not TYPE_CHECKING:  # (typed as the lists __init__ makes)
        g_tok, g_pol, g_deny, g_group = (_ListOfArray() for _ in range(4))
        g_kind, g_name_mismatch, status, n_policies = (_ListOfArray() for _ in range(4))
        has_deny, row_start, row_end = (_ListOfArray() for _ in range(3))

    def __init__(self, groups: GroupTable | None = None) -> None:
        self.records: list[TokenRecord] = []
        self.ids: list[str] = []
        self.names: list[str] = []
        self.kinds: list[str] = []
        self.owner_ids: list[str | None] = []
        self.owner_names: list[str | None] = []
        self.status: list[int] = []
        self.dates: dict[str, list[Any]] = {k: [] for k in DATE_KEYS}
        # the Terraform attributes known only after apply, as written (``UNKNOWN_KEY``)
        self.unknown: list[Any] = []
        self.ip_in: list[list[str]] = []
        self.ip_out: list[list[str]] = []
        self.n_policies: list[int] = []
        self.has_deny: list[bool] = []
        self.row_start: list[int] = []
        self.row_end: list[int] = []
        self.invalid: list[tuple[str, str]] = []  # (token id or position, why)
        # the records (by position in the input) read with a credential in a grant key as its
        # label (:func:`_labelled_record`): the audit keeps these, never the input's
        self.labelled: dict[int, TokenRecord] = {}
        # CFT-LN-04: parts of a definition Cloudflare rejects or ignores, read leniently
        self.ln04 = DefinitionIssues()
        self.mismatched_policies: set[tuple[int, int]] = set()  # (token, policy): LN-04's
        # grant rows
        self.g_tok: list[int] = []
        self.g_pol: list[int] = []
        self.g_deny: list[bool] = []
        self.g_group: list[int] = []
        self.g_kind: list[int] = []
        self.g_rid: list[str | None] = []
        self.g_racct: list[str | None] = []
        self.g_rkey: list[str] = []
        self.g_policy_id: list[str | None] = []
        self.g_name_mismatch: list[bool] = []
        # (token, policy, group) naming no resource of the group's scope
        self.nofit: list[tuple[int, int, int]] = []
        self.groups = groups if groups is not None else GroupTable()
        self.arrays: dict[str, npt.NDArray[Any]] = {}

    @property
    def n(self) -> int:
        """Number of tokens."""
        return len(self.ids)

    @property
    def m(self) -> int:
        """Number of grant rows."""
        rows = vars(self).get("g_tok")
        return len(rows) if rows is not None else len(self.arrays["g_tok"])

    def _lazy_lists(self) -> None:
        """Leave the columns of ``_ARRAY_DTYPES`` to be made from their arrays when read."""
        for column in _ARRAY_DTYPES:
            vars(self).pop(column, None)


def _check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX32.fullmatch(value):
        raise InvalidToken(f"{what} must be 32 lower-case hex characters, got {value!r}")
    return value


_valid_ids: set[str] = set()


def _is_map(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)


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


# -- credentials in grant keys --------------------------------------------------------------


_labels: dict[str, str | None] = {}  # text -> it with each credential labelled (None: clean)


def _label(text: str) -> str:
    """``text`` with each credential as its :func:`~cftokens.errors.credential_label`, worked
    out once per distinct text (``text`` itself, the same object, when it holds none: the
    rule)."""
    out = _labels.get(text, _MISSING)
    if out is _MISSING:
        found = labelled(text)
        out = found if found != text else None
        if len(_labels) < 500_000:
            _labels[text] = out
    return text if out is None else out


def _labelled_text(value: Any) -> Any:
    """A text through :func:`_label` (a str subclass holding a credential as plain text);
    anything else as it is."""
    if type(value) is str:
        return _label(value)
    if isinstance(value, str):
        shown = _label(str.__str__(value))
        return value if shown == value else shown
    return value


def _labelled_record(record: TokenRecord) -> TokenRecord:
    """The record with each credential in a grant key (a permission group's id or name, or a
    group given as text; a resource key, nested ones too) as its label; the record itself
    when there is none (the rule).

    Anyone who can list tokens reads their policies, so a secret written in one is exposed:
    every output of the audit (frames, findings, fixes, reports, the export, queries) reads
    the labelled copy, and a label is kept for each distinct credential, so findings and
    grouping still work. The bulk path leaves every token holding one to the token reader
    (:func:`~cftokens.audit._atoms._key_clean`, the group names it compares), which reads
    this copy. The input is left as it was; odd shapes are left to the reader to report."""
    payload = record.payload
    if not _is_map(payload):
        return record
    policies = payload.get("policies")
    if type(policies) is not list:
        return record
    new = [_labelled_policy(p) for p in policies]
    if all(map(is_, new, policies)):
        return record
    return TokenRecord(
        {**payload, "policies": new}, record.kind, record.owner_id, record.owner_name
    )


def _labelled_policy(policy: Any) -> Any:
    if not _is_map(policy):
        return policy
    changed: dict[str, Any] = {}
    groups = policy.get("permission_groups")
    entries = [groups] if isinstance(groups, str | Mapping) else groups
    if type(entries) is list:
        new = [_labelled_group(e) for e in entries]
        if not all(map(is_, new, entries)):
            changed["permission_groups"] = new if type(groups) is list else new[0]
    resources = policy.get("resources")
    if isinstance(resources, str):  # JSON-encoded: a label is JSON text too
        if _label(resources) != resources:
            changed["resources"] = _label(resources)
    elif _is_map(resources):
        given = list(resources.items())
        items = [(_labelled_text(k), _labelled_keys(v) if _is_map(v) else v) for k, v in given]
        if any(a[0] is not b[0] or a[1] is not b[1] for a, b in zip(items, given, strict=True)):
            changed["resources"] = dict(items)
    return {**policy, **changed} if changed else policy


def _labelled_group(entry: Any) -> Any:
    if isinstance(entry, str):
        return _labelled_text(entry)
    if not _is_map(entry):
        return entry
    gid, name = entry.get("id"), entry.get("name")
    new_id, new_name = _labelled_text(gid), _labelled_text(name)
    if new_id is gid and new_name is name:
        return entry
    return {**entry, "id": new_id, "name": new_name} if "name" in entry else {**entry, "id": new_id}


def _labelled_keys(inner: Mapping[Any, Any]) -> Any:
    """A nested resources map (an account's zones) with its keys labelled."""
    given = list(inner.items())
    keys = [_labelled_text(k) for k, _ in given]
    if all(k is g[0] for k, g in zip(keys, given, strict=True)):
        return inner
    return {k: g[1] for k, g in zip(keys, given, strict=True)}


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


def build_inventory(
    records: Sequence[TokenRecord],
    zone_account: Mapping[str, str] | None = None,
    *,
    bulk: bool = True,
) -> Inventory:
    """Parse token records into an :class:`Inventory` (invalid tokens are listed, not raised).

    ``zone_account`` (zone id → account id, from the directory) lets E(T) drop flat zone
    grants that a deny on the zone's account removes (see the module docstring). Well-formed
    tokens go through the bulk path (``bulk=False`` reads every token one by one, the
    reference the bulk path is tested against); the result is the same.
    """
    inv = Inventory()
    numbering = AtomCodes()
    fast, fast_at = _read_bulk(records, inv.groups, numbering) if bulk else (None, [])
    fast_atoms = fast.arrays["g_atom"] if fast is not None else np.zeros(0, dtype=np.int64)
    left = np.ones(len(records), dtype=bool)
    left[fast_at] = False
    slow_at: list[int] = []
    seen: set[str] = set()
    for position in np.flatnonzero(left).tolist():  # the tokens the bulk path left
        record = _labelled_record(records[position])
        if record is not records[position]:
            inv.labelled[position] = record
        payload = record.payload
        tid = payload.get("id") if isinstance(payload, Mapping) else None
        label = _labelled_text(tid) if isinstance(tid, str) else f"#{position + 1}"
        try:  # a definition not created yet (no id) is known by its stable id
            key = _token_id(payload) if tid is None and isinstance(payload, Mapping) else tid
        except InvalidToken as exc:
            inv.invalid.append((label, str(exc)))
            continue
        if isinstance(key, str) and key in seen:
            inv.invalid.append((label, DUPLICATE))
            continue
        mark = inv.m, len(inv.nofit)
        try:
            _add_token(inv, record)
        except InvalidToken as exc:
            # roll back any rows of the half-read token
            for column in _GRANT_COLUMNS:
                del getattr(inv, column)[mark[0] :]
            del inv.nofit[mark[1] :]
            inv.mismatched_policies = {p for p in inv.mismatched_policies if p[0] < inv.n}
            inv.invalid.append((label, str(exc)))
            continue
        slow_at.append(position)
        if isinstance(key, str):
            seen.add(key)
    if fast is not None:
        labelled = inv.labelled
        inv = _merge(inv, slow_at, fast, fast_at)
        inv.labelled = labelled
    # which tokens the bulk path read (tokens are in record order: see _merge)
    read_by = np.repeat(np.array([False, True]), [len(slow_at), len(fast_at)])
    bulk_read = read_by[np.argsort(np.array(slow_at + fast_at, dtype=np.int64), kind="stable")]
    _finish(inv, zone_account or {}, bulk_read)
    inv.arrays["g_atom"], inv.arrays["g_atom_first"] = _atom_numbers(
        inv, bulk_read, fast_atoms, numbering
    )
    return inv


_GRANT_COLUMNS = (
    "g_tok",
    "g_pol",
    "g_deny",
    "g_group",
    "g_kind",
    "g_rid",
    "g_racct",
    "g_rkey",
    "g_policy_id",
    "g_name_mismatch",
)


# -- the bulk path: well-formed tokens read column by column -------------------------------
#
# Most tokens are written exactly as the API returns them. Their fields are pulled out of the
# dicts with C-level ``map``/``chain`` calls (no Python code per token or per policy), checked
# in bulk, and their grant rows built with numpy index arithmetic. A token with anything the
# lenient reader above would report, repair or reject (an LN-04 slip other than an
# account-owned token's resource, a malformed field, an unknown group, a duplicate id) is left
# to that reader, so both paths give the same rows, issues and gaps
# (tests/audit/test_bulk_inventory.py compares them). The tokens are read in chunks, each pass
# over a chunk's objects finding them in the CPU's caches (see _read_bulk).

_POLICY_FIELDS = frozenset({"id", "effect", "permission_groups", "resources"})
_STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}
_EFFECT_CODE = {"allow": 0, "deny": 1}
_EMPTY_POLICY: dict[str, Any] = {"effect": "allow", "permission_groups": [], "resources": {}}


# _status_code of text and None, looked up by C-level map: missing or empty reads as active
_TEXT_STATUS: dict[str | None, int] = {None: 0, "": 0}
_TEXT_STATUS.update(_STATUS_CODE)


def _bad_ids(
    ids: list[Any], payloads: list[dict[str, Any]], others: list[Any]
) -> npt.NDArray[np.bool_]:
    """Per token id of the bulk path's ``payloads``: whether it is not 32 lower-case hex
    characters of exact type ``str``, or is listed twice. A duplicate among ``others`` (the
    payloads the token reader reads) counts too, and so does the stable id of a definition
    without one."""
    n = len(ids)
    counts: Counter[str] = Counter()
    types = set(map(type, ids))  # once: each pass touches every id
    unnamed: list[Mapping[str, Any]] = (
        [payloads[i] for i in np.flatnonzero(_is_none(ids)).tolist()] if _NONE in types else []
    )
    for payload in others:
        if isinstance(payload, Mapping):
            other = payload.get("id")
            if isinstance(other, str):
                counts[other] += 1
            elif other is None:
                unnamed.append(payload)
    for payload in unnamed:
        with contextlib.suppress(InvalidToken):  # the token reader reports it
            counts[_token_id(payload)] += 1
    if types <= {str}:
        distinct = set(ids)
        if len(distinct) == n and distinct.isdisjoint(counts):  # no copies: only the form
            if set(map(len, ids)) == {32} and _HEX.fullmatch("".join(ids)):
                return np.zeros(n, dtype=bool)  # every id checked by one scan
            return np.fromiter(map(is_, map(_HEX32.fullmatch, ids), repeat(None)), bool, n)
    counts.update(x for x in ids if isinstance(x, str))  # a str subclass is a copy too
    return np.array(
        [type(x) is not str or counts[x] != 1 or _HEX32.fullmatch(x) is None for x in ids],
        dtype=bool,
    )


def _is_none(values: list[Any]) -> npt.NDArray[np.bool_]:
    """Per value: whether it is None."""
    if _NONE not in set(map(type, values)):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(is_, values, repeat(None)), dtype=bool, count=len(values))


def _status_code(value: Any) -> int:
    if not value:
        return 0  # missing or empty: active, as the token reader reads it
    return _STATUS_CODE.get(value, -1) if type(value) is str else -1


def _ipv4_allowlist(cond: Any) -> list[str] | None:
    """The ranges of a condition of the common shape, ``{"request.ip": {"in": [...]}}``
    (exact dicts of one key, an exact non-empty list, every range exact text that
    :data:`IPV4_CIDR` matches: a range both readers and the policy engine accept); None for
    any other condition."""
    if type(cond) is dict and len(cond) == 1:
        ip = cond.get("request.ip")
        if type(ip) is dict and len(ip) == 1:
            allow = ip.get("in")
            if (
                type(allow) is list
                and allow
                and all(type(v) is str and IPV4_CIDR.fullmatch(v) for v in allow)
            ):
                return allow
    return None


def _bulk_condition(cond: Any, payload: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """:func:`_condition` for the common shape (:func:`_ipv4_allowlist`); anything else goes
    through it."""
    allow = _ipv4_allowlist(cond)
    if allow is not None:
        return list(allow), []
    return _condition(payload)


# Texts of IPv4 ranges joined by newlines, each one matching IPV4_CIDR (which matches no
# newline): proves every range of a chunk's conditions at once
_IPV4_LINES = re.compile(rf"(?:(?:{IPV4_CIDR.pattern})\n)*(?:{IPV4_CIDR.pattern})")
_ONE = {1}


def _bulk_conditions(
    conditions: list[Any], payloads: list[dict[str, Any]], bad: npt.NDArray[np.bool_]
) -> tuple[list[list[str]], list[list[str]]]:
    """:func:`_bulk_condition` of each token's condition (allowed and denied ranges; ``bad``
    set where the token reader must read the token). When every condition given is empty or
    of the common shape (the rule), they are proven so by a few C-level passes over them
    all and one match of their ranges joined by newlines; otherwise token by token."""
    nc = len(conditions)
    ip_in: list[list[str]] = [[] for _ in range(nc)]
    ip_out: list[list[str]] = [[] for _ in range(nc)]
    at = list(compress(range(nc), conditions))  # (a condition's truth, as `if cond` reads it)
    left = at
    conds = list(map(conditions.__getitem__, at))
    if conds and set(map(type, conds)) == {dict} and set(map(len, conds)) == _ONE:
        ips: list[Any] = list(map(dict.get, conds, repeat("request.ip")))
        if set(map(type, ips)) == {dict} and set(map(len, ips)) == _ONE:
            allows: list[Any] = list(map(dict.get, ips, repeat("in")))
            if set(map(type, allows)) == {list} and 0 not in set(map(len, allows)):
                texts = list(chain.from_iterable(allows))
                if set(map(type, texts)) == {str}:
                    joined = "\n".join(texts)
                    if joined.count("\n") == len(texts) - 1 and _IPV4_LINES.fullmatch(joined):
                        copies: list[list[str]] = list(map(list, allows))
                        for i, allow in zip(at, copies, strict=True):
                            ip_in[i] = allow
                        left = []
    for i in left:
        try:
            ip_in[i], ip_out[i] = _bulk_condition(conditions[i], payloads[i])
        except InvalidToken:
            bad[i] = True
    return ip_in, ip_out


def _fields(items: list[dict[Any, Any]], keys: tuple[str, ...]) -> list[list[Any]]:
    """``item.get(key)`` of every item (plain dicts), one list per key, in one C-level pass
    through ``itemgetter``: over the items themselves when every one has every key (the API's
    objects), else over each item merged into ``{key: None, …}`` (``defaults | item``: a
    small new dict, read in order, which costs less than a pass of ``dict.get`` per key over
    items scattered in memory)."""
    if not items or len(keys) < 2:  # (itemgetter of one key gives the value, not a tuple)
        return [list(map(dict.get, items, repeat(key))) for key in keys]
    pick = itemgetter(*keys)
    try:
        rows = list(map(pick, items))
    except KeyError:  # a key missing somewhere: read as None, as dict.get reads it
        rows = list(map(pick, map(or_, repeat(dict.fromkeys(keys)), items)))
    return [list(column) for column in zip(*rows, strict=True)]


def _entry_atoms(keys: list[Any], values: list[Any]) -> list[tuple[Atom, ...] | None]:
    """:func:`_bulk_atoms` of each (key, value) entry. The usual entry (a plain ``str`` key
    mapped to ``"*"``) is read once per distinct key, through a cache looked up by C-level
    ``map`` (for every entry when every key is text: a nested entry's reading is then
    replaced); the others (nested zone maps, anything odd) entry by entry."""
    n = len(keys)
    # the value "*" found by identity, which proves it that exact str: CPython's decoders
    # (json, msgspec) give the one shared object for a one-character text. An equal text that
    # is another object, a str subclass or anything comparing equal takes the other path,
    # which reads it as the token reader does (the same atoms, only slower).
    key_text = _of_type(keys, str)
    usual = key_text & np.fromiter(map(is_, values, repeat("*")), dtype=bool, count=n)
    if key_text.all():  # exact text keys (the rule): looked up without running their code
        per_entry = list(map(_star_atoms.get, keys, repeat(_MISSING)))
    else:
        per_entry = [_MISSING] * n
        at = np.flatnonzero(usual).tolist()
        for i, atoms in zip(
            at, map(_star_atoms.get, [keys[i] for i in at], repeat(_MISSING)), strict=True
        ):
            per_entry[i] = atoms
    for i in np.flatnonzero(~usual).tolist():  # nested zone maps, anything odd
        per_entry[i] = _bulk_atoms(keys[i], values[i])
    if _MISSING in per_entry:  # keys not read before
        for i in [i for i, a in enumerate(per_entry) if a is _MISSING]:
            found = _star_atoms.get(keys[i], _MISSING)
            if found is _MISSING:
                found = _bulk_atoms(keys[i], "*")
                if len(_star_atoms) < 500_000:
                    _star_atoms[keys[i]] = found
            per_entry[i] = found
    return per_entry


def _renamed(given: list[str | None], codes: list[int], names: list[str]) -> npt.NDArray[np.bool_]:
    """Per permission group entry: whether the name written (exact text or None) is other than
    the catalogue's name of its group, beyond whitespace (CFT-LN-01's old names)."""
    canonical = list(map(names.__getitem__, codes))
    if given == canonical:  # every name as the catalogue writes it (the rule); see below
        return np.zeros(len(given), dtype=bool)
    # exact text and None only: ``!=`` runs no code of the input's own
    differs = _is_true(list(map(ne, given, canonical))) & ~_is_none(given)
    for i in np.flatnonzero(differs).tolist():
        differs[i] = _norm_name(given[i]) != _norm_name(canonical[i])  # type: ignore[arg-type]
    return differs


def _only(values: list[Any], kind: type) -> bool:
    """Whether every value's type is ``kind`` exactly (one C-level pass that makes no array:
    the rule, so the per-value arrays below are made only when it fails)."""
    return set(map(type, values)) <= {kind}


def _of_type(values: list[Any], kind: type) -> npt.NDArray[np.bool_]:
    """Per value: whether its type is ``kind`` exactly (a subclass does not count)."""
    if _only(values, kind):
        return np.ones(len(values), dtype=bool)
    return np.fromiter(map(is_, map(type, values), repeat(kind)), dtype=bool, count=len(values))


def _is_true(values: list[Any]) -> npt.NDArray[np.bool_]:
    """Per value: whether it is the ``True`` object itself."""
    return np.fromiter(map(is_, values, repeat(True)), dtype=bool, count=len(values))


def _not_of_type(values: list[Any], kind: type) -> npt.NDArray[np.bool_]:
    """Per value: whether its type is other than ``kind`` exactly (a subclass counts as other)."""
    if _only(values, kind):
        return np.zeros(len(values), dtype=bool)
    return np.fromiter(map(is_not, map(type, values), repeat(kind)), dtype=bool, count=len(values))


def _starts(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The first position of each segment of the given lengths."""
    return np.cumsum(counts) - counts


def _any_by(flags: npt.NDArray[np.bool_], segment: npt.NDArray[np.int64], n: int) -> Any:
    """Per segment: whether any of its flags is set."""
    return np.bincount(segment[flags], minlength=n) > 0 if n else np.zeros(0, dtype=bool)


#: Tokens read per chunk by :func:`_read_bulk` (see there).
_CHUNK = 2048


def _read_bulk(
    records: Sequence[TokenRecord], groups: GroupTable, numbering: AtomCodes | None = None
) -> tuple[Inventory, list[int]]:
    """The well-formed tokens of ``records`` as an :class:`Inventory`, and their positions
    (the others are for the token reader, :func:`_add_token`).

    The tokens are read in chunks of :data:`_CHUNK` (:func:`_read_chunk`, then joined): each of
    the reader's passes over a chunk's objects (its tokens, policies, permission groups and
    resources: ~2 MB) finds them in the CPU's caches where the previous pass left them, while a
    pass over all of an inventory's objects misses the caches at every object (the reader's
    passes cost a third less). Whether a token's id is listed twice is decided over all tokens:
    when any id is in two chunks (or is not exact text, or a token is not a plain dict), all
    tokens are read as one chunk. ``numbering``: the codes of the rows' resource atoms
    (``arrays["g_atom"]``; a new table when not given)."""
    n = len(records)
    if numbering is None:
        numbering = AtomCodes()
    if n <= _CHUNK:
        inv, positions, _ = _read_chunk(records, groups, numbering)
        return inv, positions
    starts = range(0, n, _CHUNK)
    parts = [_read_chunk(records[s : s + _CHUNK], groups, numbering) for s in starts]
    ids = list(chain.from_iterable(part[2] for part in parts))
    if not _only(ids, str) or len(set(ids)) != n:  # (ids only of plain dicts)
        inv, positions, _ = _read_chunk(records, groups, numbering)
        return inv, positions
    return _joined([part[0] for part in parts]), list(
        chain.from_iterable(
            map(add, part[1], repeat(s)) for part, s in zip(parts, starts, strict=True)
        )
    )


_TOKEN_LISTS = (
    "records",
    "ids",
    "names",
    "kinds",
    "owner_ids",
    "owner_names",
    "ip_in",
    "ip_out",
    "unknown",
)
_GRANT_LISTS = ("g_rid", "g_racct", "g_rkey", "g_policy_id")


def _joined(parts: list[Inventory]) -> Inventory:
    """The chunks :func:`_read_chunk` read as one inventory, tokens in order (the lists of
    its arrays made when read)."""
    inv = Inventory(parts[0].groups)
    for column in _TOKEN_LISTS + _GRANT_LISTS:
        setattr(inv, column, list(chain.from_iterable(getattr(part, column) for part in parts)))
    for key in DATE_KEYS:
        inv.dates[key] = list(chain.from_iterable(part.dates[key] for part in parts))
    n_of = np.array([part.n for part in parts], dtype=np.int64)
    m_of = np.array([len(part.arrays["g_tok"]) for part in parts], dtype=np.int64)
    n_before, m_before = _starts(n_of), _starts(m_of)
    done = inv.arrays
    for column in (*_ARRAY_DTYPES, "g_atom"):
        done[column] = np.concatenate([part.arrays[column] for part in parts])
    done["g_tok"] += np.repeat(n_before, m_of).astype(np.int32)
    done["row_start"] += np.repeat(m_before, n_of)
    done["row_end"] += np.repeat(m_before, n_of)
    inv._lazy_lists()
    shifts = n_before.tolist()
    for part, before in zip(parts, shifts, strict=True):
        if before:
            inv.nofit += [(t + before, p, g) for t, p, g in part.nofit]
        else:
            inv.nofit += part.nofit
    inv.ln04 = DefinitionIssues.joined([part.ln04 for part in parts], shifts)
    return inv


def _owned_issues(
    issues: DefinitionIssues,
    tok: npt.NDArray[np.int64],
    pol: npt.NDArray[np.int64],
    case: npt.NDArray[np.int64],
    cases: list[tuple[Atom, Atom, str, str | None]],
    owner_names: list[str | None],
    local: npt.NDArray[np.int64],
) -> None:
    """The CFT-LN-04 issues of a chunk's account-owned tokens' faulted atoms (each in the
    chunk's token ``tok``, policy ``pol``, of case ``case``), added to ``issues`` as columns;
    ``local``: each chunk token's position in the inventory. Their texts are made once per
    distinct (case, owner's name, policy): tens of thousands of tokens of one account write
    the same keys (the owners' names told apart by identity, equal ones giving equal texts)."""
    k = len(tok)
    _, name_first, name_of = np.unique(
        np.fromiter(map(id, owner_names), np.uint64, len(owner_names)),
        return_index=True,
        return_inverse=True,
    )
    n_names, n_pol = len(name_first), int(pol.max()) + 1
    which, said_of = np.unique(
        (case * n_names + name_of.reshape(-1)[tok]) * n_pol + pol, return_inverse=True
    )
    said: list[tuple[str, str, str]] = []
    for c, o, p in zip(
        (which // (n_names * n_pol)).tolist(),
        (which // n_pol % n_names).tolist(),
        (which % n_pol).tolist(),
        strict=True,
    ):
        written, read_as, problem, owner = cases[c]
        name = owner_names[int(name_first[o])]
        said.append(_at_policy(p, _owned_texts(written, read_as, problem, owner, name)))
    at = said_of.reshape(-1).tolist()
    issues.add_columns(
        local[tok].tolist(),
        pol.tolist(),
        [MEDIUM] * k,
        list(map(list(map(itemgetter(0), said)).__getitem__, at)),
        [_OWNED_DETAIL] * k,
        list(map(list(map(itemgetter(1), said)).__getitem__, at)),
        [None] * k,
        list(map(list(map(itemgetter(2), said)).__getitem__, at)),
    )


def _read_chunk(
    records: Sequence[TokenRecord],
    groups: GroupTable,
    numbering: AtomCodes,
) -> tuple[Inventory, list[int], list[Any]]:
    """:func:`_read_bulk` of one chunk of tokens (the ids of any duplicates found among them
    only), and the ids of its plain dict tokens; the inventory's lists of the columns it
    holds as arrays (``Inventory.arrays``) are made from them when read (``_ListOfArray``).
    ``numbering``: the parse's codes of resource atoms (each row's in ``arrays["g_atom"]``)."""
    all_payloads = list(map(attrgetter("payload"), records))
    is_dict = _of_type(all_payloads, dict)
    positions: list[int] = np.flatnonzero(is_dict).tolist()
    payloads: list[dict[str, Any]] = (
        all_payloads if is_dict.all() else [all_payloads[i] for i in positions]
    )
    nc = len(payloads)
    # -- token fields
    ids, statuses, raw, conditions, all_names, unknown, *all_dates = _fields(
        payloads, ("id", "status", "policies", "condition", "name", UNKNOWN_KEY, *DATE_KEYS)
    )
    bad = _bad_ids(ids, payloads, [all_payloads[i] for i in np.flatnonzero(~is_dict).tolist()])
    if set(map(type, statuses)) <= {str, _NONE}:
        status = np.fromiter(map(_TEXT_STATUS.get, statuses, repeat(-1)), np.int8, count=nc)
    else:
        status = np.fromiter(map(_status_code, statuses), dtype=np.int8, count=nc)
    bad |= status < 0
    not_list = _not_of_type(raw, list)
    if not_list.any():
        bad |= not_list & np.array([bool(x) for x in raw], dtype=bool)
        raw = [x if type(x) is list else [] for x in raw]
    pol_lists: list[list[Any]] = raw
    ip_in, ip_out = _bulk_conditions(conditions, payloads, bad)
    # -- policies
    n_pol = np.fromiter(map(len, pol_lists), dtype=np.int64, count=nc)
    pols: list[Any] = list(chain.from_iterable(pol_lists))
    n_p = len(pols)
    pol_tok = np.repeat(np.arange(nc), n_pol)
    pol_index = np.arange(n_p) - np.repeat(_starts(n_pol), n_pol) + 1
    pbad = _not_of_type(pols, dict)
    if pbad.any():
        pols = [p if type(p) is dict else _EMPTY_POLICY for p in pols]
    extra = set(chain.from_iterable(pols)) - _POLICY_FIELDS
    if extra:
        pbad |= np.array([not extra.isdisjoint(p) for p in pols], dtype=bool)
    pid_values, effects, raw, raw_resources = _fields(
        pols, ("id", "effect", "permission_groups", "resources")
    )
    if _only(effects, str):  # text (the rule): looked up by C-level map
        effect = np.fromiter(map(_EFFECT_CODE.get, effects, repeat(2)), dtype=np.int8, count=n_p)
    else:
        effect = np.array(
            [_EFFECT_CODE.get(e, 2) if type(e) is str else 2 for e in effects], np.int8
        )
    pbad |= effect == 2
    deny = effect == 1
    if not set(map(type, pid_values)) <= {str, _NONE}:  # a policy id not exact text is None
        pid_values = [x if type(x) is str else None for x in pid_values]
    # a credential written as a policy's id is read as its label (as the token reader reads it)
    for i, shown in labelled_texts([x or "" for x in pid_values]).items():
        pid_values[i] = shown
    pids = np.array(pid_values, dtype=object)  # text and None only: a flat array
    # -- permission groups (only catalogue groups given by id)
    not_list = _not_of_type(raw, list)
    pbad |= not_list
    pgs: list[list[Any]] = [x if type(x) is list else [] for x in raw] if not_list.any() else raw
    n_grp = np.fromiter(map(len, pgs), dtype=np.int64, count=n_p)
    entries: list[Any] = list(chain.from_iterable(pgs))
    n_e = len(entries)
    ent_pol = np.repeat(np.arange(n_p), n_grp)
    ebad = _not_of_type(entries, dict)
    if ebad.any():
        entries = [e if type(e) is dict else {} for e in entries]
    code_of = groups.code.get
    gids, given = _fields(entries, ("id", "name"))
    if _only(gids, str):  # text ids (the rule): looked up by C-level map
        codes = np.fromiter(map(code_of, gids, repeat(-1)), dtype=np.int64, count=n_e)
    else:
        codes = np.array([code_of(g, -1) if type(g) is str else -1 for g in gids], np.int64)
    ebad |= (codes < 0) | (codes >= groups.n_catalogue)
    codes[ebad] = 0
    if not set(map(type, given)) <= {str, _NONE}:
        given = [x if type(x) is str else None for x in given]
    mismatch = _renamed(given, codes.tolist(), groups.names)
    for i in np.flatnonzero(mismatch).tolist():  # a credential: the token reader labels it
        ebad[i] |= _label(given[i]) != given[i]
    if n_e:
        pair = ent_pol * len(groups.ids) + codes
        order = np.argsort(pair, kind="stable")
        twice = np.zeros(n_e, dtype=bool)
        twice[order[1:]] = pair[order[1:]] == pair[order[:-1]]
        ebad |= twice  # a group listed twice in one policy: the token reader drops the copy
    pbad |= _any_by(ebad, ent_pol, n_p)
    # -- resources
    raw = raw_resources
    not_dict = _not_of_type(raw, dict)
    pbad |= not_dict
    res: list[dict[Any, Any]] = (
        [x if type(x) is dict else {} for x in raw] if not_dict.any() else raw
    )
    n_res = np.fromiter(map(len, res), dtype=np.int64, count=n_p)
    res_pol = np.repeat(np.arange(n_p), n_res)
    keys = list(chain.from_iterable(res))
    values = list(chain.from_iterable(map(dict.values, res)))
    per_entry = _entry_atoms(keys, values)
    rbad = np.fromiter(map(is_, per_entry, repeat(None)), dtype=bool, count=len(per_entry))
    pbad |= _any_by(rbad, res_pol, n_p)
    entry_atoms: list[tuple[Atom, ...]] = (
        [a if a is not None else () for a in per_entry] if rbad.any() else per_entry  # type: ignore[assignment]
    )
    atoms: list[Atom] = list(chain.from_iterable(entry_atoms))
    atom_pol = np.repeat(res_pol, np.fromiter(map(len, entry_atoms), np.int64, len(entry_atoms)))
    # an account-owned token's resources outside its account: read as the token reader does
    mine = list(records) if nc == len(records) else [records[i] for i in positions]  # in order
    kinds = list(map(attrgetter("kind"), mine))
    owned_tok = np.fromiter(map(eq, kinds, repeat("account")), dtype=bool, count=nc)
    owner_ids = list(map(attrgetter("owner_id"), mine))
    owner_names = list(map(attrgetter("owner_name"), mine))
    owners: list[str | None] = owner_ids
    if not set(map(type, owners)) <= {str, _NONE}:
        owners = [o if isinstance(o, str) else None for o in owners]
    atom_tok = pol_tok[atom_pol]
    distinct, at, fault_at, fault_case, cases = _atom_readings(atoms, atom_tok, owned_tok, owners)
    akind = np.fromiter(map(itemgetter(0), distinct), dtype=np.int8, count=len(distinct))[at]
    # a policy none of whose groups fits any resource: the token reader reports it
    scope_bit = np.left_shift(1, KIND_SCOPE[akind].astype(np.int64) + 1)
    amask = np.zeros(n_p, dtype=np.int64)
    np.bitwise_or.at(amask, atom_pol, scope_bit)
    kmask = np.zeros(n_p, dtype=np.int64)
    np.bitwise_or.at(kmask, atom_pol, np.left_shift(1, akind.astype(np.int64)))
    gscope = np.array(groups.scope, dtype=np.int64)[codes]
    gbit = np.left_shift(1, gscope + 1)
    gmask = np.zeros(n_p, dtype=np.int64)
    np.bitwise_or.at(gmask, ent_pol, gbit)
    n_atoms = np.bincount(atom_pol, minlength=n_p).astype(np.int64)
    zone_on_account = ((gmask & (1 << (S_ZONE + 1))) != 0) & ((kmask & (1 << K_ACCOUNT)) != 0)
    pbad |= (n_grp > 0) & (n_atoms > 0) & ((gmask & amask) == 0) & ~zone_on_account
    bad |= _any_by(pbad, pol_tok, nc)
    # -- the good tokens' rows: for each policy, each group × each resource atom
    good = ~bad
    local = np.cumsum(good) - 1
    sizes = np.where(good[pol_tok], n_grp * n_atoms, 0)
    row_pol = np.repeat(np.arange(n_p), sizes)
    offset = np.arange(len(row_pol)) - np.repeat(_starts(sizes), sizes)
    per = n_atoms[row_pol]
    row_ent = _starts(n_grp)[row_pol] + offset // np.maximum(per, 1)
    row_atom = _starts(n_atoms)[row_pol] + offset % np.maximum(per, 1)
    inv = Inventory(groups)  # (a new table per chunk cost 0.4 ms)
    keep = np.flatnonzero(good).tolist()
    every = len(keep) == nc  # every token is well formed (the rule): no picking

    def kept_of(values: list[Any]) -> list[Any]:
        return list(values) if every else [values[i] for i in keep]

    inv.records = kept_of(mine)
    inv.ids = kept_of(ids)  # exact text: a token whose id is not is left to the token reader
    names = kept_of(all_names)
    inv.names = (
        names if set(map(type, names)) <= {str} else [x if type(x) is str else "" for x in names]
    )
    inv.kinds = kept_of(kinds)
    inv.owner_ids = kept_of(owner_ids)
    inv.owner_names = kept_of(owner_names)
    done = inv.arrays  # the columns as _finish makes them, so it need not convert them back
    done["status"] = status[keep]
    inv.dates = {k: kept_of(values) for k, values in zip(DATE_KEYS, all_dates, strict=True)}
    inv.unknown = kept_of(unknown)
    inv.ip_in = ip_in if every else [ip_in[i] for i in keep]
    inv.ip_out = ip_out if every else [ip_out[i] for i in keep]
    done["n_policies"] = n_pol[keep].astype(np.int32)
    done["has_deny"] = (np.bincount(pol_tok[deny], minlength=nc) > 0)[keep]
    per_tok = np.bincount(pol_tok[row_pol], minlength=nc)[keep]
    done["row_end"] = np.cumsum(per_tok).astype(np.int64)
    done["row_start"] = done["row_end"] - per_tok
    done["g_tok"] = local[pol_tok[row_pol]].astype(np.int32)
    g_pol = pol_index[row_pol]
    # beyond int16 (a token of 32,768 policies) np.array refuses, as _finish would have
    done["g_pol"] = g_pol.astype(np.int16) if n_p < 32_768 else np.array(g_pol.tolist(), np.int16)
    done["g_deny"] = deny[row_pol]
    done["g_group"] = codes[row_ent].astype(np.int32)
    done["g_kind"] = akind[row_atom]
    done["g_name_mismatch"] = mismatch[row_ent]
    inv._lazy_lists()
    # the rows' resource columns and atom codes, from a table of the chunk's distinct atoms
    n_d = len(distinct)
    table = np.empty((n_d, 3), dtype=object)
    if n_d:
        table[:, 0] = list(map(itemgetter(1), distinct))
        table[:, 1] = list(map(itemgetter(2), distinct))
        table[:, 2] = list(map(itemgetter(3), distinct))
    row_distinct = at[row_atom]
    inv.g_rid = table[row_distinct, 0].tolist()
    inv.g_racct = table[row_distinct, 1].tolist()
    inv.g_rkey = table[row_distinct, 2].tolist()
    done["g_atom"] = numbering.of(distinct)[row_distinct]
    inv.g_policy_id = pids[row_pol].tolist()
    fits = (amask[ent_pol] & gbit) != 0
    nofit = np.flatnonzero(~fits & good[pol_tok[ent_pol]])
    inv.nofit = list(
        zip(
            local[pol_tok[ent_pol[nofit]]].tolist(),
            pol_index[ent_pol[nofit]].tolist(),
            codes[nofit].tolist(),
            strict=True,
        )
    )
    keep_fault = good[atom_tok[fault_at]]
    fault_at, fault_case = fault_at[keep_fault], fault_case[keep_fault]
    if len(fault_at):
        _owned_issues(
            inv.ln04,
            atom_tok[fault_at],
            pol_index[atom_pol[fault_at]],
            fault_case,
            cases,
            owner_names,
            local,
        )
    return inv, positions if every else [positions[i] for i in keep], ids


_TOKEN_COLUMNS = (
    "records",
    "ids",
    "names",
    "kinds",
    "owner_ids",
    "owner_names",
    "status",
    "ip_in",
    "ip_out",
    "unknown",
    "n_policies",
    "has_deny",
)


def _merge(slow: Inventory, slow_at: list[int], fast: Inventory, fast_at: list[int]) -> Inventory:
    """One inventory from the token reader's and the bulk path's, tokens in record order."""
    if not fast.n:
        return slow
    if not slow.n and not slow.invalid and not slow.ln04:
        return fast
    order = np.argsort(np.array(slow_at + fast_at, dtype=np.int64), kind="stable")
    new = np.empty(len(order), dtype=np.int64)
    new[order] = np.arange(len(order))
    pick = order.tolist()
    out = Inventory(slow.groups)
    out.invalid = slow.invalid
    for column in _TOKEN_COLUMNS:
        both = getattr(slow, column) + getattr(fast, column)
        setattr(out, column, [both[i] for i in pick])
    for key in out.dates:
        both = slow.dates[key] + fast.dates[key]
        out.dates[key] = [both[i] for i in pick]
    tok = np.concatenate(
        [
            new[np.array(slow.g_tok, dtype=np.int64)],
            new[slow.n + np.array(fast.g_tok, dtype=np.int64)],
        ]
    )
    rows = np.argsort(tok, kind="stable")
    out.g_tok = tok[rows].tolist()
    take = rows.tolist()
    for column in _GRANT_COLUMNS[1:]:
        both = getattr(slow, column) + getattr(fast, column)
        setattr(out, column, [both[i] for i in take])
    per_tok = np.bincount(tok, minlength=len(order))
    out.row_end = np.cumsum(per_tok).tolist()
    out.row_start = (np.cumsum(per_tok) - per_tok).tolist()
    shift = [int(x) for x in new[: slow.n]], [int(x) for x in new[slow.n :]]
    nofit = [(shift[0][t], p, g) for t, p, g in slow.nofit]
    nofit += [(shift[1][t], p, g) for t, p, g in fast.nofit]
    out.nofit = sorted(nofit, key=itemgetter(0))
    toks = [
        shift[part][t] if t >= 0 else t
        for part, issues in ((0, slow.ln04), (1, fast.ln04))
        for t in issues.tok
    ]
    by_tok = sorted(range(len(toks)), key=toks.__getitem__)  # stable: each token's in order
    both = DefinitionIssues.joined([slow.ln04, fast.ln04], [0, 0])
    out.ln04 = both.taken(by_tok, list(map(toks.__getitem__, by_tok)))
    out.mismatched_policies = {(shift[0][t], p) for t, p in slow.mismatched_policies}
    return out


# The inventory's columns as arrays (``Inventory.arrays``), with their dtypes.
_ARRAY_DTYPES: dict[str, type] = {
    "g_tok": np.int32,
    "g_pol": np.int16,
    "g_deny": np.bool_,
    "g_group": np.int32,
    "g_kind": np.int8,
    "g_name_mismatch": np.bool_,
    "status": np.int8,
    "n_policies": np.int32,
    "has_deny": np.bool_,
    "row_start": np.int64,
    "row_end": np.int64,
}


def _finish(
    inv: Inventory, zone_account: Mapping[str, str], bulk_read: npt.NDArray[np.bool_]
) -> None:
    """Turn the lists into arrays and compute E(T) (``bulk_read``: per token, whether the
    bulk path read it, so its rows are its wire atoms: see :func:`_denies_applied`)."""
    a = inv.arrays
    for column, dtype in _ARRAY_DTYPES.items():
        if column not in a:  # the bulk path made its own from its arrays (the same values)
            a[column] = np.array(getattr(inv, column), dtype=dtype)
    ga = inv.groups.arrays()
    for key, value in ga.items():
        a["grp_" + key] = value
    gscope = ga["scope"][a["g_group"]] if inv.m else np.zeros(0, dtype=np.int8)
    kscope = KIND_SCOPE[a["g_kind"]] if inv.m else np.zeros(0, dtype=np.int8)
    scope_ok = (gscope == kscope) & ga["known"][a["g_group"]] if inv.m else np.zeros(0, bool)
    a["g_scope_ok"] = scope_ok
    effective = scope_ok & ~a["g_deny"]
    narrowed = np.zeros(inv.m, dtype=bool)
    with_deny = np.flatnonzero(a["has_deny"])
    left = _denies_applied(inv, with_deny[bulk_read[with_deny]], effective, narrowed, zone_account)
    for t in [*with_deny[~bulk_read[with_deny]].tolist(), *left]:
        _engine_effective(inv, t, effective, narrowed, zone_account)
    a["g_effective"] = effective
    a["g_narrowed"] = narrowed


def _engine_effective(
    inv: Inventory,
    t: int,
    effective: npt.NDArray[np.bool_],
    narrowed: npt.NDArray[np.bool_],
    zone_account: Mapping[str, str],
) -> None:
    """E(T) of a token with deny policies, from :func:`cftokens.effective_grants` itself, with
    zones placed in their accounts (a flat zone grant that a deny on all zones of its account
    removes is not effective, as :func:`cftokens.evaluate` decides)."""
    token = _engine_token(inv, t)
    if token is None:
        return
    granted: dict[tuple[int, str, Resource], bool] = {}
    for grant in effective_grants(token, directory=_ZoneAccounts(zone_account)):
        granted[(grant.policy_index, grant.group_id, grant.resource)] = bool(grant.narrowed_by)
    start, end = inv.row_start[t], inv.row_end[t]
    groups = inv.groups.ids
    for row in range(start, end):
        if inv.g_deny[row]:
            effective[row] = False
            continue
        key = (inv.g_pol[row], groups[inv.g_group[row]], _wire_resource(inv, row))
        hit = granted.get(key)
        effective[row] = hit is not None
        narrowed[row] = bool(hit)


def _engine_token(inv: Inventory, t: int) -> Token | None:
    """Token ``t`` as the policy engine reads it; None when the engine refuses it (a slip the
    lenient reader accepted and reports): its denies are not applied, so its allows stay
    effective (the widest reading, never narrower)."""
    payload = inv.records[t].payload
    if payload.get("id") != inv.ids[t]:  # a definition not created yet: its stable id
        payload = {**payload, "id": inv.ids[t]}
    try:
        return Token.from_api(payload)
    except InvalidInput:
        return None


def _engine_refuses(payload: Mapping[str, Any]) -> bool:
    """Whether the policy engine refuses a token the bulk path read (:func:`_engine_token` is
    None): ``Token.from_api`` of it, without its condition when that is of the common shape
    (:func:`_ipv4_allowlist`), which the engine accepts (every range parses, no other key),
    so reading it again decides nothing (a third of the reading's cost)."""
    if _ipv4_allowlist(payload.get("condition")) is not None:
        payload = {**payload, "condition": None}
    try:
        Token.from_api(payload)
    except InvalidInput:
        return True
    return False


def _denies_applied(
    inv: Inventory,
    tokens: npt.NDArray[np.int64],
    effective: npt.NDArray[np.bool_],
    narrowed: npt.NDArray[np.bool_],
    zone_account: Mapping[str, str],
) -> list[int]:
    """:func:`_engine_effective` of tokens the bulk path read (each row is one of the token's
    wire atoms; an account-owned token's "all zones" wildcard read as its account's zones is
    compared as written, as the engine reads it), for all of them at once: each allow row is
    paired with the deny rows of its token and group, and the engine's ``_superset`` and
    ``_overlaps`` are computed on the pairs' kinds, ids and accounts (a zone named by id placed
    in its account from the directory, as ``effective_grants(directory=…)`` places it). A token
    the engine refuses keeps its allows (see :func:`_engine_token`). Returns the tokens left to
    the engine: those with an R2 bucket or an unreadable resource (compared through the model).
    ``tests/audit/test_bulk_inventory.py`` compares the two on every deny shape."""
    if not len(tokens):
        return []
    a = inv.arrays
    starts, ends = a["row_start"][tokens], a["row_end"][tokens]
    sizes = ends - starts
    rows = np.repeat(starts - _starts(sizes), sizes) + np.arange(int(sizes.sum()))
    kind = a["g_kind"][rows].astype(np.int64)
    odd = np.isin(kind, (K_R2, K_UNPARSED))
    left: list[int] = np.unique(np.repeat(tokens, sizes)[odd]).tolist()
    accepted = np.array(
        [t not in left and not _engine_refuses(inv.records[t].payload) for t in tokens.tolist()],
        bool,
    )
    pick = np.repeat(accepted, sizes)
    rows, kind = rows[pick], kind[pick]
    if not len(rows):
        return left
    row_list = rows.tolist()
    keys = list(map(inv.g_rkey.__getitem__, row_list))
    ids = list(map(inv.g_rid.__getitem__, row_list))
    accounts = list(map(inv.g_racct.__getitem__, row_list))
    all_zones = np.array([k == ALL_ZONES_KEY for k in keys], dtype=bool)
    kind[all_zones] = K_ALL_ZONES  # as written (an account-owned token's is read as its own)
    for i in np.flatnonzero(all_zones).tolist():
        accounts[i] = None
    for i in np.flatnonzero((kind == K_ZONE) & _is_none(accounts)).tolist():
        accounts[i] = zone_account.get(str(ids[i]))  # placed (None: its account unknown)
    code: dict[str | None, int] = {None: -1}
    rid = np.array([code.setdefault(x, len(code)) for x in ids], dtype=np.int64)
    acct = np.array([code.setdefault(x, len(code)) for x in accounts], dtype=np.int64)
    tok = a["g_tok"][rows].astype(np.int64)
    key = tok * len(inv.groups.ids) + a["g_group"][rows]
    is_deny = a["g_deny"][rows]
    allow = np.flatnonzero(~is_deny & a["g_scope_ok"][rows])
    deny = np.flatnonzero(is_deny & a["g_scope_ok"][rows])
    deny = deny[np.argsort(key[deny], kind="stable")]
    lo = np.searchsorted(key[deny], key[allow], side="left")
    hi = np.searchsorted(key[deny], key[allow], side="right")
    n_pairs = hi - lo
    pa = np.repeat(allow, n_pairs)
    pd_ = deny[np.repeat(lo - _starts(n_pairs), n_pairs) + np.arange(int(n_pairs.sum()))]
    ak, dk = kind[pa], kind[pd_]
    same_id, same_acct = rid[pa] == rid[pd_], acct[pa] == acct[pd_]
    zone_like = (ak == K_ZONE) | (ak == K_ALL_ZONES_IN) | (ak == K_ALL_ZONES)
    superset = (
        ((dk == K_ALL_ZONES) & zone_like)
        | ((dk == K_ALL_ZONES_IN) & ((ak == K_ALL_ZONES_IN) | (ak == K_ZONE)) & same_acct)
        | ((dk == K_ZONE) & (ak == K_ZONE) & same_id & ((acct[pd_] < 0) | same_acct))
        | ((dk == K_ALL_ACCOUNTS) & ((ak == K_ACCOUNT) | (ak == K_ALL_ACCOUNTS)))
        | ((dk == K_ACCOUNT) & (ak == K_ACCOUNT) & same_id)
        | ((dk == K_USER) & (ak == K_USER) & same_id)
    )
    overlaps = (
        superset
        | ((ak == K_ALL_ZONES) & ((dk == K_ZONE) | (dk == K_ALL_ZONES_IN)))
        | ((ak == K_ALL_ZONES_IN) & (dk == K_ZONE) & ((acct[pd_] < 0) | same_acct))
        | ((ak == K_ALL_ZONES_IN) & (dk == K_ALL_ZONES_IN) & same_acct)
        | ((ak == K_ALL_ACCOUNTS) & (dk == K_ACCOUNT))
        | ((ak == K_ZONE) & (dk == K_ZONE) & same_id)
        | ((ak == K_ZONE) & (acct[pa] < 0) & (dk == K_ALL_ZONES_IN))
    )
    removed = np.bincount(pa[superset], minlength=len(rows)) > 0
    partly = np.bincount(pa[overlaps], minlength=len(rows)) > 0
    effective[rows[allow]] = ~removed[allow]
    narrowed[rows[allow]] = ~removed[allow] & partly[allow]
    return left


def _wire_resource(inv: Inventory, row: int) -> Resource:
    """The resource as the engine parses the wire key (an account-owned token's zone wildcard is
    read as its own account's zones in the inventory: see ``_owned_atoms``)."""
    key = inv.g_rkey[row]
    if key == ALL_ZONES_KEY:
        return Resource.all_zones()
    return _resource(inv.g_kind[row], inv.g_rid[row], inv.g_racct[row], key)


class _ZoneAccounts:
    """The zone → account mapping in the shape :func:`cftokens.effective_grants` reads."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: Mapping[str, str]):
        self._mapping = mapping

    def zone_account(self, zone_id: str) -> str | None:
        return self._mapping.get(zone_id)
