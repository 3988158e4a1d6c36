"""HCL expressions' source text parsed into a tree (:func:`parse`): the tokenizer (strings and
their templates, heredocs, numbers, punctuation) and the parser (operators, conditionals,
``for`` expressions, splats, calls, traversals). :mod:`._hclexpr` evaluates the tree."""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidInput

__all__ = ["parse"]


# -------------------------------------------------------------------------------------------
# Tokens
# -------------------------------------------------------------------------------------------

_PUNCT = (
    "[*]",
    "...",
    "=>",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    ".*",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ".",
    ":",
    "?",
    "=",
    "<",
    ">",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}

Tok = tuple[str, Any, int, int]  # kind, value, start, end


def _closing_brace(text: str, i: int) -> int:
    """The index of the ``}`` closing an interpolation whose body starts at ``i``."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _string_end(text, i + 1)
            continue
        if c in "{([":
            depth += 1
        elif c in "})]":
            if depth == 0:
                if c != "}":
                    break
                return i
            depth -= 1
        i += 1
    raise InvalidInput("an interpolation ${…} is not closed")


def _string_end(text: str, i: int) -> int:
    """The index after the closing quote of a string whose body starts at ``i``."""
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if text.startswith("${", i) and not text.startswith("$${", i - 1):
            i = _closing_brace(text, i + 2) + 1
            continue
        i += 1
    raise InvalidInput("a string is not closed (missing '\"')")


def _template_parts(body: str, *, escapes: bool) -> list[Any]:
    """The parts of a string body: text, and ``("expr", source)`` for interpolations."""
    parts: list[Any] = []
    buf: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if escapes and c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                buf.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", body[i + 2 : i + 6]):
                buf.append(chr(int(body[i + 2 : i + 6], 16)))
                i += 6
                continue
            raise InvalidInput(f"unknown escape \\{nxt} in a string")
        if body.startswith("$${", i) or body.startswith("%%{", i):
            buf.append(body[i + 1 : i + 3])
            i += 3
            continue
        if body.startswith("${", i) or body.startswith("%{", i):
            end = _closing_brace(body, i + 2)
            if buf:
                parts.append("".join(buf))
                buf = []
            inner = body[i + 2 : end].strip().strip("~").strip()
            parts.append(("expr" if c == "$" else "directive", inner))
            i = end + 1
            continue
        buf.append(c)
        i += 1
    if buf:
        parts.append("".join(buf))
    return parts


def _tokens(text: str) -> list[Tok]:
    out: list[Tok] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if c == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if c == '"':
            end = _string_end(text, i + 1)
            out.append(("str", _template_parts(text[i + 1 : end - 1], escapes=True), i, end))
            i = end
            continue
        if text.startswith("<<", i):
            m = re.match(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n", text[i:])
            if m:
                start = i + m.end()
                close = re.compile(r"^\s*" + re.escape(m.group(2)) + r"\s*$", re.M)
                found = close.search(text, start)
                if not found:
                    raise InvalidInput(f"heredoc <<{m.group(2)} is not closed")
                body = text[start : found.start()]
                if m.group(1):
                    lines = body.splitlines(keepends=True)
                    indents = [len(x) - len(x.lstrip()) for x in lines if x.strip()]
                    cut = min(indents) if indents else 0
                    body = "".join(x[cut:] for x in lines)
                out.append(("str", _template_parts(body, escapes=False), i, found.end()))
                i = found.end()
                continue
        m = _NUMBER.match(text, i)
        if m and c.isdigit():
            value = float(m.group()) if m.group(1) or m.group(2) else int(m.group())
            out.append(("num", value, i, m.end()))
            i = m.end()
            continue
        m = _NAME.match(text, i)
        if m:
            out.append(("name", m.group(), i, m.end()))
            i = m.end()
            continue
        for p in _PUNCT:
            if text.startswith(p, i):
                out.append(("op", p, i, i + len(p)))
                i += len(p)
                break
        else:
            raise InvalidInput(f"unexpected character {c!r} in the expression {text[:60]!r}")
    out.append(("end", None, n, n))
    return out


# -------------------------------------------------------------------------------------------
# Parser: nodes are tuples (kind, start, end, ...)
# -------------------------------------------------------------------------------------------

_BINARY = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self, value: str | None = None, kind: str = "op") -> bool:
        tok = self.toks[self.i]
        return tok[0] == kind and (value is None or tok[1] == value)

    def take(self, value: str | None = None, kind: str = "op") -> Tok:
        tok = self.toks[self.i]
        if not self.peek(value, kind):
            want = value or kind
            got = tok[1] if tok[0] != "end" else "the end"
            raise InvalidInput(f"expected {want!r} but found {got!r} in {self.text[:80]!r}")
        self.i += 1
        return tok

    def expression(self) -> Any:
        start = self.toks[self.i][2]
        cond = self.binary(0)
        if self.peek("?"):
            self.take("?")
            yes = self.expression()
            self.take(":")
            no = self.expression()
            return ("cond", start, self.toks[self.i - 1][3], cond, yes, no)
        return cond

    def binary(self, level: int) -> Any:
        if level == len(_BINARY):
            return self.unary()
        start = self.toks[self.i][2]
        left = self.binary(level + 1)
        while self.toks[self.i][0] == "op" and self.toks[self.i][1] in _BINARY[level]:
            op = self.take()[1]
            right = self.binary(level + 1)
            left = ("bin", start, self.toks[self.i - 1][3], op, left, right)
        return left

    def unary(self) -> Any:
        if self.peek("!") or self.peek("-"):
            tok = self.take()
            operand = self.unary()
            return ("unary", tok[2], self.toks[self.i - 1][3], tok[1], operand)
        return self.postfix(self.primary())

    def postfix(self, node: Any) -> Any:
        start = node[1]
        while True:
            if self.peek("."):
                self.take(".")
                tok = self.toks[self.i]
                if tok[0] in ("name", "num"):
                    self.i += 1
                    node = ("attr", start, tok[3], node, tok[1])
                    continue
                if self.peek("*"):
                    self.take("*")
                    node = ("splat", start, self.toks[self.i - 1][3], node)
                    continue
                raise InvalidInput(f"expected an attribute name after '.' in {self.text[:80]!r}")
            elif self.peek(".*"):
                self.take(".*")
                node = ("splat", start, self.toks[self.i - 1][3], node)
            elif self.peek("[*]"):
                self.take("[*]")
                node = ("splat", start, self.toks[self.i - 1][3], node)
            elif self.peek("["):
                self.take("[")
                key = self.expression()
                end = self.take("]")[3]
                node = ("index", start, end, node, key)
            else:
                return node

    def primary(self) -> Any:
        tok = self.toks[self.i]
        kind, value, start, end = tok
        if kind == "num":
            self.i += 1
            return ("lit", start, end, value)
        if kind == "str":
            self.i += 1
            return self.string(value, start, end)
        if kind == "name":
            self.i += 1
            return self.name(value, start, end)
        if kind == "op" and value == "(":
            self.take("(")
            inner = self.expression()
            self.take(")")
            return inner
        if kind == "op" and value == "[":
            return self.list_or_for(start)
        if kind == "op" and value == "{":
            return self.object_or_for(start)
        got = value if kind != "end" else "the end"
        raise InvalidInput(f"unexpected {got!r} in the expression {self.text[:80]!r}")

    def string(self, value: Any, start: int, end: int) -> Any:
        """A string's template: its text, its ``${…}`` expressions parsed, its ``%{…}``
        directives kept raw."""
        parts = [
            p
            if isinstance(p, str)
            else (p[0], _Parser(p[1]).parse_all() if p[0] == "expr" else ("raw", p[1]))
            for p in value
        ]
        return ("tmpl", start, end, parts)

    def name(self, value: Any, start: int, end: int) -> Any:
        """A name (taken): a literal (``true``, ``false``, ``null``), a call, or a variable."""
        if value in ("true", "false", "null"):
            return ("lit", start, end, {"true": True, "false": False, "null": None}[value])
        if self.peek("("):
            self.take("(")
            args = []
            while not self.peek(")"):
                args.append(self.expression())
                if self.peek("..."):
                    self.take("...")
                if not self.peek(")"):
                    self.take(",")
            close = self.take(")")[3]
            return ("call", start, close, value, args)
        if self.peek("::"):
            raise InvalidInput("provider functions are not supported")
        return ("var", start, end, value)

    def list_or_for(self, start: int) -> Any:
        """``[a, b, …]`` or ``[for … : …]``."""
        self.take("[")
        if self.peek("for", "name"):
            return self.for_expr(start, "]")
        items = []
        while not self.peek("]"):
            items.append(self.expression())
            if not self.peek("]"):
                self.take(",")
        return ("list", start, self.take("]")[3], items)

    def object_or_for(self, start: int) -> Any:
        """``{key = value, …}`` (a bare name as a key is its text; ``=`` or ``:``) or
        ``{for … : k => v}``."""
        self.take("{")
        if self.peek("for", "name"):
            return self.for_expr(start, "}")
        pairs = []
        while not self.peek("}"):
            key_tok = self.toks[self.i]
            if key_tok[0] == "name" and self.toks[self.i + 1][1] in ("=", ":"):
                self.i += 1
                key: Any = ("lit", key_tok[2], key_tok[3], key_tok[1])
            else:
                key = self.expression()
            if self.peek("="):
                self.take("=")
            else:
                self.take(":")
            pairs.append((key, self.expression()))
            if self.peek(","):
                self.take(",")
        return ("object", start, self.take("}")[3], pairs)

    def for_expr(self, start: int, close: str) -> Any:
        self.take("for", "name")
        names = [self.take(kind="name")[1]]
        if self.peek(","):
            self.take(",")
            names.append(self.take(kind="name")[1])
        self.take("in", "name")
        collection = self.expression()
        self.take(":")
        key = None
        value = self.expression()
        if close == "}":
            self.take("=>")
            key, value = value, self.expression()
            if self.peek("..."):
                self.take("...")
        cond = None
        if self.peek("if", "name"):
            self.take("if", "name")
            cond = self.expression()
        end = self.take(close)[3]
        return ("for", start, end, names, collection, key, value, cond, close)

    def parse_all(self) -> Any:
        node = self.expression()
        if not self.peek(kind="end"):
            tok = self.toks[self.i]
            raise InvalidInput(f"unexpected {tok[1]!r} after an expression in {self.text[:80]!r}")
        return ("root", 0, len(self.text), node, self.text)


def parse(text: str) -> Any:
    """Parse an expression's source text (raises :class:`InvalidInput` if malformed)."""
    if not isinstance(text, str):
        raise InvalidInput(f"an expression must be text, got {type(text).__name__}")
    return _Parser(text).parse_all()
