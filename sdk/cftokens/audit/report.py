"""Reports: versioned JSON, CSV/Parquet folders and SARIF 2.1.0 (the HTML report is
:mod:`cftokens.audit.report_html`).

Every file is written atomically (a temporary file in the same folder, then a rename), so a
failed run never leaves half a report. Nothing secret can appear: the inventory holds no
secret values (``value`` keys are dropped on the way in) and reports only render its fields.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .. import __version__
from .._doc import expect, optional_text, parse_text
from .._files import write_atomic
from .._sarif import sarif_log
from .._text import csv_frame, unicode_text, unicode_tree, utf8_encodable
from ..errors import InvalidInput, redact, shown
from ..model._util import parse_datetime
from ..model.directory import Account, Zone
from ._inventory import TokenRecord
from .profiles import Profile
from .records import labelled_objects
from .remediation import token_path
from .rules import RULES, SUPPRESSION_RULE
from .suppressions import parse_suppressions

if TYPE_CHECKING:
    from .core import Audit

__all__ = ["jsonable", "read_json", "to_folder", "to_json", "to_sarif", "write_atomic"]

SCHEMA = "cftokens.audit/1"
TABLES = ("tokens", "grants", "access", "findings", "gaps", "usage")
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


# -----------------------------------------------------------------------------------------------
# JSON
# -----------------------------------------------------------------------------------------------


def jsonable(value: object) -> object:
    import pandas as pd

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
    """Each row of ``frame`` as a dict of JSON values (:func:`jsonable`): the rows
    ``itertuples`` gives, read column by column (each column's values once, then zipped into
    rows: ``itertuples`` reads every column through ``iloc`` first, most of the time of a
    small frame's records)."""
    columns = list(frame.columns)
    if not columns:
        return [{} for _ in range(len(frame))]
    values = [_column_values(column) for _, column in frame.items()]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)]


_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def _column_values(column: Any) -> list[Any]:
    """``[jsonable(v) for v in column]``, by the column's dtype in a few C-level passes (a
    100,000-token audit's frames hold millions of cells): text and categories as Python
    text, masked and NumPy numbers as Python numbers (NaN, NA, NaT as None), times as
    :func:`jsonable` writes them; any other dtype value by value."""
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        lookup = [*map(jsonable, dtype.categories.tolist()), None]  # code -1: missing
        return [lookup[code] for code in column.cat.codes.tolist()]
    if isinstance(dtype, pd.StringDtype):
        return list(column.to_numpy(dtype=object, na_value=None).tolist())
    if isinstance(dtype, pd.DatetimeTZDtype) or dtype == "datetime64[ns]":
        text = column.dt.strftime(_TIME_FORMAT)
        return list(text.to_numpy(dtype=object, na_value=None).tolist())
    if dtype.kind in "biuf":  # (NumPy's or a masked array's: Int64, boolean, Float64)
        missing = column.isna().to_numpy().tolist()
        plain = column.to_numpy(dtype=object, na_value=None).tolist()
        return [
            None if gone or (type(v) is float and math.isnan(v)) else _python(v)
            for v, gone in zip(plain, missing, strict=True)
        ]
    return list(map(jsonable, column))


#: The values orjson and the standard library write alike (a float is not: exponents, NaN)
_PLAIN_JSON = (str, int, bool, type(None))


def _may_differ(dtype: Any) -> bool:
    """Whether a column of ``dtype`` may give :func:`_column_values` a value orjson could
    write otherwise than the standard library (a float, a list or object that may hold one,
    a cycle): not text, times, integers or booleans; categories only when one of them is not
    text, an integer or a boolean."""
    import pandas as pd

    if isinstance(dtype, pd.CategoricalDtype):
        return any(type(jsonable(c)) not in _PLAIN_JSON for c in dtype.categories.tolist())
    if isinstance(dtype, pd.StringDtype | pd.DatetimeTZDtype):
        return False
    return dtype.kind not in "biuMm"


def _python(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds (:func:`jsonable`'s ``item()``)."""
    return value.item() if hasattr(value, "item") else value


def _json_text(data: Any, indent: int | None, exact: Any = None) -> bytes:
    """``json.dumps(data, indent=indent, ensure_ascii=False)`` through :func:`unicode_text`,
    as UTF-8, byte for byte. With ``indent=2`` written by orjson (C, ~15 times faster than
    the standard library's indenting writer, which is pure Python) when orjson writes it the
    same. ``exact`` is the part of ``data`` that may hold a float, a container cycle or deep
    nesting, or anything else not built from the audit's own frames (None: all of it). It is
    written first by the standard library's C writer, compactly (a cycle, nesting past the
    recursion limit, NaN... stop here: orjson recurses into a cycle of tuples until the
    stack overflows), then by orjson, and the two must be the same (a float the standard
    library writes with an exponent, NaN and infinities are written otherwise by orjson).
    orjson refuses the rest it would write otherwise: a lone surrogate, an integer past 64
    bits, a key that is not text, a subclass of a JSON type."""
    if indent == 2:
        import orjson

        part = data if exact is None else exact
        try:
            compact = json.dumps(part, ensure_ascii=False, separators=(",", ":"))
            same = orjson.dumps(part, option=orjson.OPT_PASSTHROUGH_SUBCLASS) == compact.encode()
            if same:  # (no surrogate: orjson refuses one)
                return orjson.dumps(
                    data, option=orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_SUBCLASS
                )
        except (TypeError, ValueError, RecursionError):  # (orjson.JSONEncodeError is one)
            pass
    return unicode_text(json.dumps(data, indent=indent, ensure_ascii=False)).encode()


def to_dict(audit: Audit) -> dict[str, Any]:
    """The JSON report as a dict (see :func:`to_json`)."""
    inv = audit._inv
    # a credential anywhere in a token object (not only a grant key) is exported as its label
    records = list(audit._records)
    for position, record in labelled_objects(records).items():
        records[position] = record
    tokens = [
        {
            "kind": r.kind,
            "owner_id": r.owner_id,
            "owner_name": r.owner_name,
            "token": dict(r.payload),
        }
        for r in records
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
    data = to_dict(audit)
    # what orjson must be shown to write as json does: all but the frames' records, whose
    # values are text, integers, booleans and None, and every other value of theirs (floats;
    # lists, objects and anything else a column of Python objects holds, which may hold a
    # float or a cycle: the standard library refuses a cycle, orjson crashed on one)
    frames = ("usage", "findings", "gaps", "tokens")
    exact = {k: v for k, v in data.items() if k not in frames}
    usage = audit.usage
    exact["values"] = [
        v
        for frame in (usage, audit.findings, audit.gaps, audit.tokens)
        if frame is not None
        for _, column in frame.items()
        if _may_differ(column.dtype)
        for v in _column_values(column)
        if type(v) not in _PLAIN_JSON
    ]
    try:
        raw = _json_text(data, indent, exact)
    except (ValueError, TypeError, RecursionError) as exc:
        raise InvalidInput(_unwritable(data, exc)) from None
    if path is not None:
        write_atomic(path, raw)
    return raw.decode()


def _why_unwritable(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "lists or objects nested deeper than Python's recursion limit"
    if isinstance(exc, TypeError):  # json's message names the value's type or the key's
        return f"a value JSON has no form for ({redact(str(exc))[:120]})"
    return "a list or object that contains itself (a cycle)"


def _unwritable(data: Mapping[str, Any], exc: BaseException) -> str:
    """Why the JSON report cannot be written, naming the token and field that hold the value
    (the report re-exports each token's API object, which ``from_records`` took as given)."""
    why = _why_unwritable(exc)
    advice = (
        "The JSON report re-exports every token's API object so the audit can be re-run: "
        "remove that field, or make it plain JSON (text, numbers, true/false, null, lists and "
        "objects), in the records given to Audit.from_records; the HTML, CSV and SARIF "
        "reports do not carry it."
    )
    for entry in data["inventory"]["tokens"]:
        payload = entry["token"]
        for key, value in payload.items():
            try:
                json.dumps({key: value})
            except (ValueError, TypeError, RecursionError) as field_exc:
                return (
                    f"cannot write the JSON report: the field {shown(key)} of token "
                    f"{shown(payload.get('id'))} holds {_why_unwritable(field_exc)}. {advice}"
                )
    for section, value in data.items():
        try:
            json.dumps(value)
        except (ValueError, TypeError, RecursionError):
            return f"cannot write the JSON report: its {shown(section)} holds {why}. {advice}"
    return f"cannot write the JSON report: it holds {why}. {advice}"


def read_json(
    cls: type[Audit], source: str | Path | Mapping[str, Any], overrides: dict[str, Any]
) -> Audit:
    """Re-run an exported audit (see :meth:`Audit.from_json`): ``overrides`` (``now``,
    ``profile``, ``suppressions``, ``usage``) win over the report's own."""
    data = _report_data(source)
    inventory = expect(data.get("inventory") or {}, Mapping, "inventory", "an object")
    records = _token_records(inventory)
    accounts = _directory_entries(inventory, "accounts", Account)
    zones = _directory_entries(inventory, "zones", Zone)
    user = inventory.get("user")
    if user is not None:
        expect(user, Mapping, "inventory.user", "an object")
    now = _report_now(overrides.pop("now", None) or data.get("now"))
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
        if usage is not None:
            expect(usage, list, "usage", "a list of usage rows")
    gaps = _report_gaps(data)
    origin = optional_text(data.get("source", "records"), "source") or "records"
    if overrides:
        raise InvalidInput(f"unknown argument(s) to from_json: {', '.join(overrides)}")
    return cls(
        records,
        accounts=accounts,
        zones=zones,
        user=user,
        usage=usage if usage else None,
        now=now,
        profile=profile,
        suppressions=suppressions,
        gaps=gaps,
        source=f"json ({origin})",
    )


def _report_data(source: str | Path | Mapping[str, Any]) -> Mapping[str, Any]:
    """The report's top-level object (from a mapping, JSON text or a file), of this version's
    schema."""
    if isinstance(source, Mapping):  # Python objects: no raw text to scan, so one check
        data: object = source if utf8_encodable(source) else unicode_tree(dict(source))
    else:
        text = str(source)
        if isinstance(source, Path) or not text.lstrip().startswith("{"):
            path = Path(text)
            if not path.is_file():
                raise InvalidInput(f"no audit JSON file at {path}")
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise InvalidInput(f"the audit report {path.name} is not UTF-8 text") from None
        data = parse_text(text, yaml=False, what="audit report")
    if not isinstance(data, Mapping):
        raise InvalidInput("an audit JSON report is an object with a 'schema' key")
    schema = data.get("schema")
    if not isinstance(schema, str) or not schema.startswith("cftokens.audit/"):
        raise InvalidInput(
            f"not a cftokens audit report (schema {shown(schema, limit=60)}); export one with "
            "audit.to_json()"
        )
    if schema != SCHEMA:
        raise InvalidInput(
            f"audit report schema {schema} is not supported by this version (it reads {SCHEMA}); "
            "upgrade cftokens or re-export"
        )
    return data


def _token_records(inventory: Mapping[str, Any]) -> list[TokenRecord]:
    """``inventory.tokens``: each a token object with its owner."""
    records = []
    tokens = expect(inventory.get("tokens") or [], list, "inventory.tokens", "a list")
    for i, entry in enumerate(tokens, start=1):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("token"), Mapping):
            raise InvalidInput(f"inventory.tokens[{i}] must be an object with a 'token' object")
        kind = entry.get("kind", "user")
        if kind not in ("user", "account"):
            raise InvalidInput(f"inventory.tokens[{i}].kind must be 'user' or 'account'")
        owner_id = optional_text(entry.get("owner_id"), f"inventory.tokens[{i}].owner_id")
        owner_name = optional_text(entry.get("owner_name"), f"inventory.tokens[{i}].owner_name")
        records.append(TokenRecord(entry["token"], kind, owner_id, owner_name))
    return records


_M = TypeVar("_M", Account, Zone)


def _directory_entries(inventory: Mapping[str, Any], key: str, model: type[_M]) -> list[_M]:
    """``inventory.accounts`` or ``inventory.zones`` as models (an error names the entry)."""
    entries = expect(inventory.get(key) or [], list, f"inventory.{key}", "a list")
    found = []
    for i, entry in enumerate(entries, start=1):
        at = f"inventory.{key}[{i}]"
        expect(entry, Mapping, at, "an object")
        try:
            found.append(model.from_api(entry))
        except InvalidInput as exc:
            raise InvalidInput(f"{at}: {exc}") from None
    return found


def _report_now(value: object) -> datetime | None:
    """The audit's clock: a datetime given, or the report's RFC 3339 ``now``."""
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return parse_datetime(expect(value, str, "now", "an RFC 3339 timestamp"), "now")


def _report_gaps(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``collection_gaps``: objects whose descriptive fields are text."""
    gaps: list[Mapping[str, Any]] = expect(
        data.get("collection_gaps") or [], list, "collection_gaps", "a list"
    )
    for i, gap in enumerate(gaps, start=1):
        expect(gap, Mapping, f"collection_gaps[{i}]", "an object")
        for key in ("kind", "subject", "what", "reason"):
            optional_text(gap.get(key), f"collection_gaps[{i}].{key}")
    return gaps


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
                # RFC 4180 line ends: a cell holding a bare \r is then quoted (with pandas'
                # "\n" it is not, and Excel or a csv reader would start a forged row there)
                _write_csv(csv_frame(frame), tmp / f"{name}.csv")
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


def _write_csv(frame: Any, path: Path) -> None:
    """``frame.to_csv(path, index=False, lineterminator="\\r\\n")``, byte for byte: the same
    header, each cell formatted by the same pandas routine and written by the same
    :mod:`csv` writer, but each column formatted at once and read as a list (``to_csv``
    reads its formatted columns cell by cell: most of a 100,000-token audit's CSV time).
    Frames whose formatted cells are not Python objects, or with no column, go to ``to_csv``."""
    import csv

    options = {"lineterminator": "\r\n", "index": False}
    cells = frame._get_values_for_csv(
        float_format=None, date_format=None, decimal=".", na_rep="", quoting=csv.QUOTE_MINIMAL
    )
    columns = list(cells._iter_column_arrays())
    if not columns or any(column.dtype != object for column in columns):
        frame.to_csv(path, **options)
        return
    cells = [column.tolist() for column in columns]
    with open(path, "w", encoding="utf-8", errors="strict", newline="") as handle:
        frame.iloc[:0].to_csv(handle, **options)  # the header
        texts = _csv_texts(cells)
        if texts is not None:
            for start in range(0, len(texts[0]), _CSV_ROWS):
                rows = zip(*(column[start : start + _CSV_ROWS] for column in texts), strict=True)
                handle.write("\r\n".join(map(",".join, rows)) + "\r\n")
            return
        # the csv module's defaults are to_csv's (QUOTE_MINIMAL, '"' doubled, ',')
        csv.writer(handle, lineterminator="\r\n").writerows(zip(*cells, strict=True))


_CSV_SPECIAL = (",", '"', "\r", "\n")
_CSV_ROWS = 50_000  # rows joined into one write


def _csv_texts(columns: list[list[Any]]) -> list[list[str]] | None:
    """The cells :mod:`csv`'s writer (``QUOTE_MINIMAL``, ``"\\r\\n"``) writes of these
    columns of text, integers and booleans, to be joined in C: a cell holding a comma, a quote, CR
    or LF quoted (its quotes doubled), only in the columns holding one. None if a cell is of
    another type (the writer formats those itself) or there are fewer than two columns (it
    quotes a row of one empty cell)."""
    if len(columns) < 2:
        return None
    quoted = []
    for cells in columns:
        types = set(map(type, cells))
        if not types <= {str, int, bool}:
            return None
        if types != {str}:
            cells = list(map(str, cells))  # as the writer writes an integer or a boolean
        text = "".join(cells)
        if any(char in text for char in _CSV_SPECIAL):
            cells = [_csv_quoted(cell) for cell in cells]
        quoted.append(cells)
    return quoted


def _csv_quoted(cell: str) -> str:
    if "," in cell or '"' in cell or "\r" in cell or "\n" in cell:
        return '"' + cell.replace('"', '""') + '"'
    return cell


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


def _rows(frame: Any) -> Iterator[Any]:
    """``frame.itertuples(index=False)``'s rows, the same values, each column read in one
    C-level pass (``itertuples`` reads a column of text element by element)."""
    from collections import namedtuple

    row = namedtuple("Row", list(frame.columns), rename=True)  # type: ignore[misc]
    columns = [column.to_numpy(dtype=object).tolist() for _, column in frame.items()]
    return map(row._make, zip(*columns, strict=True))


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
    for row in _rows(f):
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
    properties = {"profile": audit.profile.name, "summary": audit.summary()}
    doc = sarif_log(rules, results, properties)
    # (the results hold only text, integers, booleans and None: the rest is shown the same)
    raw = _json_text(doc, 2, sarif_log(rules, [], properties))
    if path is not None:
        write_atomic(path, raw)
    return raw.decode()
