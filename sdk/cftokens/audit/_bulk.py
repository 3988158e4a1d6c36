"""The bulk path: one chunk of well-formed tokens read column by column into an
:class:`~cftokens.audit._columns.Inventory`.

Most tokens are written exactly as the API returns them. Their fields are pulled out of the
dicts with C-level ``map``/``chain`` calls (no Python code per token or per policy), checked in
bulk, and their grant rows built with numpy index arithmetic. A token with anything the lenient
reader (:mod:`._lenient`) would report, repair or reject (an LN-04 slip other than an
account-owned token's resource, a malformed field, an unknown group, a duplicate id) is left to
that reader, so both paths give the same rows, issues and gaps
(tests/audit/test_bulk_inventory.py compares them). The tokens are read in chunks, each pass
over a chunk's objects finding them in the CPU's caches (see
:func:`cftokens.audit._inventory._read_bulk`, which joins them).
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain, compress, repeat
from operator import attrgetter, eq, is_, is_not, itemgetter, ne, or_
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import labelled_texts
from ..model.terraform import UNKNOWN_KEY
from ._arrays import _any_by, _is_none, _is_true, _not_of_type, _of_type, _only, _starts
from ._atoms import (
    _HEX32,
    _MISSING,
    _OWNED_DETAIL,
    K_ACCOUNT,
    KIND_SCOPE,
    Atom,
    AtomCodes,
    InvalidToken,
    _at_policy,
    _atom_readings,
    _bulk_atoms,
    _clean_keys,
    _nested_cache,
    _owned_texts,
    _star_atoms,
)
from ._cidr import IPV4_CIDR
from ._columns import (
    DATE_KEYS,
    S_ZONE,
    STATUSES,
    GroupTable,
    Inventory,
    TokenRecord,
)
from ._definition import MEDIUM, DefinitionIssues
from ._labels import _label
from ._lenient import _condition, _norm_name, _token_id

_HEX_DIGITS = b"0123456789abcdef"


def _lower_hex(text: str) -> bool:
    """Whether ``text`` is lower-case hex digits only (``[0-9a-f]*``): its ASCII bytes with
    the digits deleted are empty (one C-level pass; the pattern's character class took ~20
    times as long over 100,000 ids joined)."""
    return text.isascii() and not text.encode("ascii").translate(None, _HEX_DIGITS)


_NONE = type(None)


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
            if set(map(len, ids)) == {32} and _lower_hex("".join(ids)):
                return np.zeros(n, dtype=bool)  # every id checked by one scan
            return np.fromiter(map(is_, map(_HEX32.fullmatch, ids), repeat(None)), bool, n)
    counts.update(x for x in ids if isinstance(x, str))  # a str subclass is a copy too
    return np.array(
        [type(x) is not str or counts[x] != 1 or _HEX32.fullmatch(x) is None for x in ids],
        dtype=bool,
    )


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


def _bulk_condition(
    cond: Any, payload: Mapping[str, Any]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """:func:`_condition` for the common shape (:func:`_ipv4_allowlist`); anything else goes
    through it."""
    allow = _ipv4_allowlist(cond)
    if allow is not None:
        return tuple(allow), ()
    return _condition(payload)


# Texts of IPv4 ranges joined by newlines, each one matching IPV4_CIDR (which matches no
# newline): proves every range of a chunk's conditions at once
_IPV4_LINES = re.compile(rf"(?:(?:{IPV4_CIDR.pattern})\n)*(?:{IPV4_CIDR.pattern})")
_ONE = {1}


def _bulk_conditions(
    conditions: list[Any], payloads: list[dict[str, Any]], bad: npt.NDArray[np.bool_]
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """:func:`_bulk_condition` of each token's condition (allowed and denied ranges; ``bad``
    set where the token reader must read the token). When every condition given is empty or
    of the common shape (the rule), they are proven so by a few C-level passes over them
    all and one match of their ranges joined by newlines; otherwise token by token. The
    ranges are tuples (a new list per token, most of them empty, cost 5 times as much)."""
    nc = len(conditions)
    ip_in: list[tuple[str, ...]] = [()] * nc
    ip_out: list[tuple[str, ...]] = [()] * nc
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
                        for i, allow in zip(at, map(tuple, allows), strict=True):
                            ip_in[i] = allow
                        left = []
    for i in left:
        try:
            ip_in[i], ip_out[i] = _bulk_condition(conditions[i], payloads[i])
        except InvalidToken:
            bad[i] = True
    return ip_in, ip_out


def _fields(
    items: list[dict[Any, Any]], keys: tuple[Any, ...], every: tuple[Any, ...] | None = None
) -> list[list[Any]]:
    """``item.get(key)`` of every item (plain dicts), one list per key, in one C-level pass
    through ``itemgetter``: over the items themselves when every one has every key (the API's
    objects), else over each item merged into ``{key: None, …}`` (``defaults | item``: a
    small new dict, read in order, which costs less than a pass of ``dict.get`` per key over
    items scattered in memory).

    ``every``: the keys of ``keys`` every item should have (a token's id, name, status, dates
    of issue and change, policies: the API writes them always), read in one pass when they
    are all there, and each other key by a pass of ``dict.get`` (the token fields of an
    inventory: a third less than merging every token); when one is missing, as without it."""
    if not items or len(keys) < 2:  # (itemgetter of one key gives the value, not a tuple)
        return [list(map(dict.get, items, repeat(key))) for key in keys]
    if every is not None and len(every) >= 2 and len(every) < len(keys):
        try:
            rows = list(map(itemgetter(*every), items))
        except KeyError:  # one missing somewhere: read as without ``every``
            pass
        else:
            read = dict(zip(every, map(list, zip(*rows, strict=True)), strict=True))
            return [
                read[key] if key in read else list(map(dict.get, items, repeat(key)))
                for key in keys
            ]
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
    odd = np.flatnonzero(~usual).tolist()  # nested zone maps, anything odd
    if odd:
        read = _nested_atoms([keys[i] for i in odd], [values[i] for i in odd])
        for i, atoms in zip(odd, read, strict=True):
            per_entry[i] = atoms
    if any(map(is_, per_entry, repeat(_MISSING))):  # keys not read before (by identity: no ==)
        for i in [i for i, a in enumerate(per_entry) if a is _MISSING]:
            found = _star_atoms.get(keys[i], _MISSING)
            if found is _MISSING:
                found = _bulk_atoms(keys[i], "*")
                if len(_star_atoms) < 500_000:
                    _star_atoms[keys[i]] = found
            per_entry[i] = found
    return per_entry


_STAR = {"*"}


def _nested_atoms(keys: list[Any], values: list[Any]) -> list[tuple[Atom, ...] | None]:
    """:func:`_bulk_atoms` of each entry that is not the usual one. When every key is exact
    text and every value a non-empty dict whose values are all the exact text ``"*"`` (an
    account's zones nested under its key: the rule among them), each entry is read from the
    caches of what was read before (the key's cleanliness, the key and its nested keys'
    atoms) by C-level passes over them all; an entry they do not hold, and any other entry,
    by :func:`_bulk_atoms` itself."""
    n = len(keys)
    if not (_only(keys, str) and _only(values, dict) and 0 not in set(map(len, values))):
        return list(map(_bulk_atoms, keys, values))
    inner = list(chain.from_iterable(map(dict.values, values)))
    if not (_only(inner, str) and set(inner) == _STAR):
        return list(map(_bulk_atoms, keys, values))
    signatures = map(tuple, map(chain, zip(keys), values))  # (key, *nested keys)
    found = list(map(_nested_cache.get, signatures, repeat(_MISSING)))
    known = np.fromiter(map(is_, map(_clean_keys.get, keys), repeat(True)), bool, n)
    known &= np.fromiter(map(is_not, found, repeat(_MISSING)), bool, n)
    for i in np.flatnonzero(~known).tolist():  # a key unclean or not read before
        found[i] = _bulk_atoms(keys[i], values[i])
    return found


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


#: The fields the API writes in every token object (:func:`_fields`' ``every``)
_ALWAYS_WRITTEN = ("id", "status", "policies", "name", "issued_on", "modified_on")

#: :func:`_owned_issues`' texts by (case, owner's name, policy): the chunks of an inventory
#: repeat the same few hundred (each chunk made its own: ~7,000 at 100,000 tokens)
_owned_said: dict[tuple[Any, ...], tuple[str, str, str]] = {}


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
        key = (*cases[c], owner_names[int(name_first[o])], p)
        texts = _owned_said.get(key)
        if texts is None:
            written, read_as, problem, owner, name, _ = key
            texts = _at_policy(p, _owned_texts(written, read_as, problem, owner, name))
            if len(_owned_said) < 100_000:
                _owned_said[key] = texts
        said.append(texts)
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
        payloads,
        ("id", "status", "policies", "condition", "name", UNKNOWN_KEY, *DATE_KEYS),
        _ALWAYS_WRITTEN,
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
