"""HCL expressions, parsed and evaluated (``cftokens.model._hclparse`` and ``_hclexpr``): every
branch of the parser's ``primary`` and the evaluator's ``ev`` (literals, templates and
directives, calls with an expanded last argument, provider functions, variables, parentheses,
lists, objects with names, strings and expressions as keys, ``for`` expressions, conditionals,
unary and binary operators, traversals and splats, heredocs) and their errors, pinned: the trees
and values below are what the code gave before its parser and evaluator were split into named
steps, so a change of behaviour fails here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cftokens.errors import InvalidInput
from cftokens.model._hclexpr import Template, Unknown, evaluate, parse

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def resolve(root: str, steps: list[Any], source: str) -> Any:
    values = {
        "var": {
            "env": "prod",
            "flag": True,
            "n": 4,
            "key": "k",
            "list": [{"id": 1}, {"id": 2}],
            "obj": {"a": {"b": 7}, "0": "zero"},
        }
    }
    if root not in values:
        return Unknown(source)
    value = values[root]
    for kind, arg in steps:
        if (kind == "attr" and isinstance(value, dict) and arg in value) or (
            kind == "index"
            and isinstance(value, list)
            and isinstance(arg, int)
            and 0 <= arg < len(value)
        ):
            value = value[arg]
        elif kind == "splat" and isinstance(value, list):
            return Unknown(source)
        else:
            return Unknown(source)
    return value


def shown(value: Any) -> Any:
    if isinstance(value, Template):
        return (
            ("Template", [shown(p) for p in value.parts])
            if hasattr(value, "parts")
            else ("Template", repr(value))
        )
    if isinstance(value, Unknown):
        return ("Unknown", value.what)
    if isinstance(value, list):
        return [shown(v) for v in value]
    if isinstance(value, dict):
        return {k: shown(v) for k, v in value.items()}
    return value


#: (text, parse tree or ("parse error", message), value or ("error", message))
CASES: list[tuple[str, Any, Any]] = [
    ("42", ("root", 0, 2, ("lit", 0, 2, 42), "42"), 42),
    ("1.5e3", ("root", 0, 5, ("lit", 0, 5, 1500.0), "1.5e3"), 1500.0),
    ('"plain"', ("root", 0, 7, ("tmpl", 0, 7, ["plain"]), '"plain"'), "plain"),
    (
        '"dns-${var.env}"',
        (
            "root",
            0,
            16,
            (
                "tmpl",
                0,
                16,
                [
                    "dns-",
                    (
                        "expr",
                        ("root", 0, 7, ("attr", 0, 7, ("var", 0, 3, "var"), "env"), "var.env"),
                    ),
                ],
            ),
            '"dns-${var.env}"',
        ),
        "dns-prod",
    ),
    (
        '"%{ if true }x%{ endif }"',
        (
            "root",
            0,
            25,
            (
                "tmpl",
                0,
                25,
                [("directive", ("raw", "if true")), "x", ("directive", ("raw", "endif"))],
            ),
            '"%{ if true }x%{ endif }"',
        ),
        ("Template", [("Unknown", "%{if true}"), "x", ("Unknown", "%{endif}")]),
    ),
    ("true", ("root", 0, 4, ("lit", 0, 4, True), "true"), True),
    ("false", ("root", 0, 5, ("lit", 0, 5, False), "false"), False),
    ("null", ("root", 0, 4, ("lit", 0, 4, None), "null"), None),
    (
        "jsonencode({a = 1})",
        (
            "root",
            0,
            19,
            (
                "call",
                0,
                19,
                "jsonencode",
                [("object", 11, 18, [(("lit", 12, 13, "a"), ("lit", 16, 17, 1))])],
            ),
            "jsonencode({a = 1})",
        ),
        '{"a":1}',
    ),
    (
        "concat([1], [2])",
        (
            "root",
            0,
            16,
            (
                "call",
                0,
                16,
                "concat",
                [("list", 7, 10, [("lit", 8, 9, 1)]), ("list", 12, 15, [("lit", 13, 14, 2)])],
            ),
            "concat([1], [2])",
        ),
        [1, 2],
    ),
    (
        "merge({a = 1}, {b = 2})",
        (
            "root",
            0,
            23,
            (
                "call",
                0,
                23,
                "merge",
                [
                    ("object", 6, 13, [(("lit", 7, 8, "a"), ("lit", 11, 12, 1))]),
                    ("object", 15, 22, [(("lit", 16, 17, "b"), ("lit", 20, 21, 2))]),
                ],
            ),
            "merge({a = 1}, {b = 2})",
        ),
        {"a": 1, "b": 2},
    ),
    (
        "max(3, 1, 2)",
        (
            "root",
            0,
            12,
            ("call", 0, 12, "max", [("lit", 4, 5, 3), ("lit", 7, 8, 1), ("lit", 10, 11, 2)]),
            "max(3, 1, 2)",
        ),
        ("Unknown", "max(3, 1, 2)"),
    ),
    (
        "concat([[1],[2]]...)",
        (
            "root",
            0,
            20,
            (
                "call",
                0,
                20,
                "concat",
                [
                    (
                        "list",
                        7,
                        16,
                        [
                            ("list", 8, 11, [("lit", 9, 10, 1)]),
                            ("list", 12, 15, [("lit", 13, 14, 2)]),
                        ],
                    )
                ],
            ),
            "concat([[1],[2]]...)",
        ),
        [[1], [2]],
    ),
    (
        "provider::aws::arn(1)",
        ("parse error", "unexpected ':' after an expression in 'provider::aws::arn(1)'"),
        None,
    ),
    ("var.env", ("root", 0, 7, ("attr", 0, 7, ("var", 0, 3, "var"), "env"), "var.env"), "prod"),
    (
        "(1 + 2) * 3",
        (
            "root",
            0,
            11,
            (
                "bin",
                0,
                11,
                "*",
                ("bin", 1, 6, "+", ("lit", 1, 2, 1), ("lit", 5, 6, 2)),
                ("lit", 10, 11, 3),
            ),
            "(1 + 2) * 3",
        ),
        9,
    ),
    (
        "[1, 2, 3,]",
        (
            "root",
            0,
            10,
            ("list", 0, 10, [("lit", 1, 2, 1), ("lit", 4, 5, 2), ("lit", 7, 8, 3)]),
            "[1, 2, 3,]",
        ),
        [1, 2, 3],
    ),
    ("[]", ("root", 0, 2, ("list", 0, 2, []), "[]"), []),
    (
        "[for x in [1, 2]: x * 2]",
        (
            "root",
            0,
            24,
            (
                "for",
                0,
                24,
                ["x"],
                ("list", 10, 16, [("lit", 11, 12, 1), ("lit", 14, 15, 2)]),
                None,
                ("bin", 18, 23, "*", ("var", 18, 19, "x"), ("lit", 22, 23, 2)),
                None,
                "]",
            ),
            "[for x in [1, 2]: x * 2]",
        ),
        [2, 4],
    ),
    (
        "[for i, x in [5, 6]: i]",
        (
            "root",
            0,
            23,
            (
                "for",
                0,
                23,
                ["i", "x"],
                ("list", 13, 19, [("lit", 14, 15, 5), ("lit", 17, 18, 6)]),
                None,
                ("var", 21, 22, "i"),
                None,
                "]",
            ),
            "[for i, x in [5, 6]: i]",
        ),
        [0, 1],
    ),
    (
        "[for x in [1, 2, 3]: x if x > 1]",
        (
            "root",
            0,
            32,
            (
                "for",
                0,
                32,
                ["x"],
                ("list", 10, 19, [("lit", 11, 12, 1), ("lit", 14, 15, 2), ("lit", 17, 18, 3)]),
                None,
                ("var", 21, 22, "x"),
                ("bin", 26, 31, ">", ("var", 26, 27, "x"), ("lit", 30, 31, 1)),
                "]",
            ),
            "[for x in [1, 2, 3]: x if x > 1]",
        ),
        [2, 3],
    ),
    (
        '{a = 1, "b" = 2, c: 3}',
        (
            "root",
            0,
            22,
            (
                "object",
                0,
                22,
                [
                    (("lit", 1, 2, "a"), ("lit", 5, 6, 1)),
                    (("tmpl", 8, 11, ["b"]), ("lit", 14, 15, 2)),
                    (("lit", 17, 18, "c"), ("lit", 20, 21, 3)),
                ],
            ),
            '{a = 1, "b" = 2, c: 3}',
        ),
        {"a": 1, "b": 2, "c": 3},
    ),
    (
        "{(var.key) = 1}",
        (
            "root",
            0,
            15,
            ("object", 0, 15, [(("attr", 2, 9, ("var", 2, 5, "var"), "key"), ("lit", 13, 14, 1))]),
            "{(var.key) = 1}",
        ),
        {"k": 1},
    ),
    (
        "{for k, v in {a = 1}: k => v}",
        (
            "root",
            0,
            29,
            (
                "for",
                0,
                29,
                ["k", "v"],
                ("object", 13, 20, [(("lit", 14, 15, "a"), ("lit", 18, 19, 1))]),
                ("var", 22, 23, "k"),
                ("var", 27, 28, "v"),
                None,
                "}",
            ),
            "{for k, v in {a = 1}: k => v}",
        ),
        {"a": 1},
    ),
    ("{}", ("root", 0, 2, ("object", 0, 2, []), "{}"), {}),
    (
        "{a = 1 b = 2}",
        (
            "root",
            0,
            13,
            (
                "object",
                0,
                13,
                [(("lit", 1, 2, "a"), ("lit", 5, 6, 1)), (("lit", 7, 8, "b"), ("lit", 11, 12, 2))],
            ),
            "{a = 1 b = 2}",
        ),
        {"a": 1, "b": 2},
    ),
    (
        "{1 = 2}",
        ("root", 0, 7, ("object", 0, 7, [(("lit", 1, 2, 1), ("lit", 5, 6, 2))]), "{1 = 2}"),
        {"1": 2},
    ),
    (
        "{null = 1}",
        (
            "root",
            0,
            10,
            ("object", 0, 10, [(("lit", 1, 5, "null"), ("lit", 8, 9, 1))]),
            "{null = 1}",
        ),
        {"null": 1},
    ),
    (
        "{true = 1}",
        (
            "root",
            0,
            10,
            ("object", 0, 10, [(("lit", 1, 5, "true"), ("lit", 8, 9, 1))]),
            "{true = 1}",
        ),
        {"true": 1},
    ),
    (
        "{[1] = 2}",
        (
            "root",
            0,
            9,
            ("object", 0, 9, [(("list", 1, 4, [("lit", 2, 3, 1)]), ("lit", 7, 8, 2))]),
            "{[1] = 2}",
        ),
        ("error", "an object key must be a string: '[1]'"),
    ),
    (
        "true ? 1 : 2",
        (
            "root",
            0,
            12,
            ("cond", 0, 12, ("lit", 0, 4, True), ("lit", 7, 8, 1), ("lit", 11, 12, 2)),
            "true ? 1 : 2",
        ),
        1,
    ),
    (
        "false ? 1 : 2",
        (
            "root",
            0,
            13,
            ("cond", 0, 13, ("lit", 0, 5, False), ("lit", 8, 9, 1), ("lit", 12, 13, 2)),
            "false ? 1 : 2",
        ),
        2,
    ),
    (
        "var.flag ? 1 : 2",
        (
            "root",
            0,
            16,
            (
                "cond",
                0,
                16,
                ("attr", 0, 8, ("var", 0, 3, "var"), "flag"),
                ("lit", 11, 12, 1),
                ("lit", 15, 16, 2),
            ),
            "var.flag ? 1 : 2",
        ),
        1,
    ),
    (
        "var.missing ? 1 : 2",
        (
            "root",
            0,
            19,
            (
                "cond",
                0,
                19,
                ("attr", 0, 11, ("var", 0, 3, "var"), "missing"),
                ("lit", 14, 15, 1),
                ("lit", 18, 19, 2),
            ),
            "var.missing ? 1 : 2",
        ),
        ("Unknown", "var.missing ? 1 : 2"),
    ),
    (
        "{for x in [1, 1]: x => x...}",
        (
            "root",
            0,
            28,
            (
                "for",
                0,
                28,
                ["x"],
                ("list", 10, 16, [("lit", 11, 12, 1), ("lit", 14, 15, 1)]),
                ("var", 18, 19, "x"),
                ("var", 23, 24, "x"),
                None,
                "}",
            ),
            "{for x in [1, 1]: x => x...}",
        ),
        ("Unknown", "{for x in [1, 1]: x => x...}"),
    ),
    ("!true", ("root", 0, 5, ("unary", 0, 5, "!", ("lit", 1, 5, True)), "!true"), False),
    (
        "!var.flag",
        (
            "root",
            0,
            9,
            ("unary", 0, 9, "!", ("attr", 1, 9, ("var", 1, 4, "var"), "flag")),
            "!var.flag",
        ),
        False,
    ),
    ("-3", ("root", 0, 2, ("unary", 0, 2, "-", ("lit", 1, 2, 3)), "-3"), -3),
    (
        "-var.n",
        ("root", 0, 6, ("unary", 0, 6, "-", ("attr", 1, 6, ("var", 1, 4, "var"), "n")), "-var.n"),
        -4,
    ),
    (
        '-"a"',
        ("root", 0, 4, ("unary", 0, 4, "-", ("tmpl", 1, 4, ["a"])), '-"a"'),
        ("Unknown", '-"a"'),
    ),
    (
        '!"a"',
        ("root", 0, 4, ("unary", 0, 4, "!", ("tmpl", 1, 4, ["a"])), '!"a"'),
        ("Unknown", '!"a"'),
    ),
    (
        "1 == 1",
        ("root", 0, 6, ("bin", 0, 6, "==", ("lit", 0, 1, 1), ("lit", 5, 6, 1)), "1 == 1"),
        True,
    ),
    (
        "1 != 2",
        ("root", 0, 6, ("bin", 0, 6, "!=", ("lit", 0, 1, 1), ("lit", 5, 6, 2)), "1 != 2"),
        True,
    ),
    (
        "true && false",
        (
            "root",
            0,
            13,
            ("bin", 0, 13, "&&", ("lit", 0, 4, True), ("lit", 8, 13, False)),
            "true && false",
        ),
        False,
    ),
    (
        "true || 1",
        ("root", 0, 9, ("bin", 0, 9, "||", ("lit", 0, 4, True), ("lit", 8, 9, 1)), "true || 1"),
        ("error", "cannot evaluate 'true || 1'"),
    ),
    (
        "1 + true",
        ("root", 0, 8, ("bin", 0, 8, "+", ("lit", 0, 1, 1), ("lit", 4, 8, True)), "1 + true"),
        ("error", "cannot evaluate '1 + true'"),
    ),
    (
        "5 / 0",
        ("root", 0, 5, ("bin", 0, 5, "/", ("lit", 0, 1, 5), ("lit", 4, 5, 0)), "5 / 0"),
        ("error", "cannot evaluate '5 / 0'"),
    ),
    ("7 % 3", ("root", 0, 5, ("bin", 0, 5, "%", ("lit", 0, 1, 7), ("lit", 4, 5, 3)), "7 % 3"), 1),
    (
        "1 < 2",
        ("root", 0, 5, ("bin", 0, 5, "<", ("lit", 0, 1, 1), ("lit", 4, 5, 2)), "1 < 2"),
        True,
    ),
    (
        '"a" + 1',
        ("root", 0, 7, ("bin", 0, 7, "+", ("tmpl", 0, 3, ["a"]), ("lit", 6, 7, 1)), '"a" + 1'),
        ("error", "cannot evaluate '\"a\" + 1'"),
    ),
    (
        "var.env + 1",
        (
            "root",
            0,
            11,
            ("bin", 0, 11, "+", ("attr", 0, 7, ("var", 0, 3, "var"), "env"), ("lit", 10, 11, 1)),
            "var.env + 1",
        ),
        ("error", "cannot evaluate 'var.env + 1'"),
    ),
    (
        "var.list[0]",
        (
            "root",
            0,
            11,
            ("index", 0, 11, ("attr", 0, 8, ("var", 0, 3, "var"), "list"), ("lit", 9, 10, 0)),
            "var.list[0]",
        ),
        {"id": 1},
    ),
    (
        "var.list[*].id",
        (
            "root",
            0,
            14,
            ("attr", 0, 14, ("splat", 0, 11, ("attr", 0, 8, ("var", 0, 3, "var"), "list")), "id"),
            "var.list[*].id",
        ),
        ("Unknown", "var.list[*].id"),
    ),
    (
        "var.obj.a.b",
        (
            "root",
            0,
            11,
            ("attr", 0, 11, ("attr", 0, 9, ("attr", 0, 7, ("var", 0, 3, "var"), "obj"), "a"), "b"),
            "var.obj.a.b",
        ),
        7,
    ),
    (
        "var.list.*.id",
        (
            "root",
            0,
            13,
            ("attr", 0, 13, ("splat", 0, 10, ("attr", 0, 8, ("var", 0, 3, "var"), "list")), "id"),
            "var.list.*.id",
        ),
        ("Unknown", "var.list.*.id"),
    ),
    (
        "var.obj.0",
        ("root", 0, 9, ("attr", 0, 9, ("attr", 0, 7, ("var", 0, 3, "var"), "obj"), 0), "var.obj.0"),
        ("Unknown", "var.obj.0"),
    ),
    (
        "[1, 2][1]",
        (
            "root",
            0,
            9,
            ("index", 0, 9, ("list", 0, 6, [("lit", 1, 2, 1), ("lit", 4, 5, 2)]), ("lit", 7, 8, 1)),
            "[1, 2][1]",
        ),
        2,
    ),
    (
        "{a = {b = 3}}.a.b",
        (
            "root",
            0,
            17,
            (
                "attr",
                0,
                17,
                (
                    "attr",
                    0,
                    15,
                    (
                        "object",
                        0,
                        13,
                        [
                            (
                                ("lit", 1, 2, "a"),
                                ("object", 5, 12, [(("lit", 6, 7, "b"), ("lit", 10, 11, 3))]),
                            )
                        ],
                    ),
                    "a",
                ),
                "b",
            ),
            "{a = {b = 3}}.a.b",
        ),
        3,
    ),
    (
        'timeadd(timestamp(), "24h")',
        (
            "root",
            0,
            27,
            (
                "call",
                0,
                27,
                "timeadd",
                [("call", 8, 19, "timestamp", []), ("tmpl", 21, 26, ["24h"])],
            ),
            'timeadd(timestamp(), "24h")',
        ),
        "2026-11-03T09:00:00Z",
    ),
    (
        'format("%s-%d", "a", 3)',
        (
            "root",
            0,
            23,
            (
                "call",
                0,
                23,
                "format",
                [("tmpl", 7, 14, ["%s-%d"]), ("tmpl", 16, 19, ["a"]), ("lit", 21, 22, 3)],
            ),
            'format("%s-%d", "a", 3)',
        ),
        "a-3",
    ),
    (
        'lookup({a = 1}, "a")',
        (
            "root",
            0,
            20,
            (
                "call",
                0,
                20,
                "lookup",
                [
                    ("object", 7, 14, [(("lit", 8, 9, "a"), ("lit", 12, 13, 1))]),
                    ("tmpl", 16, 19, ["a"]),
                ],
            ),
            'lookup({a = 1}, "a")',
        ),
        1,
    ),
    (
        "toset([1, 1])",
        (
            "root",
            0,
            13,
            ("call", 0, 13, "toset", [("list", 6, 12, [("lit", 7, 8, 1), ("lit", 10, 11, 1)])]),
            "toset([1, 1])",
        ),
        [1],
    ),
    (
        "flatten([[1], [2, [3]]])",
        (
            "root",
            0,
            24,
            (
                "call",
                0,
                24,
                "flatten",
                [
                    (
                        "list",
                        8,
                        23,
                        [
                            ("list", 9, 12, [("lit", 10, 11, 1)]),
                            (
                                "list",
                                14,
                                22,
                                [("lit", 15, 16, 2), ("list", 18, 21, [("lit", 19, 20, 3)])],
                            ),
                        ],
                    )
                ],
            ),
            "flatten([[1], [2, [3]]])",
        ),
        [1, 2, 3],
    ),
    ("1 +", ("parse error", "unexpected 'the end' in the expression '1 +'"), None),
    ("(", ("parse error", "unexpected 'the end' in the expression '('"), None),
    ("[1, 2", ("parse error", "expected ',' but found 'the end' in '[1, 2'"), None),
    ("{a = }", ("parse error", "unexpected '}' in the expression '{a = }'"), None),
    (")", ("parse error", "unexpected ')' in the expression ')'"), None),
    ("a.", ("parse error", "expected an attribute name after '.' in 'a.'"), None),
    ("a.[", ("parse error", "expected an attribute name after '.' in 'a.['"), None),
    ("f(1, 2", ("parse error", "expected ',' but found 'the end' in 'f(1, 2'"), None),
    ("{a 1}", ("parse error", "expected ':' but found 1 in '{a 1}'"), None),
    ("@", ("parse error", "unexpected character '@' in the expression '@'"), None),
    ('"unclosed', ("parse error", "a string is not closed (missing '\"')"), None),
    (
        "unknownfn(1)",
        ("root", 0, 12, ("call", 0, 12, "unknownfn", [("lit", 10, 11, 1)]), "unknownfn(1)"),
        ("Unknown", "unknownfn(1)"),
    ),
    (
        "<<EOT\nhello ${var.env}\nEOT",
        (
            "root",
            0,
            26,
            (
                "tmpl",
                0,
                26,
                [
                    "hello ",
                    (
                        "expr",
                        ("root", 0, 7, ("attr", 0, 7, ("var", 0, 3, "var"), "env"), "var.env"),
                    ),
                    "\n",
                ],
            ),
            "<<EOT\nhello ${var.env}\nEOT",
        ),
        "hello prod\n",
    ),
    (
        "<<-EOT\n    indented\n  EOT",
        ("root", 0, 25, ("tmpl", 0, 25, ["indented\n"]), "<<-EOT\n    indented\n  EOT"),
        "indented\n",
    ),
]


@pytest.mark.parametrize(("text", "tree", "value"), CASES, ids=[c[0][:30] for c in CASES])
def test_an_expression_parses_and_evaluates_as_pinned(text: str, tree: Any, value: Any) -> None:
    if isinstance(tree, tuple) and tree[0] == "parse error":
        with pytest.raises(InvalidInput) as caught:
            parse(text)
        assert str(caught.value) == tree[1]
        return
    assert parse(text) == tree
    try:
        got = shown(evaluate(parse(text), resolve, NOW))
    except InvalidInput as exc:
        got = ("error", str(exc))
    assert got == value
