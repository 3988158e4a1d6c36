"""Everything the rules read, computed once per audit as numpy arrays (no per-token objects)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import chain, compress
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import redact
from ..model.directory import Directory
from ..model.resources import parse_r2_key, r2_label
from ._arrays import unique_ints
from ._cidr import cidr_facts
from ._dates import parse_dates
from ._inventory import (
    K_ACCOUNT,
    K_ALL_ACCOUNTS,
    K_ALL_ZONES,
    K_ALL_ZONES_IN,
    K_R2,
    K_USER,
    K_ZONE,
    L_WRITE,
    S_ACCOUNT,
    Inventory,
    _any_by,
    parse_cidr,
)
from .profiles import Profile

if TYPE_CHECKING:
    from .usage import UsageIndex

__all__ = ["Ctx", "DirectoryIndex"]

NS_PER_DAY = 86_400 * 10**9


class DirectoryIndex:
    """Names and zone → account lookups as plain dicts (fast in loops)."""

    def __init__(self, directory: Directory, user: Any = None):
        self.directory = directory
        self.account_names: dict[str, str] = {a.id: a.name for a in directory.accounts}
        self.zone_names: dict[str, str] = {z.id: z.name for z in directory.zones}
        self.zone_account: dict[str, str] = {z.id: z.account.id for z in directory.zones}
        self.zones_of: dict[str, list[str]] = {}
        for z in directory.zones:
            self.zones_of.setdefault(z.account.id, []).append(z.id)
        self.user = user
        # placeholder ids of resources known only after apply (Terraform) -> what they are
        self.pending: dict[str, str] = {}

    @property
    def has_zones(self) -> bool:
        """True when the zone list is known (so a missing zone id means something)."""
        return bool(self.zone_names)

    @property
    def has_accounts(self) -> bool:
        """True when the account list is known."""
        return bool(self.account_names)

    def account(self, ident: str | None) -> str:
        """An account's name, else its id."""
        if ident is None:
            return "an unknown account"
        if ident in self.pending:
            return f"{self.pending[ident]}, resource known only after apply"
        return self.account_names.get(ident, ident)

    def zone(self, ident: str | None) -> str:
        """A zone's name, else its id."""
        if ident is None:
            return "an unknown zone"
        if ident in self.pending:
            return f"{self.pending[ident]}, resource known only after apply"
        return self.zone_names.get(ident, ident)


class Ctx:
    """Token-level and grant-level arrays shared by every rule."""

    def __init__(
        self,
        inv: Inventory,
        directory: DirectoryIndex,
        profile: Profile,
        now: datetime,
        usage: UsageIndex | None,
    ):
        self.inv = inv
        self.dir = directory
        self.profile = profile
        self.th = profile.thresholds
        self.now_dt = now.astimezone(UTC)
        self._iso: dict[int, str] = {}
        self.now = np.datetime64(self.now_dt.replace(tzinfo=None), "ns")
        self._now_ns = int(self.now.astype(np.int64))  # (a datetime64's astype costs ~50 µs)
        self.usage = usage
        self.date_gaps: list[tuple[str, str]] = []
        # what the rules derive from these arrays once per audit and share (made on first use)
        self.memo: dict[str, Any] = {}
        a = inv.arrays
        n = inv.n
        self.n = n
        dates: dict[str, npt.NDArray[np.datetime64]] = {}
        unreadable = np.zeros(n, dtype=bool)
        for key, values in inv.dates.items():
            parsed, bad = parse_dates(values)
            dates[key] = parsed
            for i in bad:
                self.date_gaps.append(
                    # the value quoted redacted: a reason is shown in the gaps and findings
                    (inv.ids[i], redact(f"{key} {values[i]!r} is not a timestamp; read as unknown"))
                )
            if key == "issued_on":
                unreadable[bad] = True
        # A token without issued_on has not been created yet (a Terraform definition, a JSON
        # creation body): it would be issued now, so the lifetime and never-used rules judge
        # it from the audit's clock rather than skipping it. An unreadable date stays unknown.
        pending = np.isnat(dates["issued_on"]) & ~unreadable
        dates["issued_on"] = np.where(pending, self.now, dates["issued_on"])
        self.not_created = pending
        # Terraform restrictions known only after apply (read at their worst: absent), by
        # token position (only tokens that have some)
        self.after_apply: dict[int, frozenset[str]] = _after_apply_by_token(inv.unknown)
        self.dates = dates
        nb, exp = dates["not_before"], dates["expires_on"]
        status = a["status"]
        self.active = status == 0
        self.live = (
            self.active & (np.isnat(nb) | (nb <= self.now)) & (np.isnat(exp) | (self.now < exp))
        )
        self.has_expiry = ~np.isnat(exp)
        # expired or disabled (not merely not valid yet): it works again only if someone
        # re-enables or extends it
        self.dead = ~self.active | (self.has_expiry & (exp <= self.now))
        soon = self.now + np.timedelta64(self.th.expiring_soon_days, "D")
        self.expiring_soon = self.has_expiry & (exp <= soon)
        self._ip_arrays()
        # grants
        self.tok = a["g_tok"]
        self.grp = a["g_group"]
        self.kind = a["g_kind"]
        self.pol = a["g_pol"]
        self.deny = a["g_deny"]
        self.eff = a["g_effective"]
        self.scope_ok = a["g_scope_ok"]
        self.g_level = a["grp_level"]
        self.g_scope = a["grp_scope"]
        self.g_fam = a["grp_families"]
        self.g_known = a["grp_known"]
        self.row_level = self.g_level[self.grp] if inv.m else np.zeros(0, np.int8)
        self.row_scope = self.g_scope[self.grp] if inv.m else np.zeros(0, np.int8)
        self.row_fam = self.g_fam[self.grp] if inv.m else np.zeros(0, np.int16)
        self.write_row = self.eff & (self.row_level == L_WRITE)
        k = self.kind
        self.wide_row = (
            (k == K_ALL_ZONES_IN)
            | (k == K_ALL_ZONES)
            | (k == K_ALL_ACCOUNTS)
            | ((k == K_ACCOUNT) & (self.row_scope == S_ACCOUNT))
            | (k == K_USER)
        )
        self.widest_row = (k == K_ALL_ZONES) | (k == K_ALL_ACCOUNTS)
        # per-token group sets
        # the distinct (token, group) pairs of E(T), as token * 1,000,000 + group, sorted
        self.eff_pairs = unique_ints(
            self.tok[self.eff].astype(np.int64) * 1_000_000 + self.grp[self.eff]
        )
        self.n_groups = self.count_groups(np.ones(len(self.g_level), dtype=bool))
        self.n_write = self.count_groups(self.g_level == L_WRITE)
        self.has_write = self.n_write > 0
        fam_tok = np.zeros(n, dtype=np.int16)
        if inv.m:
            np.bitwise_or.at(fam_tok, self.tok[self.write_row], self.row_fam[self.write_row])
        self.write_families = fam_tok
        all_fam = np.zeros(n, dtype=np.int16)
        if inv.m:
            np.bitwise_or.at(all_fam, self.tok[self.eff], self.row_fam[self.eff])
        self.families = all_fam

    @cached_property
    def token_index(self) -> dict[str, int]:
        """Each token id's position. Made on first use: an audit whose findings all name
        their token by position (the rule) never reads it (~10 ms at 100,000 tokens)."""
        return dict(zip(self.inv.ids, range(self.n), strict=True))

    @cached_property
    def owner_codes(self) -> npt.NDArray[np.int64]:
        """Per token, a number naming its kind and owner (tokens with the same kind and owner
        id share one), in order of first appearance. Made on first use (one pass: numbering
        the distinct pairs first, then looking each up, made 100,000 tuples and cost more)."""
        inv = self.inv
        owners: dict[tuple[str, str | None], int] = {}
        return np.fromiter(
            (
                owners.setdefault(owner, len(owners))
                for owner in zip(inv.kinds, inv.owner_ids, strict=True)
            ),
            dtype=np.int64,
            count=inv.n,
        )

    @property
    def atoms(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """Each grant row's resource atom as a number (rows with the same kind, id, account
        and key share one: they read the same resource label, zone and account), numbered in
        order of first appearance, and the first row of each number: the parse numbers them
        (``Inventory.arrays["g_atom"]``, ``["g_atom_first"]``)."""
        a = self.inv.arrays
        return a["g_atom"], a["g_atom_first"]

    # -- helpers ------------------------------------------------------------------------
    def count_groups_in(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Per token: how many distinct groups its grant rows in ``mask`` hold."""
        counts = np.zeros(self.n, dtype=np.int64)
        if not mask.any():
            return counts
        pairs = unique_ints(self.tok[mask].astype(np.int64) * 1_000_000 + self.grp[mask])
        np.add.at(counts, pairs // 1_000_000, 1)
        return counts

    def count_groups(self, groups: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Per token: how many distinct groups among ``groups`` (a flag per group code) it
        holds in E(T) (what :meth:`count_groups_in` counts for rows of those groups)."""
        pairs = self.eff_pairs[groups[self.eff_pairs % 1_000_000]]
        return np.bincount(pairs // 1_000_000, minlength=self.n).astype(np.int64)

    def tokens_with(self, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Per token: True when any grant row in ``mask`` belongs to it."""
        out = np.zeros(self.n, dtype=bool)
        out[self.tok[mask]] = True
        return out

    def _since(
        self, key: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Nanoseconds from a date column to now, whole seconds, and where the nanoseconds
        do not fit in 64 bits (dates ~292 years or more from now, such as 0001-01-01 read as
        1677: there the seconds count)."""
        values = self.dates[key].view(np.int64)
        now = self._now_ns
        seconds = now // 10**9 - values // 10**9
        wide = np.abs(seconds) >= 9_000_000_000
        nanos = now - np.where(wide, now, values)
        return nanos, seconds, wide

    def days_since(self, key: str) -> npt.NDArray[np.float64]:
        """Days from a date column to now (NaN where unknown)."""
        nanos, seconds, wide = self._since(key)
        out = nanos / NS_PER_DAY
        out[wide] = seconds[wide] / 86_400
        out[np.isnat(self.dates[key])] = np.nan
        return np.asarray(out, dtype=np.float64)

    def whole_days_since(self, key: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Whole days from a date column to now (rounded down), and where the date is unknown."""
        nanos, seconds, wide = self._since(key)
        days = np.where(wide, seconds // 86_400, nanos // NS_PER_DAY)
        return days.astype(np.int64), np.isnat(self.dates[key])

    def iso_in(self, days: int) -> str:
        """``now + days`` as an RFC 3339 string (for fixes; one per distinct ``days``)."""
        text = self._iso.get(days)
        if text is None:
            when = (self.now_dt + timedelta(days=days)).replace(microsecond=0)
            text = self._iso[days] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        return text

    def _ip_arrays(self) -> None:
        """Per token, from its IP condition: an allowlist without /0 (``has_ip_in``), a /0 in
        it, an open or tight allowlist, a private range, a deny list only, an allowed range
        inside a denied one. Every allow range is read in one bulk call (:func:`cidr_facts`:
        cheaper than finding the distinct texts first)."""
        inv = self.inv
        n = inv.n
        th = self.th
        n_in = np.fromiter(map(len, inv.ip_in), dtype=np.int64, count=n)
        n_out = np.fromiter(map(len, inv.ip_out), dtype=np.int64, count=n)
        ver, plen, priv = cidr_facts(list(chain.from_iterable(inv.ip_in)))
        # every allow range's version and prefix length, token by token (token t's are at
        # ip_in_start[t]:ip_in_start[t + 1]; CFT-NW-02 reads them)
        self.ip_in_start = np.concatenate([[0], np.cumsum(n_in)])
        self.ip_in_version, self.ip_in_prefix = ver, plen
        owner = np.repeat(np.arange(n), n_in)
        zero = _any_by(plen == 0, owner, n)
        real = plen > 0
        # a /0 in the allowlist makes it no allowlist at all: with not_in ranges the
        # condition is only a deny list (CFT-NW-03)
        has_in = _any_by(real, owner, n) & ~zero
        v4, v6 = ver == 4, ver == 6
        wide = (v4 & (plen <= th.open_v4_prefix)) | (v6 & (plen <= th.open_v6_prefix))
        narrow = (v4 & (plen >= th.tight_v4_prefix)) | (v6 & (plen >= th.tight_v6_prefix))
        self.has_ip_in = has_in  # an allowlist without /0
        self.ip_zero = zero
        self.ip_open = has_in & _any_by(real & wide, owner, n)
        self.ip_tight = has_in & ~_any_by(real & ~narrow, owner, n)
        self.ip_private = has_in & _any_by(real & priv, owner, n)
        self.ip_deny_only = (n_out > 0) & ~has_in
        cancels = np.zeros(n, bool)
        for t in np.flatnonzero(has_in & (n_out > 0)).tolist():
            real_nets = [net for net in map(parse_cidr, inv.ip_in[t]) if net.prefixlen > 0]
            denies = [parse_cidr(v) for v in inv.ip_out[t]]
            cancels[t] = any(
                d.version == net.version and net.subnet_of(d)  # type: ignore[arg-type]
                for net in real_nets
                for d in denies
            )
        self.ip_cancels = cancels

    # -- labels -------------------------------------------------------------------------
    def group_name(self, code: int) -> str:
        """The catalogue name of a group code (or the name/id the token gave)."""
        return self.inv.groups.names[code]

    def group_id(self, code: int) -> str:
        """The id of a group code."""
        return self.inv.groups.ids[code]

    def after_apply_note(self, t: int, attr: str, reading: str) -> str:
        """'; <attr> is known only after apply, read as <reading>' for Terraform tokens."""
        if attr not in self.after_apply.get(t, ()):
            return ""
        return f"; {attr} is known only after apply, read as {reading}"

    def resource_label(self, row: int) -> str:
        """The resource of a grant row in words, with names."""
        inv = self.inv
        kind = int(self.kind[row])
        ident = inv.g_rid[row]
        acct = inv.g_racct[row]
        if kind == K_USER:
            return "the user"
        if kind == K_ACCOUNT:
            return f"account {self.dir.account(ident)}"
        if kind == K_ALL_ACCOUNTS:
            return "all accounts"
        if kind == K_ZONE:
            return f"zone {self.dir.zone(ident)}"
        if kind == K_ALL_ZONES_IN:
            return f"all zones of account {self.dir.account(acct)}"
        if kind == K_ALL_ZONES:
            return "all zones of all accounts"
        if kind == K_R2:
            parsed = parse_r2_key(inv.g_rkey[row])
            return r2_label(str(ident), parsed[1] if parsed else None, self.dir.account(acct))
        return f"the unrecognised resource {inv.g_rkey[row]!r}"

    def row_zone(self, row: int) -> str | None:
        """The zone id a grant row names (None for non-zone rows)."""
        return self.inv.g_rid[row] if self.kind[row] == K_ZONE else None

    def row_account(self, row: int) -> str | None:
        """The account id a grant row names or nests under (or the zone's account)."""
        inv = self.inv
        kind = int(self.kind[row])
        if kind == K_ACCOUNT:
            return inv.g_rid[row]
        if kind == K_R2:
            return inv.g_racct[row]
        if kind in (K_ALL_ZONES_IN, K_ZONE):
            acct = inv.g_racct[row]
            if acct is None and kind == K_ZONE:
                return self.dir.zone_account.get(str(inv.g_rid[row]))
            return acct
        return None

    def evidence(self, row: int) -> str:
        """``policy 2 allows DNS Write on all zones of account Acme``."""
        return self.evidence_prefix(row) + self.resource_label(row)

    def evidence_prefix(self, row: int) -> str:
        """The evidence of a grant row up to its resource: ``policy 2 allows DNS Write on ``
        (it depends on the policy, the effect and the group only)."""
        verb = "denies" if self.deny[row] else "allows"
        return f"policy {int(self.pol[row])} {verb} {self.group_name(int(self.grp[row]))} on "

    def token_rows(self, t: int) -> range:
        """The grant rows of token ``t``."""
        return range(self.inv.row_start[t], self.inv.row_end[t])

    def group_names_of(self, t: int, mask: npt.NDArray[np.bool_]) -> list[str]:
        """Distinct group names of token ``t`` among rows in ``mask`` (in order)."""
        start, end = self.inv.row_start[t], self.inv.row_end[t]
        codes = self.grp[start:end][mask[start:end]].tolist()
        names = self.inv.groups.names
        return list(dict.fromkeys([names[code] for code in codes]))


def _after_apply_by_token(unknown: list[Any]) -> dict[int, frozenset[str]]:
    """The attributes known only after apply, by token position (only tokens that have some),
    from each token's ``UNKNOWN_KEY`` value as the parse read it (``Inventory.unknown``)."""
    return {t: frozenset(unknown[t]) for t in compress(range(len(unknown)), unknown)}


def join_names(names: Iterable[str], limit: int = 6) -> str:
    """``a, b and c`` (``… and N more`` past ``limit``)."""
    items = list(names)
    if len(items) > limit:
        return ", ".join(items[:limit]) + f" and {len(items) - limit} more"
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
