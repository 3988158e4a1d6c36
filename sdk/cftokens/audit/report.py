"""Reports: self-contained HTML, versioned JSON, CSV/Parquet folders and SARIF 2.1.0.

Every file is written atomically (a temporary file in the same folder, then a rename), so a
failed run never leaves half a report. Nothing secret can appear: the inventory holds no
secret values (``value`` keys are dropped on the way in) and reports only render its fields.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import shutil
import tempfile
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._text import chart_label, csv_frame
from ..errors import InvalidInput
from ._compat import pandas
from ._inventory import TokenRecord
from .profiles import Profile
from .remediation import token_path
from .rules import RULES, SUPPRESSION_RULE
from .severity import SEVERITY_ORDER
from .suppressions import parse_suppressions

if TYPE_CHECKING:
    from .core import Audit

__all__ = ["read_json", "to_folder", "to_html", "to_json", "to_sarif", "write_atomic"]

SCHEMA = "cftokens.audit/1"
TABLES = ("tokens", "grants", "access", "findings", "gaps", "usage")
_COLOURS = {
    "critical": "#7f0000",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#f9a825",
    "info": "#607d8b",
}
_SARIF_LEVEL = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
_SECURITY_SEVERITY = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
    "info": "1.0",
}
HTML_TOKEN_LIMIT = 500
HTML_CARD_LIMIT = 200
HEATMAP_LIMIT = 40  # zones (the most reached) and tokens drawn in the access heatmap


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and a rename."""
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(f"{target} is a folder; give a file path for the report")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise InvalidInput(f"the folder {parent} does not exist; create it or choose another path")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


# -----------------------------------------------------------------------------------------------
# JSON
# -----------------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    pd = pandas()
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if hasattr(value, "item"):
        return value.item()
    return value


def _records_of(frame: Any) -> list[dict[str, Any]]:
    columns = list(frame.columns)
    return [
        {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def to_dict(audit: Audit) -> dict[str, Any]:
    """The JSON report as a dict (see :func:`to_json`)."""
    from .. import __version__

    inv = audit._inv
    tokens = [
        {
            "kind": r.kind,
            "owner_id": r.owner_id,
            "owner_name": r.owner_name,
            "token": dict(r.payload),
        }
        for r in audit._records
    ]
    usage = audit.usage
    return {
        "schema": SCHEMA,
        "generator": f"cftokens {__version__}",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "now": audit.now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "source": audit.source,
        "profile": audit.profile.to_dict(),
        "summary": audit.summary(),
        "inventory": {
            "user": audit.user,
            "accounts": [a.to_api() for a in audit.directory.accounts],
            "zones": [z.to_api() for z in audit.directory.zones],
            "tokens": tokens,
        },
        "usage": _records_of(usage) if usage is not None else None,
        "collection_gaps": audit._collection_gaps,
        "suppressions": [s.to_dict() for s in audit.suppressions],
        "findings": _records_of(audit.findings),
        "gaps": _records_of(audit.gaps),
        "tokens": _records_of(audit.tokens),
        "n_tokens_parsed": inv.n,
    }


def to_json(audit: Audit, path: str | Path | None, *, indent: int | None = 2) -> str:
    """The versioned JSON report; written atomically when ``path`` is given.

    Schema ``cftokens.audit/1``: ``inventory`` (user, accounts, zones and every token with its
    owner: everything needed to re-run the audit), ``usage``, ``collection_gaps``,
    ``suppressions``, ``profile``, ``now``, plus the results (``summary``, ``findings``,
    ``gaps``, ``tokens``) for readers that do not re-run it.
    """
    text = json.dumps(to_dict(audit), indent=indent, ensure_ascii=False)
    if path is not None:
        write_atomic(path, text)
    return text


def read_json(
    cls: type[Audit], source: str | Path | Mapping[str, Any], overrides: dict[str, Any]
) -> Audit:
    """Re-run an exported audit (see :meth:`Audit.from_json`)."""
    if isinstance(source, Mapping):
        data: Any = source
    else:
        text = str(source)
        if isinstance(source, Path) or not text.lstrip().startswith("{"):
            path = Path(text)
            if not path.is_file():
                raise InvalidInput(f"no audit JSON file at {path}")
            text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, Mapping):
        raise InvalidInput("an audit JSON report is an object with a 'schema' key")
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.startswith("cftokens.audit/"):
        raise InvalidInput(
            f"not a cftokens audit report (schema {schema!r}); export one with audit.to_json()"
        )
    if schema != SCHEMA:
        raise InvalidInput(
            f"audit report schema {schema} is not supported by this version (it reads {SCHEMA}); "
            "upgrade cftokens or re-export"
        )
    inventory = data.get("inventory") or {}
    records = []
    for i, entry in enumerate(inventory.get("tokens") or [], start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("token"), Mapping):
            raise InvalidInput(f"inventory.tokens[{i}] must be an object with a 'token' object")
        kind = entry.get("kind", "user")
        if kind not in ("user", "account"):
            raise InvalidInput(f"inventory.tokens[{i}].kind must be 'user' or 'account'")
        records.append(
            TokenRecord(entry["token"], kind, entry.get("owner_id"), entry.get("owner_name"))
        )
    from ..model.directory import Account, Zone

    now_text = overrides.pop("now", None) or data.get("now")
    now = (
        now_text
        if isinstance(now_text, datetime)
        else datetime.fromisoformat(str(now_text).replace("Z", "+00:00"))
        if now_text
        else None
    )
    profile = overrides.pop("profile", None) or Profile.from_dict(data.get("profile") or {})
    suppressions = overrides.pop("suppressions", None)
    if suppressions is None and data.get("suppressions"):
        suppressions = parse_suppressions(
            data["suppressions"], now=now or datetime.now(UTC), source="report suppressions"
        )
        # lapsed ones are kept: they are reported, not errors
    usage = overrides.pop("usage", None)
    if usage is None:
        usage = data.get("usage")
    if overrides:
        raise InvalidInput(f"unknown argument(s) to from_json: {', '.join(overrides)}")
    return cls(
        records,
        accounts=[Account.from_api(a) for a in inventory.get("accounts") or []],
        zones=[Zone.from_api(z) for z in inventory.get("zones") or []],
        user=inventory.get("user"),
        usage=usage if usage else None,
        now=now,
        profile=profile,
        suppressions=suppressions,
        gaps=data.get("collection_gaps") or [],
        source=f"json ({data.get('source', 'records')})",
    )


# -----------------------------------------------------------------------------------------------
# CSV / Parquet folders
# -----------------------------------------------------------------------------------------------


def to_folder(audit: Audit, folder: str | Path, fmt: str) -> Path:
    """Write every table as ``<name>.csv`` or ``<name>.parquet`` into ``folder`` (replaced
    atomically: the new folder is complete before it takes the old one's place)."""
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise InvalidInput(f"{target} exists and is not a folder")
    if fmt == "parquet":
        try:
            import pyarrow  # type: ignore[import-untyped]  # noqa: F401
        except ImportError:
            raise InvalidInput(
                "to_parquet needs pyarrow: pip install pyarrow (or use to_csv)"
            ) from None
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise InvalidInput(f"the folder {parent} does not exist")
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        for name in TABLES:
            frame = getattr(audit, name)
            if frame is None:
                continue
            if fmt == "csv":
                csv_frame(frame).to_csv(tmp / f"{name}.csv", index=False)
            else:
                frame.to_parquet(tmp / f"{name}.parquet", index=False)
        backup = None
        if target.exists():
            backup = parent / f".{target.name}.old-{os.getpid()}"
            os.replace(target, backup)
        os.replace(tmp, target)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# -----------------------------------------------------------------------------------------------
# SARIF
# -----------------------------------------------------------------------------------------------


def _rule_name(title: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in title.replace("-", " ").split() if w.isalnum())


def sarif_rules() -> list[dict[str, Any]]:
    """The SARIF ``tool.driver.rules`` of every rule (help text from the catalogue)."""
    out = []
    for meta in [*RULES.values(), SUPPRESSION_RULE]:
        help_text = (
            f"{meta.title} ({meta.id}). Fires when: {meta.fires_when}. Severity: {meta.severity}."
            f" Why: {meta.rationale}"
        )
        markdown = (
            f"**{meta.title}** (`{meta.id}`)\n\n*Fires when:* {meta.fires_when}\n\n"
            f"*Severity:* {meta.severity}\n\n*Why it matters:* {meta.rationale}"
            + ("\n\n*Needs usage data* (journal or Audit Logs v2)." if meta.usage else "")
        )
        out.append(
            {
                "id": meta.id,
                "name": _rule_name(meta.title) or meta.id,
                "shortDescription": {"text": meta.title},
                "fullDescription": {"text": f"{meta.help}"},
                "help": {"text": help_text, "markdown": markdown},
                "defaultConfiguration": {"level": _SARIF_LEVEL[meta.default.value]},
                "properties": {
                    "tags": ["security", "cloudflare", "api-token", meta.family],
                    "security-severity": _SECURITY_SEVERITY[meta.default.value],
                    "precision": "high",
                },
            }
        )
    return out


def to_sarif(audit: Audit, path: str | Path | None) -> str:
    """SARIF 2.1.0: one result per finding (suppressed ones carry a SARIF suppression)."""
    rules = sarif_rules()
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    f = audit.findings
    artifact = audit.source[len("terraform:") :] if audit.source.startswith("terraform:") else None
    declared_in = {  # Terraform: the file that declares each token
        str(r.payload.get("id")): str(r.payload["terraform_file"])
        for r in audit._records
        if isinstance(r.payload, Mapping) and isinstance(r.payload.get("terraform_file"), str)
    }
    for row in f.itertuples(index=False):
        sev = str(row.severity)
        tid = row.token_id if isinstance(row.token_id, str) else None
        kind = row.kind if isinstance(row.kind, str) else "user"
        owner = row.owner_id if isinstance(row.owner_id, str) else None
        logical = token_path(tid, kind, owner) if tid else "cloudflare/account"
        uri = (declared_in.get(tid) if tid else None) or artifact
        uri = uri or ("cloudflare" + logical if tid else "cloudflare/credentials")
        message = f"{row.title}: {row.evidence}. {row.remediation}"
        if tid:
            message = f"Token {row.token_name!r} ({tid}): " + message
        result: dict[str, Any] = {
            "ruleId": str(row.rule_id),
            "ruleIndex": index[str(row.rule_id)],
            "level": _SARIF_LEVEL[sev],
            "message": {"text": message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [
                        {
                            "name": str(row.token_name) if tid else "credentials",
                            "fullyQualifiedName": logical,
                            "kind": "resource",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"cftokensFinding/v1": str(row.finding_id)},
            "properties": {
                "severity": sev,
                "security-severity": _SECURITY_SEVERITY[sev],
                "token_id": tid,
                "remediation": str(row.remediation),
            },
        }
        if bool(row.suppressed):
            result["suppressions"] = [{"kind": "external", "justification": str(row.suppression)}]
        results.append(result)
    doc = sarif_log(rules, results, {"profile": audit.profile.name, "summary": audit.summary()})
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if path is not None:
        write_atomic(path, text)
    return text


def sarif_log(
    rules: list[dict[str, Any]], results: list[dict[str, Any]], properties: dict[str, Any]
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one cftokens run (the envelope shared by the audit and the scan)."""
    from .. import __version__

    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cftokens",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "endTimeUtc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                ],
                "results": results,
                "properties": properties,
            }
        ],
    }


# -----------------------------------------------------------------------------------------------
# HTML
# -----------------------------------------------------------------------------------------------


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def charts(audit: Audit) -> dict[str, str]:
    """The report's charts as data URIs: severity by family, age vs last use, access heatmap.

    Labels are plain text: names are drawn with ``parse_math=False`` (a ``$`` is never
    mathtext), LaTeX rendering is off whatever the user's rcParams say, control characters are
    shown as escapes and long names are cut."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    with matplotlib.rc_context({"text.usetex": False}), warnings.catch_warnings():
        # A name in a script the font lacks draws boxes; one warning per glyph helps nobody.
        warnings.filterwarnings("ignore", r"Glyph \d+ .*missing from", UserWarning)
        return _charts(audit)


def _charts(audit: Audit) -> dict[str, str]:
    import matplotlib.pyplot as plt
    import numpy as np

    out: dict[str, str] = {}
    f = audit.findings[~audit.findings["suppressed"].astype(bool)]
    families = ["PE", "SC", "RK", "LC", "NW", "LN", "ID", "SUP"]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    bottom = np.zeros(len(families))
    for sev in reversed(SEVERITY_ORDER):
        counts = np.array(
            [int(((f["family"] == fam) & (f["severity"] == sev)).sum()) for fam in families]
        )
        ax.bar(families, counts, bottom=bottom, color=_COLOURS[sev], label=sev)
        bottom += counts
    ax.set_ylabel("open findings")
    ax.set_title("Findings by rule family and severity")
    ax.set_ylim(0, max(1.0, float(bottom.max())) * 1.08)
    # Outside the axes, so no bar hides behind it.
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    out["severity"] = _png(fig)

    t = audit.tokens
    fig, ax = plt.subplots(figsize=(7, 3.6))
    age = t["age_days"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    used = t["days_since_used"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    never = np.isnan(used)
    top = np.nanmax(np.append(age, 1.0)) if len(age) else 1.0
    used_plot = np.where(never, top * 1.08, used)
    colours = [
        _COLOURS.get(str(s), "#2e7d32") if isinstance(s, str) else "#2e7d32"
        for s in t["max_severity"]
    ]
    ax.scatter(age, used_plot, c=colours, s=28, alpha=0.8, edgecolors="none")
    ax.axhline(top * 1.04, color="#999", lw=0.6, ls=":")
    ax.set_ylim(bottom=-top * 0.03, top=top * 1.16)
    ax.text(
        1.0, top * 1.12, "never used ", fontsize=8, color="#555", ha="right", va="center",
        transform=ax.get_yaxis_transform(),
    )  # fmt: skip
    ax.set_xlabel("token age (days since issued)")
    ax.set_ylabel("days since last use")
    ax.set_title("Token age vs last use (colour: worst open severity)")
    out["age"] = _png(fig)

    matrix = audit.access_matrix(limit=HEATMAP_LIMIT)
    note = str(matrix.attrs.get("note", ""))
    if len(matrix) > HEATMAP_LIMIT:
        note += f"; the {HEATMAP_LIMIT} of {len(matrix):,} tokens with the most groups there drawn"
    out["heatmap_note"] = note
    if len(matrix):
        matrix = matrix.loc[matrix.sum(axis=1).sort_values(ascending=False).index[:HEATMAP_LIMIT]]
        matrix = matrix[matrix.sum(axis=0).sort_values(ascending=False).index]
        height = max(2.5, 0.28 * len(matrix) + 1.2)
        width = max(5.0, 0.32 * len(matrix.columns) + 3)
        fig, ax = plt.subplots(figsize=(min(width, 14), min(height, 14)))
        image = ax.imshow(matrix.to_numpy(), cmap="Reds", aspect="auto")
        ax.set_xticks(
            range(len(matrix.columns)),
            [chart_label(c) for c in matrix.columns],
            rotation=60,
            ha="right",
            fontsize=7,
            parse_math=False,
        )
        ax.set_yticks(
            range(len(matrix.index)),
            [chart_label(i) for i in matrix.index],
            fontsize=7,
            parse_math=False,
        )
        fig.colorbar(image, ax=ax, label="permission groups")
        ax.set_title("Access: permission groups per token and zone")
        out["heatmap"] = _png(fig)
    return out


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #eee;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:13px;margin:.5em 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f5f5f5}
.sev{color:#fff;padding:1px 7px;border-radius:3px;font-size:12px;white-space:nowrap}
.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em;margin:1em 0}
.card h3{margin:.2em 0}.muted{color:#666;font-size:13px}pre{background:#f7f7f7;padding:.6em;
overflow-x:auto;font-size:12px}.badges span{margin-right:6px}img{max-width:100%}
.supp{opacity:.6}code{font-size:12px}
"""


def _sev(value: Any) -> str:
    text = str(value) if isinstance(value, str) else "none"
    colour = _COLOURS.get(text, "#2e7d32")
    return f"<span class='sev' style='background:{colour}'>{html.escape(text)}</span>"


def _cell(value: Any) -> str:
    value = _jsonable(value)
    return "" if value is None else html.escape(str(value))


def to_html(audit: Audit, path: str | Path | None) -> str:
    """One self-contained HTML file: summary, charts, token table, per-token cards with
    findings and remediation, gaps and the rule catalogue. No network assets."""
    esc = html.escape
    s = audit.summary()
    try:
        images = charts(audit)
    except Exception as exc:  # a chart is never worth losing the report
        images = {}
        chart_note = f"charts not drawn ({type(exc).__name__}: {exc})"
        warnings.warn(f"cftokens audit report: {chart_note}", RuntimeWarning, stacklevel=3)
    else:
        chart_note = ""
    worst = audit.worst_tokens(len(audit.tokens))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>cftokens audit, {audit.now:%Y-%m-%d}</title><style>{_CSS}</style></head><body>",
        "<h1>Cloudflare API token audit</h1>",
        f"<p class='muted'>{s['tokens']} tokens ({s['live_tokens']} live; {s['user_tokens']} "
        f"user-owned, {s['account_tokens']} account-owned) · profile {esc(audit.profile.name)} · "
        f"as of {audit.now:%Y-%m-%d %H:%M} UTC · source {esc(audit.source)}</p>",
        "<div class='badges'>"
        + "".join(f"{_sev(k)} {v} &nbsp;" for k, v in s["findings"].items())
        + f" · {s['suppressed']} suppressed · {s['gaps']} gap(s)</div>",
        "<h2>Summary</h2>",
    ]
    if chart_note:
        parts.append(f"<p class='muted'>{esc(chart_note)}</p>")
    if images.get("severity"):
        parts.append(f"<img alt='findings by rule family and severity' src='{images['severity']}'>")
    if images.get("age"):
        parts.append(f"<img alt='token age versus last use' src='{images['age']}'>")
    parts.append(
        "<h2>Tokens</h2><table><thead><tr><th>name</th><th>kind</th><th>owner</th>"
        "<th>status</th><th>worst</th><th>findings</th><th>risk score</th>"
        "<th>write groups</th><th>expires</th><th>IP allowlist</th></tr></thead><tbody>"
    )
    for r in worst.head(HTML_TOKEN_LIMIT).itertuples():
        parts.append(
            f"<tr><td><a href='#t-{esc(str(r.token_id))}'>{_cell(r.name)}</a><br>"
            f"<code>{_cell(r.token_id)}</code></td><td>{_cell(r.kind)}</td>"
            f"<td>{_cell(r.owner_name)}</td><td>{_cell(r.status)}</td>"
            f"<td>{_sev(r.max_severity)}</td><td>{_cell(r.n_findings)}</td>"
            f"<td>{_cell(r.risk_score)}</td><td>{_cell(r.write_groups)}</td>"
            f"<td>{_cell(r.expires_on) or 'never'}</td><td>{_cell(r.ip_allow) or 'any'}</td></tr>"
        )
    parts.append("</tbody></table>")
    if len(worst) > HTML_TOKEN_LIMIT:
        parts.append(
            f"<p class='muted'>Showing the {HTML_TOKEN_LIMIT} worst of {len(worst)} tokens; "
            "the JSON, CSV and Parquet reports hold all of them.</p>"
        )
    if images.get("heatmap"):
        parts.append("<h2>Access matrix</h2>")
        parts.append(f"<img alt='access heatmap of tokens by zone' src='{images['heatmap']}'>")
        parts.append(f"<p class='muted'>{esc(images.get('heatmap_note', ''))}.</p>")
    parts.append("<h2>Tokens with findings</h2>")
    f = audit.findings
    with_findings = worst[worst["n_findings"].fillna(0) > 0]
    for r in with_findings.head(HTML_CARD_LIMIT).itertuples():
        tid = str(r.token_id)
        mine = f.iloc[audit._finding_positions(tid)]
        parts.append(
            f"<div class='card' id='t-{esc(tid)}'><h3>{_cell(r.name)} {_sev(r.max_severity)}</h3>"
            f"<p class='muted'><code>{esc(tid)}</code> · {_cell(r.kind)}-owned by "
            f"{_cell(r.owner_name)} · {_cell(r.status)} · expires {_cell(r.expires_on) or 'never'}"
            f" · IPs {_cell(r.ip_allow) or 'any'} · risk score {_cell(r.risk_score)}</p>"
            "<table><thead><tr><th>severity</th><th>rule</th><th>evidence</th>"
            "<th>remediation</th></tr></thead><tbody>"
        )
        for x in mine.itertuples():
            cls = " class='supp'" if bool(x.suppressed) else ""
            note = f"<br><em>suppressed: {_cell(x.suppression)}</em>" if bool(x.suppressed) else ""
            parts.append(
                f"<tr{cls}><td>{_sev(x.severity)}</td><td><code>{_cell(x.rule_id)}</code><br>"
                f"{_cell(x.title)}</td><td>{_cell(x.evidence)}{note}</td>"
                f"<td>{_cell(x.remediation)}</td></tr>"
            )
        parts.append("</tbody></table>")
        fix = audit.fix(tid)
        if fix.body is not None or fix.method == "DELETE":
            body = "" if fix.body is None else json.dumps(fix.body, indent=2)
            warn = (
                ""
                if fix.complete
                else " <strong>(fill in the REPLACE-WITH-… placeholders first)</strong>"
            )
            parts.append(
                f"<p><strong>Fix</strong>: {esc(fix.summary)}{warn}</p>"
                f"<pre>{esc(fix.method)} {esc(fix.path)}\n{esc(body)}</pre>"
            )
        parts.append("</div>")
    if len(with_findings) > HTML_CARD_LIMIT:
        parts.append(
            f"<p class='muted'>{len(with_findings) - HTML_CARD_LIMIT} more tokens have findings: "
            "see the JSON or CSV report.</p>"
        )
    other = f[f["token_id"].isna()]
    if len(other):
        parts.append(
            "<h2>Findings not tied to a token</h2><table><thead><tr><th>severity</th>"
            "<th>rule</th><th>evidence</th><th>remediation</th></tr></thead><tbody>"
        )
        for x in other.itertuples():
            parts.append(
                f"<tr><td>{_sev(x.severity)}</td><td><code>{_cell(x.rule_id)}</code> "
                f"{_cell(x.title)}</td><td>{_cell(x.evidence)}</td><td>{_cell(x.remediation)}</td></tr>"
            )
        parts.append("</tbody></table>")
    gaps = audit.gaps
    parts.append("<h2>Gaps</h2>")
    if len(gaps):
        parts.append(
            "<table><thead><tr><th>kind</th><th>what</th><th>reason</th></tr></thead><tbody>"
        )
        for g in gaps.itertuples():
            parts.append(
                f"<tr><td>{_cell(g.kind)}</td><td>{_cell(g.what)}</td><td>{_cell(g.reason)}</td></tr>"
            )
        parts.append("</tbody></table>")
    else:
        parts.append("<p>Everything was collected and every rule was evaluated.</p>")
    parts.append(
        "<h2>Rules</h2><table><thead><tr><th>id</th><th>title</th><th>severity</th>"
        "<th>fires when</th><th>why</th></tr></thead><tbody>"
    )
    for meta in RULES.values():
        enabled = "" if audit.profile.enabled(meta.id) else " (off in this profile)"
        parts.append(
            f"<tr><td><code>{esc(meta.id)}</code></td><td>{esc(meta.title)}{esc(enabled)}</td>"
            f"<td>{esc(meta.severity)}</td><td>{esc(meta.fires_when)}</td>"
            f"<td>{esc(meta.rationale)}</td></tr>"
        )
    parts.append("</tbody></table>")
    parts.append(
        "<p class='muted'>Generated by cftokens. Secrets are never collected: the inventory "
        "holds token metadata only.</p></body></html>"
    )
    text = "\n".join(parts)
    if path is not None:
        write_atomic(path, text)
    return text
