"""Resource atoms: a policy's resource keys read as ``(kind code, id, account id, wire key)``
tuples (the rules of :meth:`cftokens.Resource.from_api`), an account-owned token's atoms as
the audit reads them (never wider than its own account), and the numbering of the grant
rows' atoms that every rule shares.

Atoms of the same key are the same tuple (read once per distinct key, through bounded
caches), so a chunk of tokens tells its atoms apart by identity (:func:`_atom_readings`)
and codes each distinct one once (:class:`AtomCodes`); :func:`_atom_numbers` makes those
codes the audit's numbering (``Inventory.arrays["g_atom"]``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from itertools import count
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import labelled, redact
from ..model.resources import (
    ACCOUNT_PREFIX,
    ALL_ACCOUNTS_KEY,
    ALL_ZONES_KEY,
    USER_PREFIX,
    ZONE_PREFIX,
    Resource,
    ResourceKind,
    parse_r2_key,
)
from ._definition import bad_id_key, placeholder

if TYPE_CHECKING:
    from ._inventory import Inventory

__all__ = [
    "KINDS",
    "KIND_SCOPE",
    "K_ACCOUNT",
    "K_ALL_ACCOUNTS",
    "K_ALL_ZONES",
    "K_ALL_ZONES_IN",
    "K_R2",
    "K_UNPARSED",
    "K_USER",
    "K_ZONE",
    "Atom",
    "AtomCodes",
    "InvalidToken",
    "atom_to_resource",
    "parse_resources",
]

_HEX32 = re.compile(r"[0-9a-f]{32}")


# Resource kinds by code (the order is part of the arrays' meaning).
KINDS: tuple[ResourceKind, ...] = (
    ResourceKind.USER,
    ResourceKind.ACCOUNT,
    ResourceKind.ALL_ACCOUNTS,
    ResourceKind.ZONE,
    ResourceKind.ALL_ZONES_IN,
    ResourceKind.ALL_ZONES,
    ResourceKind.UNPARSED,
    ResourceKind.R2_BUCKET,
)


K_USER, K_ACCOUNT, K_ALL_ACCOUNTS, K_ZONE, K_ALL_ZONES_IN, K_ALL_ZONES, K_UNPARSED, K_R2 = range(8)


KIND_SCOPE = np.array([0, 1, 1, 2, 2, 2, -1, 3], dtype=np.int8)


Atom = tuple[int, str | None, str | None, str]  # (kind code, id, account id, wire key)


class InvalidToken(Exception):
    """A token dict the audit cannot read; it becomes a gap row, never a crash. Its message
    quotes the value it could not read, and is redacted when it is built (as
    :class:`~cftokens.CloudflareError`'s): a gap's reason, a CFT-LN-04 finding's evidence and
    SARIF never show a credential someone put in that field."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (redact(args[0]), *args[1:])
        super().__init__(*args)


_flat_cache: dict[tuple[str, Any], Atom] = {}


def _flat(key: str, value: Any) -> Atom:
    if value != "*":
        return (K_UNPARSED, None, None, key)
    cached = _flat_cache.get((key, "*"))
    if cached is not None:
        return cached
    atom: Atom
    if key == ALL_ACCOUNTS_KEY:
        atom = (K_ALL_ACCOUNTS, None, None, key)
    elif key == ALL_ZONES_KEY:
        atom = (K_ALL_ZONES, None, None, key)
    elif key.startswith(ZONE_PREFIX):
        tail = key[len(ZONE_PREFIX) :]
        atom = (
            (K_ZONE, tail, None, key) if _HEX32.fullmatch(tail) else (K_UNPARSED, None, None, key)
        )
    elif key.startswith(ACCOUNT_PREFIX):
        tail = key[len(ACCOUNT_PREFIX) :]
        atom = (
            (K_ACCOUNT, tail, None, key)
            if _HEX32.fullmatch(tail)
            else (K_UNPARSED, None, None, key)
        )
    elif key.startswith(USER_PREFIX):
        tail = key[len(USER_PREFIX) :]
        atom = (
            (K_USER, tail, None, key) if _HEX32.fullmatch(tail) else (K_UNPARSED, None, None, key)
        )
    elif (r2 := parse_r2_key(key)) is not None:
        atom = (K_R2, r2[2], r2[0], key)  # the bucket's name, its account
    else:
        atom = (K_UNPARSED, None, None, key)
    if len(_flat_cache) < 500_000:
        _flat_cache[(key, "*")] = atom
    return atom


def _nested(key: str, inner: Mapping[str, Any]) -> list[Atom]:
    tail = key[len(ACCOUNT_PREFIX) :] if key.startswith(ACCOUNT_PREFIX) else ""
    understood = (
        bool(_HEX32.fullmatch(tail))
        and bool(inner)
        and all(
            v == "*" and isinstance(k, str) and k.startswith(ZONE_PREFIX) for k, v in inner.items()
        )
    )
    if not understood:
        return [(K_UNPARSED, None, None, key)]
    atoms: list[Atom] = []
    for inner_key in inner:
        if inner_key == ALL_ZONES_KEY:
            atoms.append((K_ALL_ZONES_IN, None, tail, key))
        else:
            zid = inner_key[len(ZONE_PREFIX) :]
            if not _HEX32.fullmatch(zid):
                return [(K_UNPARSED, None, None, key)]
            atoms.append((K_ZONE, zid, tail, key))
    return atoms


def parse_resources(resources: Any) -> list[Atom]:
    """A policy's ``resources`` map as atoms (the rules of ``Resource.from_api``)."""
    if resources is None:
        return []
    if not isinstance(resources, Mapping):
        raise InvalidToken(
            "a policy's resources must be a JSON object mapping resource keys to '*', "
            f"got {type(resources).__name__}"
        )
    atoms: list[Atom] = []
    for key, value in resources.items():
        if not isinstance(key, str):
            atoms.append((K_UNPARSED, None, None, str(key)))
        elif isinstance(value, Mapping):
            atoms.extend(_nested(key, value))
        else:
            atoms.append(_flat(key, value))
    return atoms


def atom_to_resource(atom: Atom) -> Resource:
    """The model's :class:`~cftokens.Resource` for an atom tuple."""
    kind, ident, account, key = atom
    return _resource(kind, ident, account, key)


def _resource(kind: int, ident: str | None, account: str | None, key: str) -> Resource:
    rk = KINDS[kind]
    if rk is ResourceKind.UNPARSED:
        return Resource.unparsed(key)
    if rk is ResourceKind.R2_BUCKET:
        return Resource.from_api({key: "*"})[0]
    return Resource(kind=rk, id=ident, account_id=account)


def _owned_reading(atom: Atom, owner: str | None) -> tuple[str | None, Atom]:
    """What is wrong with an atom of a token owned by account ``owner`` (None: nothing), and
    the atom as the audit reads it (all zones of every account: all zones of ``owner``)."""
    kind, ident, acct, key = atom
    problem = None
    if kind == K_ALL_ZONES:
        problem = "all zones of every account"
        if owner:
            atom = (K_ALL_ZONES_IN, None, owner, key)
    elif kind == K_ALL_ACCOUNTS:
        problem = "every account"  # CFT-SC-01 proposes its own account
    elif kind == K_ZONE and acct is None:
        problem = "a zone not nested under its own account"
    elif kind == K_USER:
        problem = "a user"
    elif owner and kind in (K_ZONE, K_ALL_ZONES_IN) and acct != owner:
        problem = f"zones of another account ({acct})"
    elif owner and kind == K_ACCOUNT and ident != owner:
        problem = f"another account ({ident})"
    return problem, atom


_OWNED_DETAIL = (
    "Cloudflare refuses resources outside the owning account for account-owned "
    "tokens, and wants its zones nested under the account's key."
)


def _owned_texts(
    atom: Atom, read_as: Atom, problem: str, owner: str | None, owner_name: str | None
) -> tuple[str, str, str]:
    """:func:`_owned_issue`'s evidence after ``policy N``, remediation and key (the same for
    every token of one account writing the same key)."""
    key = atom[3]
    nest = (
        f"{{'{ACCOUNT_PREFIX}{owner}': {{'{ZONE_PREFIX}<zone id>': '*'}}}}"
        if owner
        else "under the owning account's key"
    )
    read = (
        f"; read as {'all zones of' if read_as[0] == K_ALL_ZONES_IN else 'its own'} "
        f"account {owner_name or owner}, the most it could reach"
        if read_as[3] == key and read_as[0] != atom[0]
        else ""
    )
    return (
        f"of an account-owned token names {key!r} ({problem})" + read,
        f"Name zones nested under the account: {nest}.",
        key,
    )


def _at_policy(index: int, texts: tuple[str, str, str]) -> tuple[str, str, str]:
    """:func:`_owned_texts` with the evidence's ``policy N`` (the issue's texts in order)."""
    evidence, remediation, key = texts
    return f"policy {index} {evidence}", remediation, key


_KIND_SCOPE_LIST = [0, 1, 1, 2, 2, 2, -1, 3]


def _atom_numbers(
    inv: Inventory,
    bulk_read: npt.NDArray[np.bool_],
    fast_atoms: npt.NDArray[np.int64],
    numbering: AtomCodes,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
    """Each grant row's resource atom as a number (rows with equal (kind, id, account, key)
    share one), numbered in order of first appearance, and the first row of each number:
    from the codes the bulk path gave its rows (``fast_atoms``, in order: the rows of the
    tokens it read, ``bulk_read``) and, for the token reader's rows, their columns coded by
    the same table."""
    m = inv.m
    a = inv.arrays
    per_tok = a["row_end"] - a["row_start"]
    from_bulk = np.repeat(bulk_read, per_tok) if m else np.zeros(0, dtype=bool)
    raw = np.empty(m, dtype=np.int64)
    raw[from_bulk] = fast_atoms
    slow = np.flatnonzero(~from_bulk).tolist()
    if slow:
        columns = (inv.g_kind, inv.g_rid, inv.g_racct, inv.g_rkey)
        raw[slow] = numbering.of(
            list(zip(*([column[r] for r in slow] for column in columns), strict=True))
        )
    first = np.full(numbering.next, m, dtype=np.int64)
    np.minimum.at(first, raw, np.arange(m, dtype=np.int64))
    used = np.flatnonzero(first < m)
    order = used[np.argsort(first[used], kind="stable")]
    rank = np.zeros(numbering.next, dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[raw], first[order].astype(np.intp)


_clean_keys: dict[str, bool] = {}


_nested_cache: dict[tuple[str, ...], tuple[Atom, ...] | None] = {}


def _key_clean(key: str) -> bool:
    """True when a resource key has no placeholder and no malformed id (no LN-04 issue) and
    holds no credential (the token reader reads it as its label: ``_labelled_record``)."""
    clean = _clean_keys.get(key)
    if clean is None:
        clean = placeholder(key) is None and bad_id_key(key) is None and labelled(key) == key
        if len(_clean_keys) < 500_000:
            _clean_keys[key] = clean
    return clean


_star_atoms: dict[str, tuple[Atom, ...] | None] = {}  # _bulk_atoms(key, "*") by key


_MISSING: Any = object()


def _bulk_atoms(key: Any, value: Any) -> tuple[Atom, ...] | None:
    """The atoms of one ``resources`` entry; None when the token reader must read it (a key
    it would report, a value other than ``"*"`` or nested zone keys)."""
    if type(key) is not str or not _key_clean(key):
        return None
    if type(value) is str:
        if value != "*":
            return None
        atom = _flat(key, value)
        return None if atom[0] == K_UNPARSED else (atom,)
    if type(value) is not dict or not value:
        return None
    inner = list(value.values())
    if inner.count("*") != len(inner):
        return None
    signature = (key, *value)
    cached = _nested_cache.get(signature, _MISSING)  # one hash of the signature, not two
    if cached is not _MISSING:
        return cached  # type: ignore[no-any-return]
    atoms: tuple[Atom, ...] | None = tuple(_nested(key, value))
    if atoms is None or atoms[0][0] == K_UNPARSED or not all(map(_key_clean, signature[1:])):
        atoms = None
    if len(_nested_cache) < 200_000:
        _nested_cache[signature] = atoms
    return atoms


class AtomCodes:
    """Codes of resource atoms, equal atoms (as tuples) one code, across the chunks of one
    parse: the grant rows' atoms are numbered once per distinct atom object of a chunk, not
    row by row (:func:`_atom_numbers` makes them the audit's numbering). Codes are unique,
    not dense (each call reserves one per atom it is given)."""

    __slots__ = ("codes", "next")

    def __init__(self) -> None:
        self.codes: dict[Atom, int] = {}
        self.next = 0

    def of(self, atoms: Sequence[Atom]) -> npt.NDArray[np.int64]:
        """The code of each atom (a new one for an atom not seen before)."""
        n = len(atoms)
        out = np.fromiter(map(self.codes.setdefault, atoms, count(self.next)), np.int64, n)
        self.next += n
        return out


def _atom_readings(
    atoms: list[Atom],
    atom_tok: npt.NDArray[np.int64],
    owned_tok: npt.NDArray[np.bool_],
    owners: list[str | None],
) -> tuple[
    list[Atom],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    list[tuple[Atom, Atom, str, str | None]],
]:
    """A chunk's resource atoms as the audit reads them: the distinct atom objects, each
    atom's index among them, and the faults of account-owned tokens (the atoms' positions, in
    order, and the number of each one's case) with the cases (as written, as read, problem,
    owner: :func:`_owned_reading`).

    The atoms come from caches (the same key, the same object), so they are told apart by
    identity (one array pass), and an account-owned token's atom is read once per distinct
    (atom, owner) pair; readings are shared by equal pairs, as the token reader's are."""
    n_a = len(atoms)
    _, first, inverse = np.unique(
        np.fromiter(map(id, atoms), np.uint64, n_a), return_index=True, return_inverse=True
    )
    distinct = list(map(atoms.__getitem__, first.tolist()))
    at = inverse.reshape(-1).astype(np.int64)
    cases: list[tuple[Atom, Atom, str, str | None]] = []
    owned_at = np.flatnonzero(owned_tok[atom_tok])
    if not len(owned_at):
        return distinct, at, owned_at, owned_at, cases
    _, owner_first, owner_of = np.unique(
        np.fromiter(map(id, owners), np.uint64, len(owners)),
        return_index=True,
        return_inverse=True,
    )
    owner_objects = list(map(owners.__getitem__, owner_first.tolist()))
    n_o = len(owner_objects)
    pairs, pair_of = np.unique(
        at[owned_at] * n_o + owner_of.reshape(-1)[atom_tok[owned_at]], return_inverse=True
    )
    readings: dict[tuple[Atom, str | None], tuple[int, int]] = {}  # (index read as, case)
    read_at: list[int] = []
    case_of: list[int] = []
    for pair in pairs.tolist():
        written, owner = distinct[pair // n_o], owner_objects[pair % n_o]
        found = readings.get((written, owner))
        if found is None:
            problem, read_as = _owned_reading(written, owner)
            if problem is None:
                found = (pair // n_o, -1)
            else:
                found = (len(distinct), len(cases))
                distinct.append(read_as)
                cases.append((written, read_as, problem, owner))
            readings[(written, owner)] = found
        read_at.append(found[0])
        case_of.append(found[1])
    pair_of = pair_of.reshape(-1)
    at[owned_at] = np.array(read_at, dtype=np.int64)[pair_of]
    case = np.array(case_of, dtype=np.int64)[pair_of]
    hit = case >= 0
    return distinct, at, owned_at[hit], case[hit], cases
