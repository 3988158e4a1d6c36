"""Least privilege from observed usage: what a token actually called, as intents.

Usage comes from any of:

- the sandbox journal (``sb.journal``): columns ``token_id``, ``method``, ``path``, ``status``,
  ``time``;
- Cloudflare Audit Logs v2, as the client returns them
  (``client.account(a).audit_logs.list(since=…)``: :class:`~cftokens.AuditLogRecord` objects),
  as raw v2 objects (``actor.token_id``, ``raw.method``, ``raw.uri``, ``raw.status_code``,
  ``action.time``), or as a DataFrame of the flattened fields (``actor_token_id``,
  ``raw_method``, ``raw_uri``, ``raw_status_code``, ``time``);
- any iterable of mappings with ``method`` and ``path`` (and optionally ``token_id``,
  ``status``, ``time``).

Requests refused for authentication, permission or rate (401, 403, 429) are left out unless
``include_denied=True``: the advice covers what the token did, not what it was refused.
Requests to the same operation on the same zone or account count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Unpack

from attrs import frozen

from .._doc import http_status
from ..catalog import operations
from ..catalog.operations import normalise_path
from ..errors import InvalidInput
from ..model._util import aware, parse_datetime
from .core import Advice, AdviceOptions, least_privilege

if TYPE_CHECKING:
    from ..audit.usage import UsageSource

__all__ = ["Usage", "least_privilege_from_usage", "usage_requests"]

DENIED_STATUSES = frozenset({401, 403, 429})


@frozen(kw_only=True)
class Usage:
    """The observed requests of one token, reduced to distinct intents.

    ``intents`` are ``"METHOD /path"`` strings (one per operation and zone or account);
    ``rows`` how many usage rows matched; ``first``/``last`` their time span (None when the
    rows carry no times); ``denied`` how many refused requests were left out.
    """

    token_id: str | None
    intents: tuple[str, ...]
    rows: int
    denied: int
    first: datetime | None = None
    last: datetime | None = None

    def describe(self) -> str:
        """One sentence for the advice's notes."""
        who = f"token {self.token_id}" if self.token_id else "the rows given"
        span = ""
        if self.first is not None and self.last is not None:
            span = f" between {self.first:%Y-%m-%d %H:%M} and {self.last:%Y-%m-%d %H:%M} UTC"
        left = f"; {self.denied} refused request(s) left out" if self.denied else ""
        return (
            f"from usage: {self.rows} request(s) of {who}{span}, "
            f"{len(self.intents)} distinct intent(s){left}"
        )


_FLAT = {
    "token_id": ("token_id", "actor_token_id", "actor.token_id"),
    "method": ("method", "raw_method", "raw.method"),
    "path": ("path", "raw_uri", "raw.uri", "uri"),
    "status": ("status", "raw_status_code", "raw.status_code", "status_code"),
    "time": ("time", "action_time", "action.time"),
}


def _lookup(row: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if "." in name:
            head, tail = name.split(".", 1)
            section = row.get(head)
            if isinstance(section, Mapping) and tail in section:
                return section[tail]
        elif name in row:
            return row[name]
    return None


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if type(value) in (str, int):  # the usual values, never missing (pandas would say so too)
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _frame_columns(columns: Iterable[Any]) -> dict[str, str | None] | None:
    """For a frame with these columns: the column each of :data:`_FLAT`'s keys reads in every
    row, as :func:`_lookup` picks it (None: in no column); None when a key may be read from
    inside a column's values (a dotted name met first), which can differ row by row."""
    present = {c for c in columns if isinstance(c, str)}
    picked: dict[str, str | None] = {}
    for key, names in _FLAT.items():
        picked[key] = None
        for name in names:
            if "." in name:
                if name.split(".", 1)[0] in present:
                    return None
            elif name in present:
                picked[key] = name
                break
    return picked


def _frame_rows(data: Any) -> Iterator[dict[str, Any]]:
    """A frame's rows as ``to_dict("records")`` gives them, reduced to :data:`_FLAT`'s keys,
    converting only the columns those keys read (the sandbox journal has 21: converting every
    value of a row cost three times as much)."""
    picked = _frame_columns(data.columns)
    if picked is None or getattr(data.columns, "has_duplicates", True):  # not pandas's: as was
        yield from _rows(data.to_dict("records"))
        return
    # each column read once (not row by row), its values boxed as to_dict("records") does
    values = {
        key: [None] * len(data) if column is None else _column(data[column])
        for key, column in picked.items()
    }
    keys = list(values)
    for row in zip(*values.values(), strict=True):
        yield dict(zip(keys, row, strict=True))


def _column(series: Any) -> list[Any]:
    """A frame column's values as ``to_dict("records")`` gives them: Python scalars, and for
    object and extension columns pandas's boxing (NA as None, numpy scalars as Python's)."""
    import numpy as np
    import pandas as pd

    values: list[Any] = series.tolist()
    if series.dtype != np.dtype(object) and not isinstance(
        series.dtype, pd.api.extensions.ExtensionDtype
    ):
        return values

    def boxed(value: Any) -> Any:  # pandas's maybe_box_native
        if value is pd.NA:
            return None
        if isinstance(value, np.datetime64):
            return pd.Timestamp(value)
        if isinstance(value, np.timedelta64):
            return pd.Timedelta(value)
        if isinstance(value, np.bool_ | np.integer | np.floating):
            return value.item()
        return value

    return [v if type(v) is str else boxed(v) for v in values]


def _rows(data: Any) -> Iterator[dict[str, Any]]:
    """Normalise usage rows to dicts with token_id, method, path, status, time."""
    records: Iterable[Any]
    if hasattr(data, "to_dict") and hasattr(data, "columns"):
        yield from _frame_rows(data)
        return
    elif isinstance(data, Mapping):
        raise InvalidInput(
            "usage must be rows (a DataFrame, a list of audit-log records or of mappings), not "
            "one mapping"
        )
    else:
        records = data
    for record in records:
        if hasattr(record, "raw_method") and hasattr(record, "actor_token_id"):
            row: Mapping[str, Any] = {
                "token_id": record.actor_token_id,
                "method": record.raw_method,
                "path": record.raw_uri,
                "status": record.raw_status_code,
                "time": record.time,
            }
        elif isinstance(record, Mapping):
            row = record
        else:
            raise InvalidInput(
                "each usage row must be a mapping or an audit-log record, got "
                f"{type(record).__name__}"
            )
        yield {key: _lookup(row, names) for key, names in _FLAT.items()}


def usage_requests(
    rows: UsageSource,
    *,
    token_id: str | None = None,
    include_denied: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Usage:
    """The distinct intents in usage rows (see the module docstring for the row shapes).

    Without ``token_id`` the rows must all belong to one token (or carry no token id).
    """
    since = None if since is None else aware(since, "since")
    until = None if until is None else aware(until, "until")
    seen: dict[tuple[Any, ...], str] = {}
    tokens: set[str] = set()
    matched = denied = 0
    first: datetime | None = None
    last: datetime | None = None
    # rows repeat a few requests: each distinct method and path looked up once
    keys: dict[tuple[str, str], tuple[tuple[Any, ...], str]] = {}
    for number, row in enumerate(_rows(rows), start=1):
        row_token = None if _missing(row["token_id"]) else str(row["token_id"])
        if token_id is not None and row_token != token_id:
            continue
        if row_token is not None:
            tokens.add(row_token)
        when = row["time"]
        moment: datetime | None = None
        if not _missing(when):
            moment = when if isinstance(when, datetime) else parse_datetime(when, "a row's time")
            if moment is not None and hasattr(moment, "to_pydatetime"):
                moment = moment.to_pydatetime()
        if moment is not None and (
            (since is not None and moment < since) or (until is not None and moment >= until)
        ):
            continue
        method, path = row["method"], row["path"]
        if _missing(method) or _missing(path):
            raise InvalidInput(
                "a usage row has no method or path; rows need method and path (journal) or "
                "raw.method and raw.uri (Audit Logs v2)"
            )
        status = (
            None
            if _missing(row["status"])
            else http_status(row["status"], f"usage[{number}].status")
        )
        if status in DENIED_STATUSES and not include_denied:
            denied += 1
            continue
        matched += 1
        if moment is not None:
            first = moment if first is None or moment < first else first
            last = moment if last is None or moment > last else last
        request = (str(method), str(path))
        known = keys.get(request)
        if known is None:
            method = request[0].upper()
            clean = normalise_path(request[1])
            found = operations.find(method, clean)
            key: tuple[Any, ...] = (
                (method, found.operation.path, found.zone_id, found.account_id)
                if found is not None
                else (method, clean)
            )
            known = keys[request] = (key, f"{method} {clean}")
        seen.setdefault(*known)
    if token_id is None and len(tokens) > 1:
        listed = ", ".join(sorted(tokens)[:5])
        raise InvalidInput(
            f"the usage rows belong to {len(tokens)} tokens ({listed}…); pass token_id= to "
            "choose one"
        )
    return Usage(
        token_id=token_id if token_id is not None else (next(iter(tokens)) if tokens else None),
        intents=tuple(seen.values()),
        rows=matched,
        denied=denied,
        first=first,
        last=last,
    )


def least_privilege_from_usage(
    rows: UsageSource,
    *,
    token_id: str | None = None,
    include_denied: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    **options: Unpack[AdviceOptions],
) -> Advice:
    """The smallest token that does what a token was seen doing.

    ``rows``: the sandbox journal, Audit Logs v2 records or mappings (module docstring).
    ``token_id`` picks one token's rows; ``since``/``until`` a time window. Other keyword
    arguments go to :func:`~cftokens.least_privilege` (``directory=`` is worth passing: it
    lets account-scoped groups serve zone paths, and names in the review).
    """
    usage = usage_requests(
        rows, token_id=token_id, include_denied=include_denied, since=since, until=until
    )
    if not usage.intents:
        who = f"token {token_id}" if token_id else "these rows"
        refused = (
            f" ({usage.denied} were refused; include_denied=True counts them)"
            if usage.denied
            else ""
        )
        raise InvalidInput(
            f"no usable requests of {who} in the usage rows{refused}; check the token id and "
            "the time window"
        )
    advice = least_privilege(list(usage.intents), **options)
    return advice.with_note(usage.describe(), first=True)
