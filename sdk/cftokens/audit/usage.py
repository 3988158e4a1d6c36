"""Observed usage: one normalised table from the sandbox journal or Cloudflare Audit Logs v2.

The usage table (:func:`normalise_usage`) has one row per request, with these columns:

=============  =============================================================================
time           when (datetime64[ns, UTC])
token_id       the API token that authenticated it (NA for the Global API Key)
method         HTTP method (category)
path           request path relative to ``/client/v4``
operation_id   the catalogue operation it matched (NA when none matched)
status         HTTP status (Int64)
ip             client IP
user_agent     the client's User-Agent
auth           ``api_token``, ``api_key`` or ``other`` (category)
zone_id        the zone the path names (or the audit log's zone)
account_id     the account the path names (or the zone's account, or the audit log's account)
actor          who acted, when known (an email for audit-log rows)
=============  =============================================================================

Usage rules (CFT-SC-03, SC-05, SC-06, ID-01, ID-02 and the roll dates of LC-03) read it through
:class:`UsageIndex`.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from .._doc import http_status
from .._text import unicode_tree, utf8_encodable
from .._usage import USAGE_COLUMNS
from ..catalog import operations, permission_groups
from ..catalog.operations import Operation, OperationMatch, Target
from ..errors import InvalidInput, describe, shown
from ..model.token import Token
from ..policy import evaluate
from ._compat import STR
from ._context import Ctx, DirectoryIndex
from ._inventory import K_ALL_ZONES, K_ALL_ZONES_IN, K_ZONE, L_READ, S_ACCOUNT, S_USER, S_ZONE
from .records import audit_log_rows, log_row, timeless_token

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    from ..client.models import AuditLogRecord

    UsageSource: TypeAlias = "pd.DataFrame | Iterable[Mapping[str, Any]] | Iterable[AuditLogRecord]"
    """A usage source: the sandbox journal or a usage table (a DataFrame), Audit Logs v2
    records (dicts or the client's models), a :class:`~cftokens.Recorder`, or flat row dicts."""

__all__ = ["USAGE_COLUMNS", "UsageIndex", "normalise_usage"]

_ALIASES = {
    "time": ("time", "timestamp", "at", "when", "ts"),
    "token_id": ("token_id", "token", "tokenid"),
    "method": ("method", "http_method"),
    "path": ("path", "uri", "url", "route"),
    "status": ("status", "status_code", "code"),
    "ip": ("ip", "client_ip", "ip_address", "remote_ip"),
    "user_agent": ("user_agent", "ua", "useragent"),
    "auth": ("auth", "auth_kind", "credential", "auth_type"),
    "zone_id": ("zone_id",),
    "account_id": ("account_id",),
    "actor": ("actor", "email", "actor_email"),
    "operation_id": ("operation_id",),
}
_ROLL_OPS = {
    ("PUT", "/user/tokens/{token_id}/value"),
    ("PUT", "/accounts/{account_id}/tokens/{token_id}/value"),
}


def _match(method: str, path: str, cache: dict[tuple[str, str], OperationMatch | None]) -> Any:
    key = (method, path)
    if key not in cache:
        try:
            cache[key] = operations.find(method, path)
        except Exception:
            cache[key] = None
    return cache[key]


def _auth(value: Any) -> str:
    text = str(value or "").lower()
    if text in ("api_key", "global_api_key", "key", "x-auth-key"):
        return "api_key"
    if text in ("api_token", "token", "bearer", ""):
        return "api_token"
    return "other"


def normalise_usage(source: UsageSource, directory: DirectoryIndex | None = None) -> pd.DataFrame:
    """The usage table from a journal DataFrame, Audit Logs v2 records, or rows of dicts.

    Accepts: a DataFrame (the sandbox journal or an already normalised table; common column
    names such as ``timestamp``, ``status_code``, ``client_ip`` are understood), a list of
    Cloudflare Audit Logs v2 records (``{"action", "actor", "raw", …}``, or the client's
    :class:`~cftokens.client.models.AuditLogRecord` models), a :class:`~cftokens.Recorder`
    (the requests a client sent), or a list of flat dicts. Rows
    whose path matches no operation keep ``operation_id`` NA.
    """
    import pandas as pd

    if source is None:
        raise InvalidInput("usage is None; pass a DataFrame or a list of records")
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        records: list[Any] = list(source)
        if not utf8_encodable(records):  # a lone surrogate (JSON's "\\ud800") becomes U+FFFD
            records = [unicode_tree(dict(r)) if isinstance(r, Mapping) else r for r in records]
        if records and not isinstance(records[0], Mapping) and hasattr(records[0], "raw_uri"):
            # the client's AuditLogRecord models (client.account(id).audit_logs.list())
            records = [log_row(r) for r in records]
        if (
            records
            and isinstance(records[0], Mapping)
            and any(isinstance(records[0].get(k), Mapping) for k in ("actor", "raw", "action"))
        ):
            frame = pd.DataFrame(audit_log_rows(records))
        else:
            for rec in records:
                if not isinstance(rec, Mapping):
                    raise InvalidInput(
                        "usage records must be objects (journal rows or Audit Logs v2 records), "
                        f"got {type(rec).__name__}"
                    )
            frame = pd.DataFrame(records)
    lower = {str(c).lower(): c for c in frame.columns}
    data: dict[str, Any] = {}
    for column, aliases in _ALIASES.items():
        found = next((lower[a] for a in aliases if a in lower), None)
        data[column] = frame[found].tolist() if found is not None else [None] * len(frame)
    if isinstance(source, pd.DataFrame) and not _texts_encodable(data):
        data = {column: [unicode_tree(v) for v in values] for column, values in data.items()}
    _check_usage(data)
    if len(frame) and all(v is None for v in data["path"]):
        raise InvalidInput(
            "usage rows need a request path (a 'path' or 'uri' column); got columns "
            + ", ".join(map(str, frame.columns))
        )
    cache: dict[tuple[str, str], OperationMatch | None] = {}
    op_ids: list[Any] = []
    zones: list[Any] = []
    accounts: list[Any] = []
    methods: list[Any] = []
    paths: list[Any] = []
    zone_account = directory.zone_account if directory is not None else {}
    for method, path, zone, account, op_id in zip(
        data["method"],
        data["path"],
        data["zone_id"],
        data["account_id"],
        data["operation_id"],
        strict=True,
    ):
        method = str(method).upper() if method else None
        methods.append(method)
        match = _match(method, str(path), cache) if method and path else None
        paths.append(match.path if match is not None else path)
        op_ids.append(op_id if op_id else (match.operation.operation_id if match else None))
        zone = zone if _present(zone) else (match.zone_id if match else None)
        account = account if _present(account) else (match.account_id if match else None)
        if account is None and zone is not None:
            account = zone_account.get(zone)
        zones.append(zone)
        accounts.append(account)
    out = pd.DataFrame(
        {
            "time": _times(data["time"])
            if len(frame)
            else pd.Series([], dtype="datetime64[ns, UTC]"),
            "token_id": pd.array([t if _present(t) else None for t in data["token_id"]], dtype=STR),
            "method": pd.Categorical(methods, categories=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            "path": pd.array(paths, dtype=STR),
            "operation_id": pd.array(op_ids, dtype=STR),
            "status": pd.array(
                [http_status(s, "status") if _present(s) else None for s in data["status"]],
                dtype="Int64",
            ),
            "ip": pd.array([str(i) if _present(i) else None for i in data["ip"]], dtype=STR),
            "user_agent": pd.array(
                [str(u) if _present(u) else None for u in data["user_agent"]], dtype=STR
            ),
            "auth": pd.Categorical(
                [_auth(a) for a in data["auth"]], categories=["api_token", "api_key", "other"]
            ),
            "zone_id": pd.array(zones, dtype=STR),
            "account_id": pd.array(accounts, dtype=STR),
            "actor": pd.array([str(a) if _present(a) else None for a in data["actor"]], dtype=STR),
        }
    )
    if out["time"].dt.tz is None:
        out["time"] = out["time"].dt.tz_localize("UTC")
    return out.sort_values("time", kind="stable").reset_index(drop=True)


_TEXT_COLUMNS = (
    "token_id", "method", "path", "ip", "user_agent", "auth", "zone_id", "account_id", "actor",
    "operation_id",
)  # fmt: skip


def _texts_encodable(data: Mapping[str, list[Any]]) -> bool:
    """Whether every text among the columns' values is UTF-8-encodable (no lone surrogate),
    at C speed: the texts (str and its subclasses, numpy's among them) joined and encoded
    once; times, numbers and NA hold no text; anything else goes to ``utf8_encodable``."""
    texts = [v for values in data.values() for v in values if isinstance(v, str)]
    try:
        "".join(texts).encode("utf-8")
    except UnicodeEncodeError:
        return False
    others = [v for values in data.values() for v in values if not _plain(v)]
    return utf8_encodable(others)


_PLAIN_TYPES = (int, float, bool, np.int64, np.float64, np.bool_, np.datetime64)


def _plain(value: Any) -> bool:
    """A value that holds no text of its own: a str (checked apart, subclasses too), a
    number, a time, NA."""
    return (
        value is None
        or type(value) in _PLAIN_TYPES
        or isinstance(value, datetime | str)
        or _is_na(value)
    )


def _is_na(value: Any) -> bool:
    import pandas as pd

    return value is pd.NA or value is pd.NaT


def _check_usage(data: Mapping[str, list[Any]]) -> None:
    """Usage rows come from files someone else wrote: a value of the wrong type is
    :class:`InvalidInput` naming its row and column (``usage[3].status``), never a TypeError
    from deep inside the rules."""
    for column in _TEXT_COLUMNS:
        for i, value in enumerate(data[column], start=1):
            if value is None or type(value) is str:
                continue
            if isinstance(value, Mapping | list | tuple | set | dict):
                raise InvalidInput(f"usage[{i}].{column} must be text, got {describe(value)}")
    for i, value in enumerate(data["status"], start=1):
        if _present(value):
            http_status(value, f"usage[{i}].status")


def _times(values: list[Any]) -> Any:
    """The ``time`` column as UTC datetimes; a value that is not a timestamp is
    :class:`InvalidInput` naming its row."""
    import pandas as pd

    for i, value in enumerate(values, start=1):
        if _present(value) and not isinstance(value, str | datetime | np.datetime64):
            raise InvalidInput(
                f"usage[{i}].time must be an RFC 3339 timestamp, got {shown(value, limit=40)}"
            )
    try:
        return pd.to_datetime(pd.Series(values, dtype=object), utc=True, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        parsed = pd.to_datetime(
            pd.Series(values, dtype=object), utc=True, format="ISO8601", errors="coerce"
        )
        for i, (value, when) in enumerate(zip(values, parsed, strict=True), start=1):
            if _present(value) and pd.isna(when):
                raise InvalidInput(
                    f"usage[{i}].time is not a timestamp: {shown(value, limit=40)}; use RFC "
                    "3339, e.g. 2026-11-20T09:00:00Z"
                ) from None
        raise


def _still_granted(ctx: Ctx, t: int, zones: set[str]) -> set[str]:
    """The zones of ``zones`` that some effective zone group of token ``t`` is allowed on,
    after its denies (status, window and IPs aside)."""
    token = timeless_token(ctx.inv.records[t].payload)
    groups = {
        int(ctx.grp[r]) for r in ctx.token_rows(t) if ctx.eff[r] and ctx.row_scope[r] == S_ZONE
    }
    resolved = [g for c in groups if (g := permission_groups.by_id(ctx.group_id(c))) is not None]
    directory = ctx.dir.directory
    return {
        z
        for z in zones
        if any(
            evaluate(
                token, g, zone=z, account=ctx.dir.zone_account.get(z), directory=directory
            ).allowed
            for g in resolved
        )
    }


def _present(value: Any) -> bool:
    if value is None:
        return False
    if type(value) is str:
        return value != ""
    try:
        import pandas as pd

        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        pass
    return str(value) != ""


def _network(ip: str) -> str | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    prefix = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


class UsageIndex:
    """Per-token views of the usage table, windowed at ``window_days`` before ``now``."""

    def __init__(
        self, frame: pd.DataFrame, now: datetime, window_days: int, directory: DirectoryIndex
    ):
        import pandas as pd

        self.frame = frame
        self.directory = directory
        start = pd.Timestamp(now) - pd.Timedelta(days=window_days)
        recent = frame[(frame["time"] >= start) & (frame["time"] <= pd.Timestamp(now))]
        self.recent = recent
        ok = recent[recent["status"].fillna(0) < 400]
        self._ok = ok
        self._by_token: dict[str, Any] = {
            str(k): g for k, g in recent.groupby("token_id", observed=True, dropna=True)
        }
        self._ok_by_token: dict[str, Any] = {
            str(k): g for k, g in ok.groupby("token_id", observed=True, dropna=True)
        }
        self._served: list[tuple[int, int, dict[str, Operation]]] | None = None
        # each token's zones, accounts, allowlist proposal and clients, read once (the rules
        # ask for the same token's several times; each answer is a small pandas computation)
        self._zones: dict[str, list[str]] = {}
        self._accounts: dict[str, list[str]] = {}
        self._cidrs: dict[str, list[str]] = {}
        self._clients: dict[str, tuple[frozenset[str], frozenset[str]]] = {}

    @property
    def empty(self) -> bool:
        """True when no request falls in the window: the usage rules have nothing to judge."""
        return len(self.recent) == 0

    def ok_rows(self, token_id: str) -> pd.DataFrame | None:
        """The token's successful requests in the window (None when it made none)."""
        rows = self._ok_by_token.get(token_id)
        return rows if rows is not None and len(rows) else None

    def has_rows(self, token_id: str) -> bool:
        """True when the token made any request in the window."""
        return token_id in self._by_token

    def zones(self, token_id: str) -> list[str]:
        """Zones the token acted on successfully in the window (most used first)."""
        found = self._zones.get(token_id)
        if found is None:
            rows = self._ok_by_token.get(token_id)
            found = (
                []
                if rows is None
                else [str(z) for z in rows["zone_id"].dropna().value_counts().index]
            )
            self._zones[token_id] = found
        return list(found)

    def accounts(self, token_id: str) -> list[str]:
        """Accounts the token acted on (directly or through a zone) in the window."""
        found = self._accounts.get(token_id)
        if found is None:
            rows = self._ok_by_token.get(token_id)
            found = (
                []
                if rows is None
                else [str(a) for a in rows["account_id"].dropna().value_counts().index]
            )
            self._accounts[token_id] = found
        return list(found)

    def main_account(self, token_id: str) -> str | None:
        """The account the token acted on most."""
        found = self.accounts(token_id)
        return found[0] if found else None

    def cidrs(self, token_id: str) -> list[str]:
        """An allowlist proposal: the exact addresses seen (as /32 or /128), or their /24 (/48)
        networks when there are more than 8 of them."""
        found = self._cidrs.get(token_id)
        if found is None:
            found = self._cidrs[token_id] = self._read_cidrs(token_id)
        return list(found)

    def _read_cidrs(self, token_id: str) -> list[str]:
        rows = self._by_token.get(token_id)
        if rows is None:
            return []
        ips = sorted({str(i) for i in rows["ip"].dropna()})
        valid = []
        for ip in ips:
            try:
                addr = ipaddress.ip_address(ip)
            except ValueError:
                continue
            valid.append(f"{addr}/{32 if addr.version == 4 else 128}")
        if len(valid) > 8:
            return sorted({n for ip in ips if (n := _network(ip))})
        return valid

    def clients(self, token_id: str) -> tuple[set[str], set[str]]:
        """(user agents, source networks) seen for the token in the window."""
        found = self._clients.get(token_id)
        if found is None:
            rows = self._by_token.get(token_id)
            if rows is None:
                found = (frozenset(), frozenset())
            else:
                agents = frozenset(str(a) for a in rows["user_agent"].dropna())
                networks = frozenset(n for ip in rows["ip"].dropna() if (n := _network(str(ip))))
                found = (agents, networks)
            self._clients[token_id] = found
        return set(found[0]), set(found[1])

    def last_rolls(self) -> dict[str, np.datetime64]:
        """Token id → time of its last successful roll seen in the usage (whole table)."""
        frame = self.frame
        out: dict[str, np.datetime64] = {}
        puts = frame[(frame["method"] == "PUT") & (frame["status"].fillna(0) < 400)]
        for path, when in zip(puts["path"], puts["time"], strict=True):
            if not isinstance(path, str) or not path.endswith("/value"):
                continue
            match = operations.find("PUT", path)
            if match is None or (match.operation.method, match.operation.path) not in _ROLL_OPS:
                continue
            tid = match.params.get("token_id")
            if tid:
                value = np.datetime64(when.tz_convert(None).to_datetime64(), "ns")
                if tid not in out or value > out[tid]:
                    out[tid] = value
        return out

    def api_key_use(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(actor, summary, proposed token spec body) per actor that used the Global API Key."""
        frame = self.recent
        rows = frame[frame["auth"] == "api_key"]
        out = []
        for actor, group in rows.groupby(rows["actor"].fillna("unknown actor"), observed=True):
            ops = Counter(f"{m} {p}" for m, p in zip(group["method"], group["path"], strict=True))
            first, last = group["time"].min(), group["time"].max()
            summary = (
                f"{len(group)} request(s) with the Global API Key between {first:%Y-%m-%d} and "
                f"{last:%Y-%m-%d}, e.g. {', '.join(o for o, _ in ops.most_common(3))}"
            )
            out.append((str(actor), summary, self._spec_for(group, str(actor))))
        return out

    def _spec_for(self, group: Any, actor: str) -> dict[str, Any]:
        """A least-privilege create body covering the calls in ``group`` (read groups for reads)."""
        policies: dict[tuple[str, str], set[str]] = {}
        for method, path in zip(group["method"], group["path"], strict=True):
            match = operations.find(str(method), str(path)) if method and path else None
            if match is None or not match.operation.mapped:
                continue
            accepted = match.operation.accepted_groups
            resource = None
            scope = None
            if match.zone_id:
                resource, scope = f"com.cloudflare.api.account.zone.{match.zone_id}", "zone"
            elif match.account_id:
                resource, scope = f"com.cloudflare.api.account.{match.account_id}", "account"
            fitting = [g for g in accepted if scope is None or g.scope.label == scope]
            if not fitting or resource is None:
                continue
            reads = [g for g in fitting if g.level.value == "read"]
            choice = reads[0] if (match.operation.is_read and reads) else fitting[0]
            policies.setdefault((scope or "", resource), set()).add(choice.id)
        body_policies = []
        for (_scope, resource), ids in sorted(policies.items()):
            body_policies.append(
                {
                    "effect": "allow",
                    "permission_groups": [
                        {"id": gid, "name": g.name if (g := permission_groups.by_id(gid)) else gid}
                        for gid in sorted(ids)
                    ],
                    "resources": {resource: "*"},
                }
            )
        return {"name": f"replaces Global API Key of {actor}", "policies": body_policies}

    def zone_grants(self, ctx: Ctx) -> list[tuple[int, set[str], list[str]]]:
        """(token, concrete zones granted by zone groups, explicitly named zones) per token
        with usage."""
        out = []
        for tid in self._by_token:
            t = ctx.token_index.get(tid)
            if t is None:
                continue
            granted: set[str] = set()
            explicit: list[str] = []
            for row in ctx.token_rows(t):
                if not ctx.eff[row] or ctx.row_scope[row] != S_ZONE:
                    continue
                kind = ctx.inv.g_kind[row]
                if kind == K_ZONE:
                    zid = str(ctx.inv.g_rid[row])
                    granted.add(zid)
                    explicit.append(zid)
                elif kind == K_ALL_ZONES_IN:
                    granted.update(ctx.dir.zones_of.get(str(ctx.inv.g_racct[row]), ()))
                elif kind == K_ALL_ZONES:
                    granted.update(ctx.dir.zone_names)
            if ctx.inv.arrays["has_deny"][t] and granted:
                # a deny may remove single zones from a wildcard: keep the zones some zone group
                # of the token is still allowed on (the policy engine decides)
                granted = _still_granted(ctx, t, granted)
                explicit = [z for z in explicit if z in granted]
            out.append((t, granted, list(dict.fromkeys(explicit))))
        return out

    def served_groups(self, ctx: Ctx) -> list[tuple[int, int, dict[str, Operation]]]:
        """(token, group code, {operation: Operation}) for every group that served at least one
        successful observed request in the window.

        A group could serve a request when the operation accepts it and the policy engine allows
        it on the request's resource. Operations such as ``GET /zones/{id}`` accept almost every
        zone group, so a request is credited to the least powerful groups that could serve it:
        the read groups among them when there are any, else all of them. A write group is thus
        "used" only by requests no read group of the token could serve."""
        if self._served is not None:
            return self._served

        out: list[tuple[int, int, dict[str, Operation]]] = []
        cache: dict[tuple[str, str], OperationMatch | None] = {}
        directory = ctx.dir.directory
        for tid, rows in self._ok_by_token.items():
            t = ctx.token_index.get(tid)
            if t is None:
                continue
            token = Token.from_api(ctx.inv.records[t].payload)
            held = {int(ctx.grp[r]): int(ctx.row_scope[r]) for r in ctx.token_rows(t) if ctx.eff[r]}
            served: dict[int, dict[str, Operation]] = {}
            seen: set[tuple[str, str, str | None, str | None]] = set()
            for method, path, zone, account in zip(
                rows["method"], rows["path"], rows["zone_id"], rows["account_id"], strict=True
            ):
                zone = zone if _present(zone) else None
                account = account if _present(account) else None
                key = (str(method), str(path), zone, account)
                if key in seen:
                    continue
                seen.add(key)
                match = _match(str(method), str(path), cache)
                if match is None or not match.operation.mapped:
                    continue
                op = match.operation
                allowed: list[int] = []
                for group in op.accepted_groups:
                    code = ctx.inv.groups.code.get(group.id)
                    if code is None or code not in held:
                        continue
                    scope = held[code]
                    if scope == S_USER or op.target in (Target.NONE, Target.USER):
                        ok = True
                    elif scope == S_ZONE:
                        if zone is None:
                            continue
                        ok = evaluate(
                            token,
                            group,
                            zone=zone,
                            account=account,
                            directory=directory,
                            at=ctx.now_dt,
                        ).allowed
                    elif scope == S_ACCOUNT:
                        if account is None:
                            continue
                        ok = evaluate(
                            token, group, account=account, directory=directory, at=ctx.now_dt
                        ).allowed
                    else:
                        continue
                    if ok and code not in allowed:
                        allowed.append(code)
                # credit the request to the least powerful groups that could serve it: read
                # groups when the token holds one that the operation accepts, else every group
                reads = [c for c in allowed if ctx.g_level[c] == L_READ]
                for code in reads or allowed:
                    served.setdefault(code, {})[op.operation_id or str(op)] = op
            out.extend((t, code, ops) for code, ops in served.items())
        self._served = out
        return out
