"""Reading documents someone else wrote: suppressions and overrides files, audit reports, usage
exports. Text that is not Unicode (a ``"\\ud800"`` escape decodes to a lone surrogate) comes
out as U+FFFD. Whatever they hold, only :class:`~cftokens.InvalidInput` comes out, naming the place
in the document (``entry 2.expires``, ``inventory.tokens[3].token``) and describing a bad value
instead of formatting it: a YAML alias chain of a few hundred bytes expands to billions of
items, so a value is formatted only once it is known to be a scalar.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._text import may_hold_surrogates, unicode_tree
from .errors import InvalidInput, describe, shown

__all__ = ["expect", "http_status", "load_document", "optional_text", "parse_text"]


def parse_text(text: str, *, yaml: bool, what: str) -> Any:
    """Parse JSON (or YAML with ``yaml=True``); every failure is :class:`InvalidInput` naming
    ``what`` and the line. Lone surrogates in the text's strings become U+FFFD."""
    value = _parse(text, yaml=yaml, what=what)
    if may_hold_surrogates(text):
        try:
            return unicode_tree(value)
        except RecursionError:
            raise InvalidInput(f"{what}: the document is nested too deeply") from None
    return value


def _parse(text: str, *, yaml: bool, what: str) -> Any:
    if yaml:
        import yaml as pyyaml

        try:
            return pyyaml.safe_load(text)
        except pyyaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise InvalidInput(f"{what}: not valid YAML{where}: {problem}") from None
        except RecursionError:
            raise InvalidInput(f"{what}: the YAML is nested too deeply") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{what}: not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except ValueError as exc:
        raise InvalidInput(f"{what}: not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{what}: the JSON is nested too deeply") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def load_document(path: str | Path, *, what: str, yaml: bool | None = None) -> Any:
    """Read a JSON or YAML file (``yaml=None``: YAML for a ``.yaml``/``.yml`` suffix)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidInput(f"{what} {shown(str(file))} does not exist")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {file.name} is not UTF-8 text") from None
    if yaml is None:
        yaml = file.suffix.lower() in (".yaml", ".yml")
    return parse_text(text, yaml=yaml, what=f"{what} {file.name}")


def expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    """``value`` when it is a ``kind``; else :class:`InvalidInput` ``"<where> must be <what>,
    got <a description>"`` (a bool is never accepted as a number)."""
    number = kind in (int, float) or (isinstance(kind, tuple) and int in kind)
    if isinstance(value, kind) and not (number and isinstance(value, bool)):
        return value
    raise InvalidInput(f"{where} must be {what}, got {_kind(value)}")


def optional_text(value: Any, where: str) -> str | None:
    """``value`` when it is text or None (null); else :class:`InvalidInput` naming ``where``."""
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"{where} must be text or null, got {_kind(value)}")


def _kind(value: Any) -> str:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return f"{describe(value)} {shown(value, limit=40)}"
    return describe(value)


def http_status(value: Any, where: str) -> int:
    """An HTTP status from a document: a whole number (or digits) from 100 to 999."""
    number: Any = value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
        number = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif hasattr(value, "item") and not isinstance(value, bool):  # a numpy scalar
        number = value.item()
        if isinstance(number, float) and number.is_integer():
            number = int(number)
    if isinstance(number, int) and not isinstance(number, bool) and 100 <= number <= 999:
        return number
    raise InvalidInput(f"{where} must be an HTTP status (100 to 999), got {_kind(value)}")
