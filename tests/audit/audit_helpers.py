"""Builders for hand-written token inventories used by the audit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

from cftokens.audit import Audit

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ACCT = "a1" * 16
ACCT2 = "a2" * 16
ZONE = "b1" * 16
ZONE2 = "b2" * 16
ZONE3 = "b3" * 16  # in ACCT2
USER = "c1" * 16
PUBLIC = "34.120.1.0/24"  # a real public /24: tight, not private

ACCOUNTS = [{"id": ACCT, "name": "Acme Production"}, {"id": ACCT2, "name": "Acme Staging"}]
ZONES = [
    {"id": ZONE, "name": "example.com", "account": {"id": ACCT}},
    {"id": ZONE2, "name": "shop.example.com", "account": {"id": ACCT}},
    {"id": ZONE3, "name": "staging.example.com", "account": {"id": ACCT2}},
]

_counter = [0]


def iso(days: float) -> str:
    """``NOW + days`` in the API's format."""
    return (NOW + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone(z: str) -> dict[str, Any]:
    return {f"com.cloudflare.api.account.zone.{z}": "*"}


def account(a: str) -> dict[str, Any]:
    return {f"com.cloudflare.api.account.{a}": "*"}


def zones_of(a: str) -> dict[str, Any]:
    return {f"com.cloudflare.api.account.{a}": {"com.cloudflare.api.account.zone.*": "*"}}


ALL_ZONES = {"com.cloudflare.api.account.zone.*": "*"}
ALL_ACCOUNTS = {"com.cloudflare.api.account.*": "*"}
USER_RES = {f"com.cloudflare.api.user.{USER}": "*"}


def policy(effect: str, groups: list[str], *resources: dict[str, Any]) -> dict[str, Any]:
    """A wire policy; groups by catalogue name (``("Logs Read", "zone")`` for ambiguous ones)."""
    import cftokens as cft

    refs = []
    for g in groups:
        if isinstance(g, tuple):
            group = cft.permission_groups.get(g[0], scope=g[1])
        elif len(g) == 32 and all(c in "0123456789abcdef" for c in g):
            refs.append({"id": g})
            continue
        else:
            group = cft.permission_groups.lookup(g)[0]
        refs.append({"id": group.id, "name": group.name})
    merged: dict[str, Any] = {}
    for r in resources:
        merged.update(r)
    return {"effect": effect, "permission_groups": refs, "resources": merged}


def allow(groups: list[Any], *resources: dict[str, Any]) -> dict[str, Any]:
    return policy("allow", groups, *resources)


def deny(groups: list[Any], *resources: dict[str, Any]) -> dict[str, Any]:
    return policy("deny", groups, *resources)


def every_account_write(*resources: dict[str, Any]) -> dict[str, Any]:
    """An allow of every account-scoped write group of the catalogue on ``resources`` (merged):
    admin-equivalence as CFT-PE-06 reads it."""
    import cftokens as cft

    groups = [
        {"id": g.id, "name": g.name}
        for g in cft.permission_groups
        if g.scope is cft.Scope.ACCOUNT and g.level is cft.Level.WRITE
    ]
    merged: dict[str, Any] = {}
    for r in resources:
        merged.update(r)
    return {"effect": "allow", "permission_groups": groups, "resources": merged}


def token(
    name: str,
    *policies: dict[str, Any],
    status: str = "active",
    issued: float | None = -10,
    modified: float | None = None,
    last_used: float | None = -1,
    expires: float | None = 20,
    not_before: float | None = None,
    ip_in: list[str] | None = None,
    ip_out: list[str] | None = None,
    token_id: str | None = None,
) -> dict[str, Any]:
    """A token dict; times are days relative to ``NOW``; IPs default to a tight public /24."""
    _counter[0] += 1
    tid = token_id or f"{_counter[0]:032x}"
    result: dict[str, Any] = {"id": tid, "name": name, "status": status, "policies": list(policies)}
    for key, value in (
        ("issued_on", issued),
        ("modified_on", modified),
        ("last_used_on", last_used),
        ("expires_on", expires),
        ("not_before", not_before),
    ):
        if value is not None:
            result[key] = iso(value)
    ips = [PUBLIC] if ip_in is None else ip_in
    cond: dict[str, Any] = {}
    if ips:
        cond["in"] = ips
    if ip_out:
        cond["not_in"] = ip_out
    if cond:
        result["condition"] = {"request.ip": cond}
    return result


def good(name: str = "good", **kw: Any) -> dict[str, Any]:
    """A least-privilege token: DNS Write on one zone, tight IPs, expires in 20 days, in use."""
    return token(name, allow(["DNS Write"], zone(ZONE)), **kw)


def run(
    *tokens: dict[str, Any],
    account_tokens: dict[str, list[dict[str, Any]]] | None = None,
    **kwargs: Any,
) -> Audit:
    """Audit user tokens (owned by USER) and account tokens at ``NOW``."""
    kwargs.setdefault("now", NOW)
    return Audit.from_records(
        tokens=list(tokens),
        account_tokens=account_tokens,
        accounts=ACCOUNTS,
        zones=ZONES,
        user={"id": USER, "email": "owner@example.com"},
        **kwargs,
    )


def hits(audit: Audit, rule: str, name: str | None = None) -> Any:
    """Findings of ``rule`` (on the token called ``name``)."""
    f = audit.findings
    mask = f["rule_id"] == rule
    if name is not None:
        mask &= f["token_name"] == name
    return f[mask.fillna(False)]


#: The elements the HTML report's SVG charts are made of (html.parser lowercases tag names).
SVG_ELEMENTS = frozenset(
    {"svg", "title", "desc", "g", "rect", "text", "line", "path", "defs", "lineargradient", "stop"}
)


class Markup(HTMLParser):
    """A page parsed with ``html.parser``: every element (tag and attributes, in order), the
    open elements around each text, and the charts' texts (inside an ``<svg>``)."""

    VOID = frozenset({"meta", "br", "img", "hr", "input", "link", "wbr"})

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None], tuple[str, ...]]] = []
        self.stack: list[str] = []
        self.texts: list[tuple[str, tuple[str, ...]]] = []  # each text and the tags around it
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), tuple(self.stack)))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs), tuple(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or tag not in self.stack:
            return
        while self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.texts.append((data, tuple(self.stack)))

    @property
    def svg_texts(self) -> list[str]:
        """The texts inside the charts (an ``<svg>``)."""
        return [data for data, around in self.texts if "svg" in around]

    def vocabulary(self) -> set[tuple[str, tuple[str, ...]]]:
        """Each kind of element: its tag and its attributes' names."""
        return {(tag, tuple(sorted(attrs))) for tag, attrs, _ in self.elements}


def assert_markup_is_the_reports_own(page: str) -> Markup:
    """``page`` (an HTML report) holds no element, handler, link or style that could come from
    data: no script, frame, object, image or foreignObject; no ``on…`` attribute; SVG charts
    made only of :data:`SVG_ELEMENTS` with no style attribute; every reference internal
    (``#…`` or ``url(#chart-…)``); one stylesheet, in the head. Returns the parsed page."""
    markup = Markup(page)
    banned = {"script", "iframe", "frame", "object", "embed", "img", "image", "foreignobject",
              "use", "link", "base", "form", "input", "button", "animate", "set"}  # fmt: skip
    styles = 0
    for tag, attrs, around in markup.elements:
        assert tag not in banned, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, value)
            text = (value or "").lower()
            assert "javascript:" not in text and "data:" not in text, (tag, name, value)
            if name in ("href", "xlink:href", "src", "action", "formaction"):
                assert text.startswith("#"), (tag, name, value)
            if "url(" in text:
                assert text.startswith("url(#chart-"), (tag, name, value)
        if "svg" in around or tag == "svg":
            assert tag in SVG_ELEMENTS, (tag, around)
            assert "style" not in attrs and "href" not in attrs, (tag, attrs)
        if tag == "style":
            styles += 1
            assert around == ("html", "head"), around
    assert styles == 1
    return markup


# -- values no JSON or marshal writes: nesting and cycles -------------------------------------


def deep(levels: int) -> list[Any]:
    """``levels`` lists, each the only item of the one before."""
    top: list[Any] = []
    cur = top
    for _ in range(levels):
        nxt: list[Any] = []
        cur.append(nxt)
        cur = nxt
    return top


def cycle_of_list() -> list[Any]:
    """A list that holds itself."""
    loop: list[Any] = ["x"]
    loop.append(loop)
    return loop


def tuple_cycle() -> list[Any]:
    """A list holding a tuple that holds the list: marshal writes and reads it back whole."""
    loop: list[Any] = ["x"]
    loop.append((loop,))
    return loop


# -- frames compared exactly, fast ---------------------------------------------------------------


def assert_frames_identical(got: Any, expected: Any, obj: str = "DataFrame") -> None:
    """``pd.testing.assert_frame_equal(got, expected, obj=obj, check_exact=True)``, decided
    first by a cheaper comparison that passes only frames it passes (~6x faster on an audit's
    frames, which the differential tests compare by the hundred): the same frame type and
    flags, range indexes equal, the same column labels (names and dtype), the same dtypes
    (categories in the same order), no object columns, and ``DataFrame.equals`` (every value
    exactly equal, NA in the same places). Anything else goes to ``assert_frame_equal``,
    which then names the difference."""
    import pandas as pd

    if not _identical_frames(got, expected):
        pd.testing.assert_frame_equal(got, expected, obj=obj, check_exact=True)


def _identical_frames(a: Any, b: Any) -> bool:
    import pandas as pd

    if type(a) is not pd.DataFrame or type(b) is not pd.DataFrame:
        return False
    if a.flags.allows_duplicate_labels != b.flags.allows_duplicate_labels:
        return False
    for x, y in ((a.index, b.index), (a.columns, b.columns)):
        if type(x) is not type(y) or type(x) not in (pd.RangeIndex, pd.Index):
            return False
        if x.dtype != y.dtype or x.names != y.names or not x.equals(y):
            return False
    dtypes, others = a.dtypes.tolist(), b.dtypes.tolist()
    if dtypes != others or any(str(t) == "object" for t in dtypes):
        return False
    for t, u in zip(dtypes, others, strict=True):
        if isinstance(t, pd.CategoricalDtype) and not (
            t.ordered == u.ordered
            and t.categories.dtype == u.categories.dtype
            and t.categories.equals(u.categories)
        ):
            return False
    return bool(a.equals(b))
