"""``cft.triage(secret, admin=client)``: the hour after a token leaks.

With the secret alone: verify it (token id, status, expiry, not-before, user- or
account-owned). With an admin credential (a :class:`~cftokens.Client` or a
:class:`~cftokens.Sandbox`) that may read tokens and audit logs, a :class:`Triage` also holds:

- ``blast_radius`` (a DataFrame) and ``sentences``: what the token can do, on which accounts
  and zones, from which IPs, until when, from the audit's access view and the policy engine;
  ``findings``: the audit's rules on it; ``similar``: other live tokens holding the same
  permissions on the same resources (``Audit.who_can``).
- ``activity``: its Audit Logs v2 records since ``since`` (default: its last roll in its
  account's Audit Logs v2, which keep 30 days, else 30 days; a user token's rolls are not in
  account logs), each source IP outside its allowlist or never seen before ``since`` flagged;
  ``activity_summary`` by action and resource.
- ``dependents``: who used it before ``since`` (source IP and user agent): what breaks when it
  is rolled; ``replacement``: :func:`~cftokens.least_privilege_from_usage` over that usage.
- ``plan``: roll (the new secret written once to a new 0600 file, never printed), disable (a
  PUT with status disabled, policies kept) or delete; each runs only with ``confirm=True``.
- ``report``: an incident report (``to_html``/``to_json``): timeline, blast radius, actions,
  gaps. No secret appears anywhere.

**Gaps are named, never hidden**: when the admin credential cannot list the token's owner's
tokens or read an account's audit logs, ``gaps`` says which permission is missing and
``complete`` is False; the blast radius is then shown as incomplete, not as a smaller one.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import frozen

from .._shown import fields_shown, html_repr, shown_lines, text_repr
from ..detect import fingerprint_of
from ..errors import CloudflareError, InvalidInput, PermissionDenied
from ..model._util import parse_datetime
from ..model.directory import Directory
from ..model.secret import Secret
from .containment import Action, Containment, Step
from .incident import report_dict, report_html, report_json
from .verify import Verification, Verifier, as_written

if TYPE_CHECKING:
    import pandas as pd

    from ..advisor import Advice
    from ..client import Client
    from ..sandbox import Sandbox

_T = TypeVar("_T")

__all__ = ["Action", "Gap", "Step", "Triage", "triage"]

DEFAULT_WINDOW = timedelta(days=30)
# Audit Logs v2 keeps 30 days: Cloudflare (and the sandbox) refuse an older ``since``.
AUDIT_LOGS_KEPT = timedelta(days=30)


def _oldest_kept(now: datetime) -> datetime:
    """The oldest ``since`` Audit Logs v2 serves: midnight UTC, 30 days before ``now``."""
    return (now - AUDIT_LOGS_KEPT).replace(hour=0, minute=0, second=0, microsecond=0)


@frozen(kw_only=True, field_transformer=fields_shown)
class Gap:
    """Something the triage could not see, and the permission that would show it."""

    what: str
    reason: str
    needs: str = ""
    part: str = "blast radius"  # what it leaves incomplete: blast radius, activity, similar

    @text_repr
    def __str__(self) -> str:
        return f"{self.what}: {self.reason}" + (f" (needs {self.needs})" if self.needs else "")


def _aware(value: datetime | str | None, name: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        parsed = parse_datetime(value, name)
        assert parsed is not None
        return parsed
    if value.tzinfo is None:
        raise InvalidInput(f"{name} must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
    return value


def triage(
    secret: Secret | str,
    *,
    admin: Client | Sandbox | None = None,
    since: datetime | str | None = None,
    now: datetime | None = None,
    account: str | None = None,
    verifier: Verifier | None = None,
) -> Triage:
    """Verify ``secret`` and, with ``admin``, measure what it can do and what it did.

    ``admin``: a :class:`~cftokens.Client` or a :class:`~cftokens.Sandbox` (its bootstrap
    token; its clock is ``now``). ``since``: start of the window of activity to examine
    (default: the token's last roll seen in the logs, else 30 days before ``now``).
    ``account``: the owning account of a ``cfat_`` token when verification needs it.
    """
    if not isinstance(secret, Secret):
        if not isinstance(secret, str):
            raise InvalidInput("triage takes the secret as a cftokens.Secret or a str")
        secret = Secret(secret.strip())
    secret = as_written(secret)  # CFUT_… is the secret cfut_…, as the scanner reads it
    client = None
    given: Any = admin  # a Sandbox is told apart by its members (leak does not load it)
    if given is not None and hasattr(given, "transport") and hasattr(given, "clock"):
        verifier = verifier or Verifier(sandbox=given)
        now = now or given.clock.now()
        client = given.client()
    elif given is not None:
        client = given
        if verifier is None:
            verifier = Verifier(
                base_url=given._core.base_url,
                transport=getattr(given._http, "_transport", None),
            )
    verifier = verifier or Verifier()
    now = now or datetime.now(UTC)
    verification = verifier.check(secret, account_id=account)
    result = Triage(
        secret=secret,
        verification=verification,
        now=now,
        since=_aware(since, "since"),
        admin=admin,
        client=client,
    )
    if client is not None:
        result._investigate()
    return result


class Triage(Containment):
    """The answer to "is this a live credential, whose, what can it do, what did it do, how
    do I shut it off": see the module docstring. Build it with :func:`triage`."""

    def __init__(
        self,
        *,
        secret: Secret,
        verification: Verification,
        now: datetime,
        since: datetime | None,
        admin: Client | Sandbox | None,
        client: Client | None,
    ):
        self._secret = secret
        self.verification = verification
        self.now = now
        self.since = since
        self.since_reason = "given" if since is not None else ""
        self._admin: Any = admin  # either kind: their shared members are used
        self._client: Any = client
        self.fingerprint = _fingerprint(secret)
        self.owner_kind = verification.owner
        self.owner_id: str | None = None
        self.owner_name: str | None = None
        self.gaps: list[Gap] = []
        self.actions: list[Action] = []
        self.audit: Any = None
        self._records: list[Any] = []
        self._baseline: list[Any] = []
        self._replacement: Advice | None = None
        self._directory: Directory | None = None
        self._replacement_error: str | None = None
        # the views derived from the investigation (blast radius, activity, ...), each made
        # once: the reports and the sentences read them many times
        self._views: dict[str, tuple[tuple[Any, ...], Any]] = {}
        if admin is None:
            self.gaps.append(
                Gap(
                    what="blast radius, activity and containment",
                    reason="no admin credential was given: only the verify answer is known",
                    needs="admin= a client that may read tokens and audit logs",
                )
            )

    # -- investigation ------------------------------------------------------------------------
    @property
    def token_id(self) -> str | None:
        """The token's id (from verify)."""
        return self.verification.token_id

    @property
    def directory(self) -> Directory | None:
        """Accounts and zones (names for ids), from the admin credential; None without one."""
        if self._directory is None and (self._admin is not None or self._client is not None):
            source = self._admin if self._admin is not None else self._client
            try:
                self._directory = source.directory()
            except CloudflareError:
                self._directory = None
        return self._directory

    @property
    def complete(self) -> bool:
        """True when nothing was hidden from the triage (no gap)."""
        return not self.gaps

    def _investigate(self) -> None:
        import warnings

        # the audit (numpy, pandas) loads when a triage investigates: `import cftokens.leak`
        # (the scanner, the pre-commit hook) must not load it
        from ..audit import run_audit
        from ..audit.collect import AuditGapWarning

        tid = self.token_id
        if tid is None:
            self.gaps.append(
                Gap(
                    what="the token",
                    reason=f"verify gave no token id ({self.verification.status}"
                    + (f": {self.verification.note}" if self.verification.note else "")
                    + "), so it cannot be looked up",
                )
            )
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AuditGapWarning)
            self.audit = run_audit(
                self._admin if self._admin is not None else self._client,
                now=self.now,
                progress=False,
            )
        tokens = self.audit.tokens
        found = tokens[tokens["token_id"] == tid]
        for row in self.audit.gaps.itertuples(index=False):
            if row.kind == "collection":
                # a listing the admin could not read hides other tokens (who else has this
                # power) and, when the token itself was not found, maybe the token
                self.gaps.append(
                    Gap(
                        what=str(row.what),
                        reason="the admin credential cannot list them",
                        needs=_needs(str(row.reason)),
                        part="similar" if not found.empty else "blast radius",
                    )
                )
        if found.empty:
            self.gaps.append(
                Gap(
                    what=f"token {tid}",
                    reason="not visible to the admin credential, so its permissions are "
                    "unknown: user tokens are listed only to their owner; account tokens need "
                    "Account API Tokens Read on their account",
                    needs="the owner's credential, or Account API Tokens Read",
                )
            )
            return
        row = found.iloc[0]
        self.owner_kind = str(row["kind"])
        self.owner_id = _text(row["owner_id"])
        self.owner_name = _text(row["owner_name"])  # None when the admin cannot read it
        self._collect_activity(tid)

    def _accounts(self, tid: str) -> list[str]:
        access = self.audit.access
        mine = access[access["token_id"] == tid]
        accounts = {str(a) for a in mine["account_id"].dropna()}
        if self.owner_kind == "account" and self.owner_id:
            accounts.add(self.owner_id)
        if mine["account_id"].isna().any() or not accounts:  # wildcards: every account seen
            accounts |= {str(a) for a in self.audit.access["account_id"].dropna()}
        return sorted(accounts)

    def _last_roll(self, tid: str) -> datetime | None:
        """When the token was last rolled, from its owning account's Audit Logs v2 (the roll
        is made by another credential, so it is looked up by resource, not by actor). A user
        token's roll is not in any account's logs: None."""
        if self.owner_kind != "account" or not self.owner_id:
            return None
        try:
            rolls = [
                r.time
                for r in self._client.account(self.owner_id).audit_logs.list(
                    since=_oldest_kept(self.now),
                    before=self.now,
                    resource_id=tid,
                    raw_method="PUT",
                    limit=1000,
                )
                if r.time is not None and (r.raw_uri or "").split("?")[0].endswith("/value")
            ]
        except CloudflareError:
            return None  # the activity read below names the gap
        return max(rolls) if rolls else None

    def _collect_activity(self, tid: str) -> None:
        if self.since is None:
            rolled = self._last_roll(tid)
            if rolled is not None:
                self.since, self.since_reason = rolled, "its last roll (Audit Logs v2)"
            else:
                self.since = self.now - DEFAULT_WINDOW
                self.since_reason = (
                    "30 days: no roll in the 30 days its account's Audit Logs v2 keep"
                    if self.owner_kind == "account"
                    else "30 days: a user token's rolls are not in account Audit Logs"
                )
        since = self.since
        window_start = since - DEFAULT_WINDOW  # the usage before it: dependents, baseline
        window_start = max(window_start, _oldest_kept(self.now))  # nothing older is served
        records: list[Any] = []
        for account_id in self._accounts(tid):
            try:
                records.extend(
                    self._client.account(account_id).audit_logs.list(
                        since=window_start, before=self.now, actor_token_id=tid, limit=1000
                    )
                )
            except PermissionDenied:
                self.gaps.append(
                    Gap(
                        what=f"activity on account {self._account_name(account_id)}",
                        reason="its Audit Logs v2 could not be read, so what the token did "
                        "there is unknown",
                        needs="Account Settings Read on that account",
                        part="activity",
                    )
                )
            except CloudflareError as exc:
                self.gaps.append(
                    Gap(
                        what=f"activity on account {self._account_name(account_id)}",
                        reason=f"reading its Audit Logs v2 failed: {type(exc).__name__}",
                        part="activity",
                    )
                )
        records.sort(key=lambda r: r.time or self.now)
        self._baseline = [r for r in records if r.time is not None and r.time < since]
        self._records = [r for r in records if r.time is None or r.time >= since]

    def _account_name(self, account_id: str) -> str:
        if self.audit is not None:
            names = self.audit.access.dropna(subset=["account_id"])
            for row in names.itertuples(index=False):
                name = _text(row.resource_name)
                if row.account_id == account_id and row.resource_kind == "account":
                    return f"{name} ({account_id})" if name and name != account_id else account_id
        return account_id

    def _view(self, name: str, build: Callable[[], _T]) -> _T:
        """``build()``, made once for the investigation's results (the audit, the verify
        answer, the activity records; made again if one of them is replaced). Shared: the
        public properties hand out copies of frames."""
        inputs = (self.audit, self.verification, self._records, self._baseline)
        held = self._views.get(name)
        if held is not None and all(a is b for a, b in zip(held[0], inputs, strict=True)):
            return held[1]  # type: ignore[no-any-return]
        value = build()
        self._views[name] = (inputs, value)
        return value

    # -- what it can do -----------------------------------------------------------------------
    def _token_row(self) -> Any:
        return self._view("token_row", self._find_token_row)

    def _find_token_row(self) -> Any:
        if self.audit is None or self.token_id is None:
            return None
        tokens = self.audit.tokens
        found = tokens[tokens["token_id"] == self.token_id]
        return None if found.empty else found.iloc[0]

    @property
    def allow_ips(self) -> list[str]:
        """The token's IP allowlist (empty: any address)."""
        row = self._token_row()
        if row is None:
            return []
        value = row["ip_allow"]
        return [str(v) for v in value] if isinstance(value, list | tuple) and value else []

    @property
    def blast_radius(self) -> pd.DataFrame:
        """One row per permission: group, level, resource, account, from which IPs, until when,
        live; empty (and a gap named) when the token could not be read."""
        return self._radius.copy()

    @property
    def _radius(self) -> pd.DataFrame:
        return self._view("blast_radius", self._blast_radius)

    def _blast_radius(self) -> pd.DataFrame:
        import pandas as pd

        columns = ["permission", "level", "resource_kind", "resource", "account_id", "from_ips",
                   "until", "live", "via"]  # fmt: skip
        row = self._token_row()
        if row is None:
            return pd.DataFrame(columns=columns)
        access = self.audit.access
        mine = access[access["token_id"] == self.token_id]
        ips = ", ".join(self.allow_ips) or "any IP address"
        expires = row["expires_on"]
        until = (
            "no expiry"
            if pd.isna(expires)
            else pd.Timestamp(expires).strftime("%Y-%m-%d %H:%M UTC")
        )
        frame = pd.DataFrame(
            {
                "permission": mine["group"].astype("string"),
                "level": mine["level"].astype("string"),
                "resource_kind": mine["resource_kind"].astype("string"),
                "resource": mine["resource_name"].astype("string"),
                "account_id": mine["account_id"].astype("string"),
                "from_ips": ips,
                "until": until,
                "live": mine["live"].astype(bool),
                "via": mine["via"].astype("string"),
            },
            columns=columns,
        )
        order = {"write": 0, "read": 1}
        frame = frame.sort_values(
            ["level", "permission"], key=lambda s: s.map(order) if s.name == "level" else s
        )
        return frame.reset_index(drop=True)

    @property
    def sentences(self) -> list[str]:
        """The blast radius in plain English (incomplete ones say so first)."""
        v = self.verification
        out = []
        major = [g for g in self.gaps if g.part != "similar"]
        if major:
            out.append(
                "INCOMPLETE: the triage could not see everything ("
                + "; ".join(str(g) for g in major)
                + "). What follows is a lower bound, not the whole blast radius."
            )
        owner = f"{self.owner_kind}-owned" if self.owner_kind else "of unknown owner"
        head = f"The secret {self.fingerprint} is {v.status}"
        if v.token_id:
            head += f": token {v.token_id} ({owner}"
            if self.owner_name:
                head += f", {self.owner_name}"
            head += ")"
        out.append(head + ".")
        if v.expires_on or v.not_before:
            out.append(
                "Valid "
                + (f"from {v.not_before} " if v.not_before else "")
                + (f"until {v.expires_on}." if v.expires_on else "with no expiry.")
            )
        radius = self._radius
        if not radius.empty:
            writes = radius[radius["level"] == "write"]
            reads = radius[radius["level"] != "write"]
            for label, part in (("change", writes), ("read", reads)):
                if part.empty:
                    continue
                by_resource: dict[str, list[str]] = {}
                for r in part.itertuples(index=False):
                    by_resource.setdefault(f"{r.resource_kind} {r.resource}", []).append(
                        str(r.permission)
                    )
                items = "; ".join(f"{', '.join(g)} on {res}" for res, g in by_resource.items())
                out.append(f"It can {label}: {items}.")
            ips = ", ".join(self.allow_ips) or "any IP address"
            until = radius["until"].iloc[0]
            lifetime = "with no expiry" if until == "no expiry" else f"until {until}"
            out.append(f"It works from {ips}, {lifetime}.")
        if self.audit is not None and self.token_id is not None:
            findings = self._findings
            if not findings.empty:
                # each rule once per severity, with a count (a rule fires once per policy)
                counts: dict[tuple[str, str], int] = {}
                for r in findings.itertuples(index=False):
                    key = (str(r.rule_id), str(r.severity))
                    counts[key] = counts.get(key, 0) + 1
                worst = ", ".join(
                    f"{rule}{f' ×{n}' if n > 1 else ''} ({severity})"
                    for (rule, severity), n in counts.items()
                )
                out.append(f"Audit findings: {worst}.")
        minor = [g for g in self.gaps if g.part == "similar"]
        if minor:
            out.append(
                "Other tokens with the same power may be missing from `similar`: "
                + "; ".join(str(g) for g in minor)
                + "."
            )
        activity = self._activity
        if self._records and not self._baseline and not activity["flagged"].any():
            ips = ", ".join(sorted(activity["ip"].dropna().unique()))
            out.append(
                f"Since {self.since:%Y-%m-%d %H:%M} UTC ({self.since_reason}) it made "
                f"{len(self._records)} request(s), from {ips}; there is no usage before the "
                "window to tell expected addresses from unexpected ones: give since= "
                "(--since) the time of the leak."
            )
        elif self._records:
            flagged = activity[activity["flagged"]]
            out.append(
                f"Since {self.since:%Y-%m-%d %H:%M} UTC ({self.since_reason}) it made "
                f"{len(self._records)} request(s); {len(flagged)} from unexpected addresses ("
                + ", ".join(sorted(flagged["ip"].dropna().unique()))
                + ")."
                if not flagged.empty
                else f"Since {self.since:%Y-%m-%d %H:%M} UTC it made {len(self._records)} "
                "request(s), all from expected addresses."
            )
        return out

    def __str__(self) -> str:
        return shown_lines(self.sentences)

    @text_repr
    def __repr__(self) -> str:
        return (
            f"<Triage {self.fingerprint}: {self.verification.status}, token {self.token_id}, "
            f"{len(self.gaps)} gap(s)>"
        )

    @html_repr
    def _repr_html_(self) -> str:
        import html

        items = "".join(f"<li>{html.escape(s)}</li>" for s in self.sentences)
        return f"<ul>{items}</ul>"

    @property
    def findings(self) -> pd.DataFrame:
        """The audit's findings on this token."""
        return self._findings.copy()

    @property
    def _findings(self) -> pd.DataFrame:
        return self._view("findings", self._token_findings)

    def _token_findings(self) -> pd.DataFrame:
        if self.audit is None:
            import pandas as pd

            return pd.DataFrame(columns=["rule_id", "severity", "title", "evidence"])
        f = self.audit.findings
        mine: pd.DataFrame = f[f["token_id"] == self.token_id].reset_index(drop=True)
        return mine

    @property
    def similar(self) -> pd.DataFrame:
        """Other live tokens holding the same permissions on the same resources."""
        return self._view("similar", self._similar).copy()

    def _similar(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        radius = self._radius
        access = self.audit.access if self.audit is not None else None
        if access is None or radius.empty:
            return pd.DataFrame(columns=["permission", "resource", "token_id", "name", "via"])
        mine = access[access["token_id"] == self.token_id]
        for r in mine.itertuples(index=False):
            kind = str(r.resource_kind)
            if kind not in ("zone", "account") or not isinstance(r.resource_id, str):
                continue
            try:
                who = self.audit.who_can(str(r.group), **{kind: r.resource_id}, live_only=True)
            except InvalidInput:
                continue
            for w in who.itertuples(index=False):
                if w.token_id != self.token_id:
                    rows.append(
                        {
                            "permission": str(r.group),
                            "resource": f"{kind} {r.resource_name}",
                            "token_id": w.token_id,
                            "name": w.name,
                            "via": w.via,
                        }
                    )
        return pd.DataFrame(rows, columns=["permission", "resource", "token_id", "name", "via"])

    # -- what it did --------------------------------------------------------------------------
    def _frame(self, records: list[Any], flag: bool) -> pd.DataFrame:
        import pandas as pd

        allow = [ipaddress.ip_network(n, strict=False) for n in self.allow_ips]
        known = {r.actor_ip for r in self._baseline if r.actor_ip}
        rows = []
        for r in records:
            ip = r.actor_ip
            reasons = []
            if flag and ip:
                address = ipaddress.ip_address(ip)
                if allow and not any(address in n for n in allow):
                    reasons.append("outside the allowlist")
                if known and ip not in known:  # without earlier usage, nothing to compare
                    reasons.append("never seen before the window")
            path = (r.raw_uri or "").split("?")[0].removeprefix("/client/v4")
            rows.append(
                {
                    "time": r.time,
                    "ip": ip,
                    "user_agent": r.raw_user_agent,
                    "method": r.raw_method,
                    "path": path,
                    "status": r.raw_status_code,
                    "result": r.action_result,
                    "action": r.action_type,
                    "resource": r.resource_type,
                    "zone": r.zone_name,
                    "flagged": bool(reasons),
                    "why": "; ".join(reasons),
                }
            )
        frame = pd.DataFrame(
            rows,
            columns=[
                "time",
                "ip",
                "user_agent",
                "method",
                "path",
                "status",
                "result",
                "action",
                "resource",
                "zone",
                "flagged",
                "why",
            ],
        )
        frame["time"] = pd.to_datetime(frame["time"], utc=True)
        frame["status"] = frame["status"].astype("Int64")
        frame["flagged"] = frame["flagged"].astype(bool)
        for column in ("ip", "user_agent", "method", "path", "result", "action", "resource",
                       "zone", "why"):  # fmt: skip
            frame[column] = frame[column].astype("string")
        return frame

    @property
    def activity(self) -> pd.DataFrame:
        """Audit Logs v2 records of the token since ``since``; ``flagged``/``why`` mark source
        IPs outside its allowlist or never seen before ``since``."""
        return self._activity.copy()

    @property
    def _activity(self) -> pd.DataFrame:
        return self._view("activity", lambda: self._frame(self._records, flag=True))

    @property
    def activity_summary(self) -> pd.DataFrame:
        """Requests since ``since`` by action, resource, result and whether flagged."""
        frame = self._activity
        if frame.empty:
            return frame.iloc[0:0][["action", "resource", "result", "flagged"]].assign(requests=0)
        return (
            frame.groupby(["flagged", "action", "resource", "result"], dropna=False, observed=True)
            .size()
            .rename("requests")
            .reset_index()
            .sort_values(["flagged", "requests"], ascending=[False, False])
            .reset_index(drop=True)
        )

    @property
    def dependents(self) -> pd.DataFrame:
        """Who used the token before ``since`` (without such usage: every caller not flagged
        in the window): requests by source IP and user agent, first and last seen. These break
        when it is rolled, disabled or deleted."""
        return self._dependents.copy()

    @property
    def _dependents(self) -> pd.DataFrame:
        return self._view("dependents", self._callers)

    def _callers(self) -> pd.DataFrame:
        frame = self._frame(self._baseline, flag=False)
        if frame.empty:
            frame = self._activity
            frame = frame[~frame["flagged"]]
        if frame.empty:
            import pandas as pd

            return pd.DataFrame(columns=["ip", "user_agent", "requests", "first", "last"])
        return (
            frame.groupby(["ip", "user_agent"], dropna=False)
            .agg(requests=("time", "size"), first=("time", "min"), last=("time", "max"))
            .reset_index()
            .sort_values("requests", ascending=False)
            .reset_index(drop=True)
        )

    @property
    def replacement(self) -> Advice | None:
        """A least-privilege replacement (:class:`~cftokens.Advice`) designed from the usage
        before ``since``, bound to the dependents' addresses, expiring in 90 days; None (with
        ``replacement_error``) when there is no usage to design from."""
        if self._replacement is None and self._replacement_error is None:
            self._design()
        return self._replacement

    @property
    def replacement_error(self) -> str | None:
        """Why no replacement could be designed, if none could."""
        if self._replacement is None and self._replacement_error is None:
            self._design()
        return self._replacement_error

    def _design(self) -> None:
        # the advisor loads when a replacement is designed (`import cftokens.leak` stays light)
        from ..advisor import least_privilege_from_usage

        usage = self._baseline  # not the window's: it may be the attacker's
        if not usage or self.token_id is None:
            self._replacement_error = "no usage before the window to design a replacement from"
            return
        ips = sorted({f"{r.actor_ip}/32" if ":" not in r.actor_ip else f"{r.actor_ip}/128"
                      for r in usage if r.actor_ip})  # fmt: skip
        row = self._token_row()
        name = str(row["name"]) if row is not None else "token"
        try:
            self._replacement = least_privilege_from_usage(
                usage,
                token_id=self.token_id,
                directory=self._admin if self._admin is not None else self._client,
                allow_ips=ips,
                name=f"{name}-replacement",
                now=self.now,
            )
        except (InvalidInput, TypeError) as exc:
            self._replacement_error = str(exc)

    # -- report ------------------------------------------------------------------------------
    def timeline(self) -> list[tuple[datetime, str]]:
        """Dated events: issue, last roll, first and last unexpected use, actions taken."""
        events: list[tuple[datetime, str]] = []
        row = self._token_row()
        if row is not None and row["issued_on"] is not None and str(row["issued_on"]) != "NaT":
            events.append((_py(row["issued_on"]), "token issued"))
        if self.since is not None:
            events.append((self.since, f"window starts ({self.since_reason or 'given'})"))
        flagged = self._activity
        flagged = flagged[flagged["flagged"]]
        if not flagged.empty:
            first, last = flagged.iloc[0], flagged.iloc[-1]
            events.append((_py(first["time"]), f"first unexpected use, from {first['ip']}"))
            events.append((_py(last["time"]), f"last unexpected use, from {last['ip']}"))
        events.append((self.now, "triage"))
        events += [(a.time, f"{a.action}: {a.outcome}") for a in self.actions]
        return sorted(events, key=lambda e: e[0])

    def to_dict(self) -> dict[str, Any]:
        """The incident report as JSON-ready data (no secret)."""
        return report_dict(self)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The incident report as JSON (written atomically to ``path`` when given)."""
        return report_json(self, path)

    def to_html(self, path: str | os.PathLike[str] | None = None) -> str:
        """The incident report as one self-contained HTML page."""
        return report_html(self, path)


def _text(value: Any) -> str | None:
    """A frame cell as text, or None for a missing value (pandas' NA, NaN, None)."""
    import pandas as pd

    return None if value is None or pd.isna(value) else str(value)


def _py(value: Any) -> datetime:
    return value.to_pydatetime() if hasattr(value, "to_pydatetime") else value  # type: ignore[no-any-return]


def _fingerprint(secret: Secret) -> str:

    return fingerprint_of(secret.reveal())


def _needs(text: str) -> str:
    import re

    m = re.search(r"needs (one of )?(.+?) on (account|zone) ", text)
    return (m.group(1) or "") + m.group(2) if m else ""
