"""HCL expressions, parsed and evaluated offline (the part of Terraform a token definition uses).

python-hcl2 reads a configuration's blocks and attributes and hands each expression back as its
source text (``${jsonencode({...})}``, ``"dns-${var.env}"``); :mod:`._hclparse` parses that
text, and this module evaluates it against what is knowable without a provider: literals,
variables with values, locals, attributes written in other resources' configuration, the
permission-group data sources (resolved against the bundled catalogue by
:mod:`cftokens.model._hcl`), ``for`` expressions, splats, conditionals and the functions people
use around tokens (``jsonencode``, ``timeadd(timestamp(), …)``, ``merge``, ``concat``,
``toset``, ``lookup``, ``format``, …).

Anything else evaluates to :class:`Unknown`, which remembers the expression it stands for
(``cloudflare_zone.example.id``, ``var.zone_id``); a string with an unknown part is a
:class:`Template` that keeps its known text. Nothing here raises anything but
:class:`~cftokens.InvalidInput` on malformed text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ..errors import InvalidInput
from ._hclparse import parse

__all__ = ["Template", "Unknown", "evaluate", "has_unknown", "parse"]


class Unknown:
    """A value not knowable offline; ``what`` is the expression it stands for."""

    __slots__ = ("what",)

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"Unknown({self.what!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.what == self.what

    def __hash__(self) -> int:
        return hash(("unknown", self.what))


class Template:
    """A string with unknown parts: ``parts`` alternate known text and :class:`Unknown`."""

    __slots__ = ("parts",)

    def __init__(self, parts: list[str | Unknown]):
        merged: list[str | Unknown] = []
        for part in parts:
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += part
            elif part != "":
                merged.append(part)
        self.parts = merged

    @property
    def what(self) -> str:
        """The template as written, unknown parts as ``${…}``."""
        return "".join(p if isinstance(p, str) else "${" + p.what + "}" for p in self.parts)

    def __repr__(self) -> str:
        return f"Template({self.what!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Template) and other.parts == self.parts

    def __hash__(self) -> int:
        return hash(("template", self.what))


def has_unknown(value: Any) -> bool:
    """True when ``value`` or anything inside it is unknown."""
    if isinstance(value, Unknown | Template):
        return True
    if isinstance(value, Mapping):
        return any(has_unknown(k) or has_unknown(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_unknown(v) for v in value)
    return False


# -------------------------------------------------------------------------------------------
# Evaluation
# -------------------------------------------------------------------------------------------

Resolver = Callable[[str, list[Any], str], Any]


def evaluate(
    node: Any, resolve: Resolver, now: datetime, scope: Mapping[str, Any] | None = None
) -> Any:
    """Evaluate a parsed expression. ``resolve(root, steps, source)`` gives the value of a
    reference (``var``, ``local``, ``data``, resources, …) with its attribute/index steps,
    or an :class:`Unknown`; ``scope`` holds ``for``-expression variables."""
    return _Eval(resolve, now).run(node, dict(scope or {}))


class _Eval:
    def __init__(self, resolve: Resolver, now: datetime):
        self.resolve = resolve
        self.now = now
        self.source = ""

    def run(self, node: Any, scope: dict[str, Any]) -> Any:
        if node[0] == "root":
            saved = self.source
            self.source = node[4]
            try:
                return self.ev(node[3], scope)
            finally:
                self.source = saved
        return self.ev(node, scope)

    def text(self, node: Any) -> str:
        return self.source[node[1] : node[2]]

    def ev(self, node: Any, scope: dict[str, Any]) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[3]
        if kind == "tmpl":
            return self.template(node[3], scope)
        if kind == "list":
            return [self.ev(item, scope) for item in node[3]]
        if kind == "object":
            return self.object(node[3], scope)
        if kind in ("var", "attr", "index", "splat"):
            return self.traversal(node, scope)
        if kind == "call":
            return self.call(node, scope)
        if kind == "cond":
            return self.conditional(node, scope)
        if kind == "unary":
            return self.unary(node, scope)
        if kind == "bin":
            return self.binary(node, scope)
        if kind == "for":
            return self.for_expr(node, scope)
        raise InvalidInput(f"cannot evaluate {self.text(node)!r}")

    def object(self, pairs: list[Any], scope: dict[str, Any]) -> dict[Any, Any]:
        """An object's pairs: each key a string (a number is its text), each value evaluated."""
        out: dict[Any, Any] = {}
        for key_node, value_node in pairs:
            key = self.ev(key_node, scope)
            if isinstance(key, bool | int | float) and not isinstance(key, bool):
                key = _num_text(key)
            if key is None or isinstance(key, bool | list | dict):
                raise InvalidInput(f"an object key must be a string: {self.text(key_node)!r}")
            out[key] = self.ev(value_node, scope)
        return out

    def conditional(self, node: Any, scope: dict[str, Any]) -> Any:
        """``test ? yes : no``; Unknown when the test is not a known bool."""
        test = self.ev(node[3], scope)
        if isinstance(test, bool):
            return self.ev(node[4] if test else node[5], scope)
        return Unknown(self.text(node))

    def unary(self, node: Any, scope: dict[str, Any]) -> Any:
        """``!bool`` and ``-number``; Unknown otherwise."""
        value = self.ev(node[4], scope)
        if node[3] == "!" and isinstance(value, bool):
            return not value
        if node[3] == "-" and isinstance(value, int | float) and not isinstance(value, bool):
            return -value
        return Unknown(self.text(node))

    def template(self, parts: list[Any], scope: dict[str, Any]) -> Any:
        out: list[str | Unknown] = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
                continue
            kind, node = part
            if kind == "directive":
                out.append(Unknown("%{" + node[1] + "}"))
                continue
            value = self.run(node, scope)
            if len(parts) == 1 and isinstance(value, Unknown | Template):
                return value
            if isinstance(value, Unknown):
                out.append(value)
            elif isinstance(value, Template):
                out.extend(value.parts)
            elif isinstance(value, str):
                out.append(value)
            elif isinstance(value, bool):
                out.append("true" if value else "false")
            elif isinstance(value, int | float):
                out.append(_num_text(value))
            elif value is None:
                out.append("")
            else:
                raise InvalidInput(f"cannot put a {type(value).__name__} into a string")
        if any(isinstance(p, Unknown) for p in out):
            tmpl = Template(out)
            if len(tmpl.parts) == 1 and isinstance(tmpl.parts[0], Unknown):
                return tmpl.parts[0]
            return tmpl
        return "".join(p for p in out if isinstance(p, str))

    def traversal(self, node: Any, scope: dict[str, Any]) -> Any:
        steps: list[Any] = []
        cur = node
        while cur[0] in ("attr", "index", "splat"):
            if cur[0] == "attr":
                steps.append(("attr", cur[4]))
            elif cur[0] == "index":
                steps.append(("index", self.ev(cur[4], scope)))
            else:
                steps.append(("splat", None))
            cur = cur[3]
        if cur[0] != "var":
            base = self.ev(cur, scope)
            return apply_steps(base, list(reversed(steps)), self.text(node))
        steps.reverse()
        name = cur[3]
        if name in scope:
            return apply_steps(scope[name], steps, self.text(node))
        return self.resolve(name, steps, self.text(node))

    def binary(self, node: Any, scope: dict[str, Any]) -> Any:
        op = node[3]
        left = self.ev(node[4], scope)
        right = self.ev(node[5], scope)
        if has_unknown(left) or has_unknown(right):
            return Unknown(self.text(node))
        try:
            if op == "==":
                return left == right
            if op == "!=":
                return left != right
            if op in ("&&", "||"):
                if not (isinstance(left, bool) and isinstance(right, bool)):
                    raise TypeError
                return (left and right) if op == "&&" else (left or right)
            if isinstance(left, bool) or isinstance(right, bool):
                raise TypeError
            a, b = _number(left), _number(right)
            return _ARITH[op](a, b)
        except (TypeError, ValueError, ZeroDivisionError):
            raise InvalidInput(f"cannot evaluate {self.text(node)!r}") from None

    def for_expr(self, node: Any, scope: dict[str, Any]) -> Any:
        _, _, _, names, coll_node, key_node, value_node, cond_node, close = node
        collection = self.ev(coll_node, scope)
        if has_unknown(collection) and not isinstance(collection, list | dict):
            return Unknown(self.text(node))
        if isinstance(collection, dict):
            items = list(collection.items())
        elif isinstance(collection, list):
            items = list(enumerate(collection))
        else:
            raise InvalidInput(f"cannot iterate over {self.text(coll_node)!r}")
        out_list: list[Any] = []
        out_map: dict[Any, Any] = {}
        for k, v in items:
            inner = dict(scope)
            if len(names) == 2:
                inner[names[0]], inner[names[1]] = k, v
            else:
                inner[names[0]] = v
            if cond_node is not None:
                test = self.ev(cond_node, inner)
                if not isinstance(test, bool):
                    return Unknown(self.text(node))
                if not test:
                    continue
            value = self.ev(value_node, inner)
            if close == "]":
                out_list.append(value)
            else:
                key = self.ev(key_node, inner)
                if not isinstance(key, str):
                    return Unknown(self.text(node))
                out_map[key] = value
        return out_list if close == "]" else out_map

    def call(self, node: Any, scope: dict[str, Any]) -> Any:
        name, arg_nodes = node[3], node[4]
        if name in ("try", "coalesce"):
            for arg in arg_nodes:
                try:
                    value = self.ev(arg, scope)
                except InvalidInput:
                    continue
                if name == "try" or value not in (None, ""):
                    return value
            return Unknown(self.text(node))
        if name == "timestamp":
            return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        args = [self.ev(arg, scope) for arg in arg_nodes]
        func = _FUNCTIONS.get(name)
        if func is None:
            return Unknown(self.text(node))
        if name != "jsonencode" and any(has_unknown(a) for a in args):
            return Unknown(self.text(node))
        try:
            return func(*args)
        except (TypeError, ValueError, KeyError, IndexError):
            raise InvalidInput(f"cannot evaluate {self.text(node)!r}") from None


def apply_steps(value: Any, steps: list[Any], what: str) -> Any:
    """Follow attribute/index/splat steps into a known value (unknown stays unknown)."""
    for i, (kind, key) in enumerate(steps):
        if isinstance(value, Unknown | Template):
            return Unknown(what)
        if kind == "splat":
            items = value if isinstance(value, list) else ([] if value is None else [value])
            return [apply_steps(item, steps[i + 1 :], what) for item in items]
        if isinstance(key, Unknown | Template):
            return Unknown(what)
        if isinstance(value, dict):
            if isinstance(key, int | float) and not isinstance(key, bool):
                key = _num_text(key)
            if key not in value:
                raise InvalidInput(f"{what}: no key {key!r}")
            value = value[key]
        elif isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, TypeError, IndexError):
                raise InvalidInput(f"{what}: no element {key!r}") from None
        else:
            raise InvalidInput(f"{what}: cannot take {key!r} of a {type(value).__name__}")
    return value


_ARITH: dict[str, Callable[[float, float], Any]] = {
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "%": lambda a, b: a % b,
}


def _num_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError
    if isinstance(value, int | float):
        return value
    return float(value)


_DURATION = re.compile(r"(-?\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")


def _timeadd(timestamp: str, duration: str) -> str:
    when = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    text = str(duration)
    pos = 0
    total = timedelta()
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if not m:
            raise ValueError(duration)
        total += timedelta(seconds=float(m.group(1)) * units[m.group(2)])
        pos = m.end()
    if not text:
        raise ValueError(duration)
    return (when + total).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _jsonencode(value: Any) -> Any:
    if has_unknown(value):
        return value  # the structure, still read as a resources map
    return json.dumps(value, separators=(",", ":"))


def _format(fmt: str, *args: Any) -> str:
    values = iter(args)

    def sub(m: re.Match[str]) -> str:
        if m.group() == "%%":
            return "%"
        value = next(values)
        if m.group(1) == "q":
            return json.dumps(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return _num_text(value) if m.group(1) in ("s", "v", "d") else str(value)
        return str(value)

    return re.sub(r"%[-+ #0-9.]*([a-zA-Z%])", sub, fmt)


def _flatten(value: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in value:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _merge(*maps: Any) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise TypeError
        out.update(m)
    return out


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "jsonencode": _jsonencode,
    "jsondecode": lambda s: json.loads(s),
    "timeadd": _timeadd,
    "toset": lambda v: list(dict.fromkeys(v)),
    "tolist": lambda v: list(v),
    "tomap": lambda v: dict(v),
    "tostring": lambda v: v if isinstance(v, str) else _num_text(v),
    "concat": lambda *ls: [x for lst in ls for x in lst],
    "merge": _merge,
    "lookup": lambda m, k, *d: m[k] if k in m or not d else d[0],
    "format": _format,
    "join": lambda sep, items: str(sep).join(str(i) for i in items),
    "split": lambda sep, text: str(text).split(str(sep)),
    "lower": lambda s: str(s).lower(),
    "upper": lambda s: str(s).upper(),
    "trimspace": lambda s: str(s).strip(),
    "replace": lambda s, a, b: str(s).replace(str(a), str(b)),
    "distinct": lambda v: list(dict.fromkeys(v)),
    "flatten": _flatten,
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "length": lambda v: len(v),
    "element": lambda v, i: v[int(i) % len(v)],
    "contains": lambda v, x: x in v,
    "zipmap": lambda ks, vs: dict(zip(ks, vs, strict=True)),
    "compact": lambda v: [x for x in v if x not in (None, "")],
}
