"""``AuditExplorer``: browse an audit's findings and read what a token can do.

::

    audit = cft.run_audit(client)
    explorer = cft.AuditExplorer(audit)
    explorer                      # filters, the findings table, a token's explanation

Filters: minimum severity, rule, owner, zone (findings about the zone, or by tokens that can
reach it), a token-name search, and whether suppressed findings show. Selecting a token shows
``audit.explain(token_id)`` and the remediation of each of its findings.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import ipywidgets as w  # type: ignore[import-untyped]

from .._shown import shown_text, terminal
from ..errors import InvalidInput
from ._html import ShownHTML

if TYPE_CHECKING:
    import pandas as pd

    from ..audit.core import Audit

__all__ = ["AuditExplorer"]

ALL = "(all)"
SEVERITIES = ["critical", "high", "medium", "low", "info"]
TABLE_COLUMNS = [
    "severity",
    "rule_id",
    "title",
    "token_name",
    "owner_name",
    "resource",
    "evidence",
]


class AuditExplorer:
    """An ipywidgets view of a :class:`~cftokens.Audit`.

    Widgets (attributes, for notebooks and tests): ``severity`` (minimum), ``rule``, ``owner``,
    ``zone``, ``search`` (token name contains), ``show_suppressed``, ``table`` (HTML),
    ``token`` (the token picker), ``detail`` (explanation and remediation). ``filtered`` is the
    findings DataFrame after the filters; ``selected`` the chosen token id.
    """

    def __init__(self, audit: Audit, *, max_rows: int = 200):
        if not hasattr(audit, "findings") or not hasattr(audit, "explain"):
            raise InvalidInput(
                f"AuditExplorer takes a cftokens.Audit (cftokens.run_audit(client)), got "
                f"{type(audit).__name__}"
            )
        self.audit = audit
        self.max_rows = max_rows
        findings = audit.findings
        self._findings = findings
        rules = sorted({str(r) for r in findings["rule_id"].dropna()})
        titles = dict(zip(findings["rule_id"].astype(str), findings["title"], strict=False))
        owners = sorted({str(o) for o in findings["owner_name"].dropna()})
        self.severity = w.Dropdown(
            options=[(f"{s} and above" if s != "critical" else s, s) for s in SEVERITIES],
            value="info",
            description="Severity",
        )
        self.rule = w.Dropdown(
            options=[(ALL, ALL), *[(f"{r} {titles.get(r, '')}", r) for r in rules]],
            value=ALL,
            description="Rule",
        )
        self.owner = w.Dropdown(
            options=[(ALL, ALL), *[(shown_text(o), o) for o in owners]],
            value=ALL,
            description="Owner",
        )
        self.zone = w.Dropdown(
            options=[(ALL, ALL), *self._zone_options()], value=ALL, description="Zone"
        )
        self.search = w.Text(placeholder="token name contains…", description="Token")
        self.show_suppressed = w.Checkbox(value=False, description="Show suppressed")
        self.count = ShownHTML()
        self.table = ShownHTML()
        self.token = w.Dropdown(
            options=[("(choose a token)", None)], value=None, description="Explain"
        )
        self.detail = ShownHTML()
        self.widget = w.VBox(
            [
                w.HBox([self.severity, self.rule]),
                w.HBox([self.owner, self.zone]),
                w.HBox([self.search, self.show_suppressed]),
                self.count,
                self.table,
                self.token,
                self.detail,
            ]
        )
        for widget in (
            self.severity,
            self.rule,
            self.owner,
            self.zone,
            self.search,
            self.show_suppressed,
        ):
            widget.observe(lambda _c: self._refresh(), names="value")
        self.token.observe(lambda _c: self._show_token(), names="value")
        self._refresh()

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, dict):  # a one-line plain-text fallback, not the widget tree
            bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        return f"<AuditExplorer: {len(self.filtered)} of {len(self._findings)} findings>"

    # -- filters --------------------------------------------------------------------------
    def _zone_options(self) -> list[tuple[str, str]]:
        """The directory's zones by name, then zone ids findings name that the directory does
        not know (e.g. a deleted zone a token still names), labelled as such."""
        directory = getattr(self.audit, "directory", None)
        zones = getattr(directory, "zones", ()) if directory is not None else ()
        seen = {str(z) for z in self._findings["zone_id"].dropna()}
        known = {z.id for z in zones}
        options = sorted((shown_text(z.name), z.id) for z in zones)
        options += [(f"{z} (not in the directory)", z) for z in sorted(seen - known)]
        return options

    def _tokens_reaching(self, zone_id: str) -> set[str]:
        try:
            hits = self.audit.access.expand(zone=zone_id)
        except (AttributeError, InvalidInput):
            return set()
        return {str(t) for t in hits["token_id"].dropna()}

    @property
    def filtered(self) -> pd.DataFrame:
        """The findings left after the filters, most severe first."""
        f = self._findings
        keep = f["severity"].astype(str).map(SEVERITIES.index) <= SEVERITIES.index(
            self.severity.value
        )
        if not self.show_suppressed.value:
            keep &= ~f["suppressed"].fillna(False).astype(bool)
        if self.rule.value != ALL:
            keep &= f["rule_id"].astype(str) == self.rule.value
        if self.owner.value != ALL:
            keep &= f["owner_name"] == self.owner.value
        if self.zone.value != ALL:
            zone = self.zone.value
            reaching = self._tokens_reaching(zone)
            keep &= (f["zone_id"] == zone).fillna(False) | f["token_id"].isin(reaching)
        text = self.search.value.strip().lower()
        if text:
            keep &= f["token_name"].fillna("").str.lower().str.contains(text, regex=False)
        result = f[keep.fillna(False).astype(bool)]
        order = result["severity"].astype(str).map(SEVERITIES.index)
        ranked: pd.DataFrame = result.assign(_order=order).sort_values(
            ["_order", "rule_id"], kind="stable"
        )
        return ranked.drop(columns="_order")

    @property
    def selected(self) -> str | None:
        """The token id chosen in the picker (None when none)."""
        value = self.token.value
        return None if value is None else str(value)

    # -- rendering --------------------------------------------------------------------------
    def _refresh(self) -> None:
        frame = self.filtered
        shown = frame[TABLE_COLUMNS].head(self.max_rows)
        self.count.value = f"<b>{len(frame)}</b> of {len(self._findings)} findings" + (
            f" (first {self.max_rows} shown)" if len(frame) > self.max_rows else ""
        )
        self.table.value = (  # names' control and bidi characters shown as escapes (ShownHTML)
            shown.to_html(index=False, escape=True, na_rep="", classes="cftokens-findings")
            if len(shown)
            else "<i>No finding matches these filters.</i>"
        )
        tokens: dict[str, tuple[str, int]] = {}
        for tid, name in zip(frame["token_id"], frame["token_name"], strict=True):
            if tid is None or (isinstance(tid, float)) or str(tid) in ("<NA>", "nan"):
                continue
            label, count = tokens.get(str(tid), (terminal(name), 0))
            tokens[str(tid)] = (label, count + 1)
        options: list[tuple[str, str | None]] = [("(choose a token)", None)]
        options += [
            (f"{label} ({tid[:8]}…): {count} finding{'s' if count > 1 else ''}", tid)
            for tid, (label, count) in tokens.items()
        ]
        current = self.token.value
        self.token.options = options
        self.token.value = current if current in tokens else None
        self._show_token()

    def _show_token(self) -> None:
        token_id = self.selected
        if token_id is None:
            self.detail.value = ""
            return
        explanation = self.audit.explain(token_id)
        body = (
            explanation._repr_html_()
            if hasattr(explanation, "_repr_html_")
            else f"<pre>{html.escape(str(explanation))}</pre>"
        )
        mine = self.filtered
        mine = mine[mine["token_id"] == token_id]
        items = "".join(
            f"<li><b>[{html.escape(str(r.severity))}] {html.escape(str(r.rule_id))}</b> "
            f"{html.escape(str(r.title))}: {html.escape(str(r.remediation))}</li>"
            for r in mine.itertuples()
        )
        fixes = f"<p><b>Remediation</b></p><ol>{items}</ol>" if items else ""
        self.detail.value = f"<div class='cftokens-explain'>{body}{fixes}</div>"
