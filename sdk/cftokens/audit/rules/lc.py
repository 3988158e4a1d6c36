"""The ``CFT-LC-xx`` rules: lifecycle (expiry, rotation, use)."""

from __future__ import annotations

import numpy as np

from .._context import Ctx
from ..severity import Severity
from ..steps import (
    Disable,
    RollSecret,
    SetExpiry,
)
from .base import (
    Coded,
    Hits,
    Rule,
    day_numbers,
    known_after_apply,
    rule,
    whole_days,
)

# ---------------------------------------------------------------------------------------------
# LC: lifecycle
# ---------------------------------------------------------------------------------------------


@rule(
    "CFT-LC-01",
    "No expiration",
    "medium; high with W(T) non-empty",
    Severity.MEDIUM,
    "live and expires_on is null",
    "A token without expires_on works until someone remembers to revoke it.",
)
def lc_01(ctx: Ctx, r: Rule) -> Hits:
    """Forgotten tokens are the common leak: an expiry makes a forgotten token stop working on
    its own."""
    hits = Hits(r.id)
    toks = np.flatnonzero(ctx.live & ~ctx.has_expiry)
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    write = ctx.has_write[toks]
    noted = known_after_apply(ctx, "expires_on")[toks]
    days = ctx.th.fix_expiry_days
    hits.extend(
        toks,
        np.where(write, Severity.HIGH.rank, Severity.MEDIUM.rank),
        Coded.per_key(
            lambda i: (
                "expires_on is not set"
                + (" and the token can write" if write[i] else "")
                + ctx.after_apply_note(int(toks[i]), "expires_on", "never expiring")
            ),
            write,
            noted,
        ),
        "The token never expires.",
        f"Set expires_on (e.g. {ctx.iso_in(days)}, {days} days from now) and rotate before then.",
        SetExpiry(expires_on=ctx.iso_in(days)),
    )
    return hits


@rule(
    "CFT-LC-02",
    "Lifetime exceeds policy",
    "low",
    Severity.LOW,
    "expires_on − (not_before or issued_on; the audit's now for a token not created yet) > "
    "366 days (90 with writes)",
    "Long lifetimes make expiry a formality.",
)
def lc_02(ctx: Ctx, r: Rule) -> Hits:
    """A lifetime of years makes expiry a formality; shorter lifetimes force rotation."""
    hits = Hits(r.id)
    exp = ctx.dates["expires_on"]
    start = np.where(
        np.isnat(ctx.dates["not_before"]), ctx.dates["issued_on"], ctx.dates["not_before"]
    )
    valid = ~np.isnat(exp) & ~np.isnat(start)
    days = np.full(ctx.n, np.nan)
    # in microseconds, as CFT-LC-03 counts: nanoseconds wrap 292 years apart (dates clamped to
    # 1677 and 2262 are 584 years apart)
    lifetime = exp[valid].astype("datetime64[us]") - start[valid].astype("datetime64[us]")
    days[valid] = lifetime.astype("timedelta64[s]").astype(np.int64) / 86_400
    limit = np.where(ctx.has_write, ctx.th.lifetime_write_days, ctx.th.lifetime_days)
    toks = np.flatnonzero(valid & (days > limit))
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    write = ctx.has_write[toks]
    lim = limit[toks].astype(np.int64)
    new = ctx.not_created[toks] & np.isnat(ctx.dates["not_before"][toks])
    begin, end, span = start[toks], exp[toks], days[toks]

    def evidence(i: int) -> str:
        since = "from its creation, taken as the audit's now " if new[i] else ""
        return (
            f"valid for {span[i]:.0f} days {since}({str(begin[i])[:10]} to {str(end[i])[:10]}); "
            f"the limit is {lim[i]}" + (" for tokens that can write" if write[i] else "")
        )

    fixes = Coded.per_key(
        lambda i: (
            f"Shorten expires_on to at most {lim[i]} days after it became valid, or to "
            f"{ctx.iso_in(int(lim[i]))} at the latest.",
            SetExpiry(expires_on=ctx.iso_in(int(lim[i]))),
        ),
        lim,
    )
    hits.extend(
        toks,
        Severity.LOW,
        Coded.per_key(
            evidence, whole_days(span), new, day_numbers(begin), day_numbers(end), lim, write
        ),
        "The token's lifetime is longer than policy allows.",
        Coded([text for text, _ in fixes.values], fixes.codes),
        Coded([fix for _, fix in fixes.values], fixes.codes),
    )
    return hits


@rule(
    "CFT-LC-03",
    "Rotation overdue",
    "medium",
    Severity.MEDIUM,
    "live and now − last secret change > 90 days (last roll seen in usage/audit logs, else "
    "issued_on, else modified_on labelled approximate)",
    "A secret that never changes has had the longest time to leak.",
)
def lc_03(ctx: Ctx, r: Rule) -> Hits:
    """The older a secret, the more places it has been copied to; rolling it regularly bounds
    how long a copied secret stays useful."""
    hits = Hits(r.id)
    issued = ctx.dates["issued_on"]
    modified = ctx.dates["modified_on"]
    rolls = ctx.usage.last_rolls() if ctx.usage is not None else {}
    limit = ctx.th.rotation_days
    live = np.flatnonzero(ctx.live)
    # the last secret change: a roll seen in usage, else issued_on, else modified_on
    rolled = np.full(ctx.n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    for tid, when in rolls.items():  # (the index of ids is made only when there are rolls)
        t = ctx.token_index.get(tid)
        if t is not None:
            rolled[t] = when
    basis = np.select([~np.isnat(rolled), ~np.isnat(issued), ~np.isnat(modified)], [0, 1, 2], 3)
    since_all = np.where(basis == 0, rolled, np.where(basis == 1, issued, modified))
    toks = live[basis[live] < 3]
    since = since_all[toks]
    # in microseconds (every date here is whole microseconds): nanoseconds wrap 292 years
    # apart, and a date clamped to 1677 (0001-01-01 in the token) is further than that
    elapsed = ctx.now.astype("datetime64[us]") - since.astype("datetime64[us]")
    age = elapsed.astype("timedelta64[s]").astype(np.int64) / 86_400
    fire = age > limit
    toks, since, age = toks[fire], since[fire], age[fire]
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    bases = (
        "last roll seen in usage",
        "issued_on",
        "modified_on (approximate: any change counts)",
    )
    how = basis[toks]
    hits.extend(
        toks,
        Severity.MEDIUM,
        Coded.per_key(
            lambda i: (
                f"secret unchanged for {age[i]:.0f} days (since {str(since[i])[:10]}, "
                f"from {bases[how[i]]})"
            ),
            whole_days(age),
            day_numbers(since),
            how,
        ),
        f"The secret is older than {limit} days.",
        "Roll the secret (PUT …/tokens/{id}/value) and update where it is stored.",
        RollSecret(),
    )
    return hits


@rule(
    "CFT-LC-04",
    "Stale token",
    "medium",
    Severity.MEDIUM,
    "live, last_used_on set and ≥ 45 days ago",
    "A live token nobody has used for weeks is probably forgotten, but still works.",
)
def lc_04(ctx: Ctx, r: Rule) -> Hits:
    """A token unused for weeks is probably forgotten, yet still works for whoever finds it."""
    hits = Hits(r.id)
    since = ctx.days_since("last_used_on")
    fire = ctx.live & ~np.isnan(since) & (since >= ctx.th.stale_days)
    toks = np.flatnonzero(fire)
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    days = since[toks]
    used = ctx.dates["last_used_on"][toks]
    hits.extend(
        toks,
        Severity.MEDIUM,
        Coded.per_key(
            lambda i: f"last used {days[i]:.0f} days ago ({str(used[i])[:10]})",
            whole_days(days),
            day_numbers(used),
        ),
        f"The token has not been used for {ctx.th.stale_days} days or more.",
        "Disable it now and delete it after a grace period if nothing breaks.",
        Disable(),
    )
    return hits


@rule(
    "CFT-LC-05",
    "Never used",
    "medium; low without writes",
    Severity.MEDIUM,
    "live, last_used_on null, issued ≥ 7 days ago",
    "A token never used since it was created is probably not needed.",
)
def lc_05(ctx: Ctx, r: Rule) -> Hits:
    """A token created and never used is usually a leftover; it is exposure with no job."""
    hits = Hits(r.id)
    issued_days = ctx.days_since("issued_on")
    fire = (
        ctx.live
        & np.isnat(ctx.dates["last_used_on"])
        & ~np.isnan(issued_days)
        & (issued_days >= ctx.th.never_used_grace_days)
    )
    toks = np.flatnonzero(fire)
    if not len(toks):  # no finding possible: nothing more to work out
        return hits
    days = issued_days[toks]
    hits.extend(
        toks,
        np.where(ctx.has_write[toks], Severity.MEDIUM.rank, Severity.LOW.rank),
        Coded.per_key(lambda i: f"issued {days[i]:.0f} days ago and never used", whole_days(days)),
        "The token has never been used.",
        "Disable it; delete it if nobody asks for it back.",
        Disable(),
    )
    return hits
