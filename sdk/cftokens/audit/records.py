"""Records shared by the audit's modules: the inventory's rows as the API gave them
(:func:`token_records`) or as Terraform declares them (:func:`declared_records`), a token as
the policy engine reads its grants (:func:`timeless_token`), and Audit Logs v2 records as usage
rows (:func:`audit_log_rows`, :func:`log_row`; the row schema is
:class:`cftokens._usage.UsageRow`). :func:`unicode_input` makes an audit's input Unicode;
:func:`without_credentials` takes credentials out of its names, :func:`labelled_objects` out
of its token objects as the export and fixes show them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from operator import attrgetter
from types import NoneType
from typing import TYPE_CHECKING, Any, cast

import attrs

from .._doc import expect
from .._text import unicode_text, unicode_tree, utf8_encodable
from .._usage import UsageRow
from ..errors import labelled_tree, redacted_texts, unredacted_json
from ..model.directory import Account
from ..model.terraform import DeclaredToken
from ..model.token import Token
from ._inventory import TokenRecord, payload_values

if TYPE_CHECKING:
    from ..client.models import AuditLogRecord

__all__ = [
    "NAME_REDACTED_KEY",
    "audit_log_rows",
    "declared_records",
    "labelled_objects",
    "log_row",
    "repaired_input",
    "timeless_token",
    "token_records",
    "unicode_input",
    "without_credentials",
]


def token_records(
    tokens: Iterable[Mapping[str, Any]],
    account_tokens: Mapping[str, Iterable[Mapping[str, Any]]]
    | Iterable[tuple[str, Iterable[Mapping[str, Any]]]]
    | None,
    user: Mapping[str, Any] | None,
    accounts: Sequence[Account],
) -> list[TokenRecord]:
    """One record per token: the user's own (owned by ``user``) and each account's
    (``account_tokens``: the tokens by owning account id, as a mapping or its items)."""
    if isinstance(account_tokens, Mapping):
        account_tokens = account_tokens.items()
    user_id = str(user.get("id")) if user and user.get("id") else None
    user_name = (str(user.get("email") or user_id) if user else None) or None
    names = {a.id: a.name for a in accounts}
    # map: no Python frame per token around the constructor's own
    records = list(map(TokenRecord, tokens, repeat("user"), repeat(user_id), repeat(user_name)))
    for account_id, items in account_tokens or ():
        name = names.get(account_id, account_id)
        records.extend(map(TokenRecord, items, repeat("account"), repeat(account_id), repeat(name)))
    return records


def unicode_input(
    records: Sequence[TokenRecord],
    user: Mapping[str, Any] | None,
    gaps: Sequence[Mapping[str, Any]],
    clean: bool | None = None,
) -> tuple[list[TokenRecord], Mapping[str, Any] | None, list[Mapping[str, Any]]]:
    """An audit's records, user and gaps with every lone UTF-16 surrogate replaced by U+FFFD.

    JSON's ``"\\ud800"`` escape decodes to one, and no report, CSV, DataFrame (pyarrow
    strings), chart or notebook can encode it. Clean input (the rule) is proved clean by one
    C-speed check and returned as it is. ``clean``: the check's answer when the caller already
    has it (:func:`~cftokens._text.plain_copy`: True proven clean, False holds a surrogate)."""
    if clean is None:
        columns = [list(map(attrgetter(f), records)) for f in ("payload", "owner_id", "owner_name")]
        clean = utf8_encodable([columns, user, list(gaps)])
    if clean:
        return list(records), user, list(gaps)
    out: list[TokenRecord] = []
    for record in records:
        payload = unicode_tree(record.payload)  # any depth, any cycle: nothing left unrepaired
        owner_id, owner_name = (
            unicode_text(value) if isinstance(value, str) else value
            for value in (record.owner_id, record.owner_name)
        )
        out.append(TokenRecord(payload, record.kind, owner_id, owner_name))
    return out, unicode_tree(dict(user)) if user else user, unicode_tree(list(gaps))


#: ``from_records``' input as the audit copies it: tokens, (account id, tokens) pairs, the
#: user and the collection gaps.
CopiedInput = tuple[list[object], list[tuple[object, list[object]]], object, list[object]]


def repaired_input(value: CopiedInput) -> CopiedInput | None:
    """:func:`~cftokens._text.plain_copy`'s repair of ``from_records``' copied input
    ``(tokens, owned, user, gaps)`` (``owned``: ``(account id, tokens)`` pairs) holding a lone
    surrogate: each token msgspec cannot write (read in chunks: one holding a surrogate)
    through :func:`unicode_tree`, the account ids through :func:`unicode_text`, the user and
    the gaps through :func:`unicode_tree`, which is what :func:`unicode_input` makes of the
    records, user and gaps (tokens it leaves are equal to what it would make of them). None
    for a user whose id or email is not text (its owner name would be made from the repaired
    value, not from the value given); the caller then audits the input as given."""
    import msgspec  # here: import cftokens stays light

    tokens, owned, user, gaps = value
    if user is not None and (
        type(user) is not dict or not all(type(user.get(k)) in (str, NoneType) for k in _WHO)
    ):
        return None
    encode = msgspec.msgpack.Encoder().encode

    def fixed(items: list[object]) -> list[object]:
        out = list(items)
        for start in range(0, len(out), _CHUNK):
            try:
                encode(out[start : start + _CHUNK])
            except Exception:  # a surrogate (or huge integers…) in the chunk: token by token
                for i in range(start, min(start + _CHUNK, len(out))):
                    try:
                        encode(out[i])
                    except Exception:
                        out[i] = unicode_tree(out[i])
        return out

    return (
        fixed(tokens),
        [(unicode_text(k) if type(k) is str else k, fixed(items)) for k, items in owned],
        unicode_tree(user),
        unicode_tree(gaps),
    )


_WHO = ("id", "email")  # the user's fields token_records makes owner texts of
_CHUNK = 256  # tokens encoded at once by repaired_input (a chunk that fails: one by one)


#: Token dict key: True when the token's name held a credential, shown as ``[redacted]``
#: (CFT-ID-04 reports it; kept in exports, so a re-read audit reports it too).
NAME_REDACTED_KEY = "cftokens_name_redacted"


def without_credentials(
    records: list[TokenRecord], accounts: Sequence[Account], names: Sequence[object] | None = None
) -> tuple[list[TokenRecord], list[Account]]:
    """The records and accounts with every credential-shaped text in a token's or an
    account's name shown as ``[redacted]`` (:func:`cftokens.errors.redact`); a token whose
    name held one is marked with :data:`NAME_REDACTED_KEY` (CFT-ID-04 reports it).

    Anyone who can list tokens reads their names, so a secret pasted into one is exposed; it
    must not be exposed again by every report, export and fix of the audit. A redacted record
    is a copy (the caller's dicts are left as they were); clean input (the rule) is returned
    as it is, found clean by a few C-level scans. ``names``: the records' ``name`` values,
    when the caller has read them (:func:`~cftokens.audit._inventory.payload_columns`)."""
    if names is None:
        names = payload_values(records, "name")  # as the audit reads the name it shows
    at: Sequence[int] = range(len(names))
    try:  # every name a str (the rule): no pass to check it first; another type raises
        found = redacted_texts(cast("Sequence[str]", names))
    except TypeError:
        texts = [(i, name) for i, name in enumerate(names) if isinstance(name, str)]
        at = [i for i, _ in texts]
        found = redacted_texts([name for _, name in texts])
    owners = sorted(o for o in set(map(attrgetter("owner_name"), records)) if type(o) is str)
    owner_found = {owners[i]: text for i, text in redacted_texts(owners).items()}
    account_found = redacted_texts([a.name for a in accounts])
    if not found and not owner_found and not account_found:
        return records, list(accounts)
    out = list(records)
    for j, name in found.items():
        record = out[at[j]]
        payload = {**record.payload, "name": name, NAME_REDACTED_KEY: True}
        out[at[j]] = TokenRecord(payload, record.kind, record.owner_id, record.owner_name)
    if owner_found:
        for i, record in enumerate(out):
            if record.owner_name in owner_found:
                out[i] = TokenRecord(
                    record.payload, record.kind, record.owner_id, owner_found[record.owner_name]
                )
    renamed = [
        attrs.evolve(a, name=account_found[i]) if i in account_found else a
        for i, a in enumerate(accounts)
    ]
    return out, renamed


_PROOF_CHUNK = 512  # token objects proven free of credentials at once (labelled_objects)


def labelled_objects(records: Sequence[TokenRecord]) -> dict[int, TokenRecord]:
    """The records (by position) whose token object holds a credential in a text other than
    its name (which :func:`without_credentials` redacts), as the export shows them: a
    policy's id or effect, a condition, a date, a resource's key or value, a group's fields,
    an unknown field, a key of any object, nested ones too, str subclasses included. Each is
    a copy with every such text as its label (:func:`cftokens.errors.labelled_tree`: distinct
    credentials stay distinct, so a policy id still tells policies apart).

    Clean objects (the rule) are proven so by :func:`~cftokens.errors.unredacted_json` of their
    JSON text, :data:`_PROOF_CHUNK` at a time, then one by one in a chunk it does not prove;
    only an object not proven is walked."""
    out = {}
    for start in range(0, len(records), _PROOF_CHUNK):
        chunk = records[start : start + _PROOF_CHUNK]
        if _proven_clean([r.payload for r in chunk]):
            continue
        for i, record in enumerate(chunk, start):
            if len(chunk) > 1 and _proven_clean([record.payload]):
                continue
            payload = record.payload
            if not isinstance(payload, Mapping):
                continue
            given = list(payload.items())
            items: list[tuple[Any, Any]] = [
                (labelled_tree(k, 0), v if k == "name" else labelled_tree(v, 0)) for k, v in given
            ]
            if any(a[0] is not b[0] or a[1] is not b[1] for a, b in zip(items, given, strict=True)):
                out[i] = TokenRecord(dict(items), record.kind, record.owner_id, record.owner_name)
    return out


def _proven_clean(payloads: list[Any]) -> bool:
    """Whether no text of ``payloads`` can hold a credential (False when not proven)."""
    import orjson

    try:
        raw = orjson.dumps(payloads)
    except TypeError:  # (orjson.JSONEncodeError: a value or key JSON cannot write, too deep)
        return False
    return unredacted_json(raw)


def declared_records(declared: Iterable[DeclaredToken]) -> list[TokenRecord]:
    """One record per token a Terraform input declares (an account token's owner by id only)."""
    return [TokenRecord(d.payload, d.kind, d.owner_id, None) for d in declared]


def timeless_token(payload: Mapping[str, Any]) -> Token:
    """The token as the engine sees its policies, ignoring status and validity window (the
    frames list access of tokens that are not live too; ``live`` says whether it works now)."""
    clean = {
        k: v
        for k, v in payload.items()
        if k not in ("status", "not_before", "expires_on", "condition")
    }
    return Token.from_api(clean)


def audit_log_rows(records: Iterable[Mapping[str, Any]]) -> list[UsageRow]:
    """Cloudflare Audit Logs v2 records (``{"action", "actor", "raw", …}``) as usage rows; a
    record or part of one that is not an object is :class:`~cftokens.InvalidInput` naming it."""
    rows: list[UsageRow] = []
    for i, rec in enumerate(records, start=1):
        expect(rec, Mapping, f"usage[{i}]", "an Audit Logs v2 record (an object)")
        actor, raw, action, zone, account = (
            expect(rec.get(key) or {}, Mapping, f"usage[{i}].{key}", "an object")
            for key in ("actor", "raw", "action", "zone", "account")
        )
        context = actor.get("context")
        rows.append(
            {
                "time": action.get("time"),
                "token_id": actor.get("token_id"),
                "method": raw.get("method"),
                "path": raw.get("uri"),
                "operation_id": None,
                "status": raw.get("status_code"),
                "ip": actor.get("ip_address"),
                "user_agent": raw.get("user_agent"),
                "auth": context if context in ("api_key", "api_token") else "other",
                "zone_id": zone.get("id"),
                "account_id": account.get("id"),
                "actor": actor.get("email") or actor.get("id"),
            }
        )
    return rows


def log_row(record: Mapping[str, Any] | AuditLogRecord) -> UsageRow:
    """An Audit Logs v2 record (the client's flattened model or the raw dict) as a usage row."""
    if isinstance(record, Mapping):
        return audit_log_rows([record])[0]
    context = getattr(record, "actor_context", None)
    when = getattr(record, "time", None)
    return {
        "time": when.isoformat() if when else None,
        "token_id": getattr(record, "actor_token_id", None),
        "method": getattr(record, "raw_method", None),
        "path": getattr(record, "raw_uri", None),
        "operation_id": None,
        "status": getattr(record, "raw_status_code", None),
        "ip": getattr(record, "actor_ip", None),
        "user_agent": getattr(record, "raw_user_agent", None),
        "auth": context if context in ("api_key", "api_token") else "other",
        "zone_id": getattr(record, "zone_id", None),
        "account_id": getattr(record, "account_id", None),
        "actor": getattr(record, "actor_email", None) or getattr(record, "actor_id", None),
    }
