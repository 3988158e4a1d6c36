"""The compact copy (``plain_copy``) on values nested deep or in cycles, and made in threads.

marshal writes nesting up to 2,000 levels and copies a cycle whole (through a tuple too), where
orjson counts the depth of dicts and lists only: each piece's nesting is bounded by marshal's own
limit before orjson reads it, and msgspec reads it first for cycles. The shapes that crashed a
process run in a child process, so a crash fails its test alone.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from audit_helpers import deep

from cftokens import _text
from cftokens._text import plain_copy


def test_deep_and_cyclic_values_are_not_proven_and_do_not_crash() -> None:
    assert plain_copy(deep(300)) == (None, None)  # marshal writes it; orjson stops at 254
    assert plain_copy(deep(5000)) == (None, None)  # marshal refuses past 2,000
    cycle: list[Any] = ["x"]
    cycle.append(cycle)
    assert plain_copy({"a": cycle}) == (None, None)


def _child_output(code: str) -> str:
    """What ``code`` prints in a child interpreter; the child must exit normally (a crash
    there, such as a segmentation fault, fails the test alone)."""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    return done.stdout


def _child(code: str) -> list[str]:
    """What ``code`` prints in a child interpreter, split into words (see _child_output)."""
    return _child_output(code).split()


# The shapes that crashed a process, each its own code. The inner loop's tests read what one
# child interpreter printed for all of them (one interpreter's start instead of one each); a
# crash there fails each of these tests, never the test process.
CRASH_CASES = {
    # orjson limits its depth in dicts and lists but not through a tuple
    "tuple cycle": (
        "from cftokens._text import plain_copy\n"
        "loop = ['x']\n"
        "loop.append((loop,))\n"
        "print(plain_copy({'a': loop}), plain_copy([(loop, 'y')]), plain_copy([loop, 'x\\ud800']))"
    ),
    # the repaired copy is read by msgspec before orjson, as the copy is
    "repair": (
        "from cftokens._text import plain_copy\n"
        "loop = ['x']\n"
        "loop.append((loop,))\n"
        "print(plain_copy(['x\\ud800', loop], lambda copy: [copy[1]]))"
    ),
    # a tuple cycle in the third piece; lists holding themselves where the copy rebuilds lists
    "later pieces": (
        "from cftokens._text import plain_copy, _PIECE\n"
        "tokens = [{'id': str(i)} for i in range(2 * _PIECE + 10)]\n"
        "loop = ['x']\n"
        "loop.append((loop,))\n"
        "tokens[2 * _PIECE + 3]['extra'] = {'a': loop}\n"
        "print(plain_copy((tokens, [], None, [])))\n"
        "shell = []\n"
        "shell.append(shell)\n"
        "print(plain_copy((shell, [('a', shell)], None, [])), plain_copy(shell))\n"
        "pair = ['a']\n"
        "pair.append((pair, [pair]))\n"
        "print(plain_copy((pair,)))"
    ),
}
_MARK = "=== case"


def _cases_code(cases: dict[str, str]) -> str:
    """Code running each case in turn, in a namespace of its own, after a line naming it."""
    return (
        f"cases = {cases!r}\n"
        "for name, case in cases.items():\n"
        f"    print({_MARK!r}, name, flush=True)\n"
        "    exec(case, {})\n"
    )


def _split_cases(output: str, names: list[str]) -> dict[str, list[str]]:
    """The words each case printed, from the child's output: the lines after its mark."""
    out: dict[str, list[str]] = {}
    lines: list[str] = []
    for line in output.splitlines():
        if line.startswith(_MARK + " "):
            lines = out.setdefault(line[len(_MARK) + 1 :], [])
        else:
            lines.extend(line.split())
    assert list(out) == names, (list(out), names)
    return out


@pytest.fixture(scope="module")
def crash_cases() -> dict[str, list[str]]:
    """What each of :data:`CRASH_CASES` printed (split into words), all run by one child
    interpreter, in turn."""
    return _split_cases(_child_output(_cases_code(CRASH_CASES)), list(CRASH_CASES))


def test_a_cycle_through_a_tuple_is_not_proven_and_does_not_crash(
    crash_cases: dict[str, list[str]],
) -> None:
    """orjson limits its depth in dicts and lists but not through a tuple: a cycle there ran
    its encoder until the process died (a segmentation fault, where the audit as given
    finishes). Run in a child process, so a crash fails the tests of that child alone."""
    assert crash_cases["tuple cycle"] == ["(None,", "None)", "(None,", "None)", "(None,", "None)"]


def _nested(levels: int, pattern: str = "t") -> str:
    """Code for a value nested ``levels`` deep: containers cycled through ``pattern`` (``t``
    a tuple, ``l`` a list, ``d`` a dict), a text at the bottom."""
    wrap = {"t": "v = (v,)", "l": "v = [v]", "d": "v = {'k': v}"}
    steps = "; ".join(wrap[kind] for kind in pattern)
    return f"v = 'x'\nfor _ in range({levels} // {len(pattern)}):\n    {steps}\n"


def _nesting_cases() -> tuple[str, list[str]]:
    """Code appending to ``answers`` whether each nested shape's copy is proven, and the
    answers expected: the shapes at 250-256 and 1,996 levels, and deep tuples and mixes with
    the recursion limit as it is and raised (the code raises it)."""
    code = (
        "import sys\n"
        "from cftokens._text import plain_copy\n"
        "def tokens(v):\n"
        "    return [{'id': str(i), 'name': 'n', 'extra': v} for i in range(40)]\n"
        "answers = []\n"
    )
    cases = [(n, p) for p in ("l", "d", "t", "tl", "dt") for n in (250, 252, 254, 256, 1_996)]
    cases += [(500, "t"), (900, "t"), (1_200, "ttl"), (800, "tld")]
    for levels, pattern in cases:
        code += _nested(levels, pattern) + "answers.append(str(plain_copy(tokens(v))[1]))\n"
    code += "sys.setrecursionlimit(20_000)\n"
    for levels, pattern in cases[-4:]:
        code += _nested(levels, pattern) + "answers.append(str(plain_copy(tokens(v))[1]))\n"
    # the piece's list and the token's dict, then the field's containers
    expected = ["True" if 2 + levels <= 254 else "None" for levels, _ in cases]
    return code, expected + ["None"] * 4


@pytest.mark.slow  # a child interpreter; the inner loop runs the same cases in its own process
def test_nesting_is_bounded_whatever_the_containers() -> None:
    """orjson counts the depth of dicts and lists but not of tuples, and nesting of ~500
    tuples or more (marshal writes up to 2,000) overran its buffer: the process aborted
    (``realloc(): invalid next size``) or went on with corrupted memory. msgspec's check before
    it stops at Python's recursion limit, ~1,000 by default, more when a program raises it (and
    on Python 3.12+, a C limit of its own): no bound. A token's field nested in lists, dicts,
    tuples or a mix is proven while the piece (a list of tokens, each a dict) nests at most 254
    containers, as orjson decides for lists and dicts; deeper not, up to marshal's 2,000 levels,
    with the recursion limit as it is and raised (a child process: a crash, or a corrupted heap
    found when it exits, fails this test alone)."""
    code, expected = _nesting_cases()
    assert _child(code + "print(*answers)") == expected


def test_nesting_is_bounded_in_this_process() -> None:
    """The cases of test_nesting_is_bounded_whatever_the_containers run here, without a child
    interpreter's start (a crash here stops the test process, which fails the run as loudly;
    the child's check of the heap at its exit is the full run's)."""
    code, expected = _nesting_cases()
    namespace: dict[str, Any] = {}
    limit = sys.getrecursionlimit()
    try:
        exec(code, namespace)  # the test's own code
    finally:
        sys.setrecursionlimit(limit)
    assert namespace["answers"] == expected


def test_the_depth_guard_copies_whole_whatever_marshals_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The chain of lists above each piece is as long as marshal's limit allows (CPython's
    2,000: far above orjson's 254), and one list where that limit were below orjson's (its own
    limit then bounds the copy): the value comes back whole either way."""
    assert _text._marshal_depth() > _text._NESTING + 1_000
    assert plain_copy([deep(200), {"a": (1,)}]) == ([deep(200), {"a": (1,)}], True)
    monkeypatch.setattr(_text, "_marshal_depth", lambda: 60)
    _text._depth_guard.cache_clear()  # one guard per process, made for this limit
    try:
        assert _text._depth_guard().levels == 1
        assert plain_copy([deep(50), {"a": (1,)}]) == ([deep(50), {"a": (1,)}], True)
    finally:
        _text._depth_guard.cache_clear()


def test_copies_made_at_once_in_threads_are_each_whole() -> None:
    """The depth guard's chain is shared by the process: copies made in several threads at
    once each come back whole, their own value (one waits for none: a chain of its own)."""
    import threading

    values = [[{"id": str(k), "n": [k] * k, "t": (k, str(k))} for _ in range(50)] for k in range(6)]
    got: dict[int, object] = {}

    def copy_many(k: int) -> None:
        for _ in range(30):
            copied, clean = plain_copy(values[k])
            assert clean is True and copied == values[k] and copied is not values[k], k
        got[k] = copied

    threads = [threading.Thread(target=copy_many, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == list(range(6))


def test_a_repair_that_leaves_a_cycle_through_a_tuple_does_not_crash(
    crash_cases: dict[str, list[str]],
) -> None:
    """The repaired copy is read by msgspec before orjson, as the copy is (run in a child
    process, so a crash fails the tests of that child alone)."""
    assert crash_cases["repair"] == ["(None,", "False)"]


def test_cycles_in_later_pieces_and_around_them_are_not_proven_and_do_not_crash(
    crash_cases: dict[str, list[str]],
) -> None:
    """A cycle through a tuple in a token of the third piece, and lists holding themselves
    where the copy rebuilds lists (run in a child process: a crash fails the tests of that
    child alone)."""
    assert crash_cases["later pieces"] == ["(None,", "None)"] * 4


def test_each_case_gets_the_words_it_printed() -> None:
    """The shared child's output split by case: each case's words are its own (none
    included); a case missing from the output (the child stopped before it) fails."""
    output = "=== case one\na b\n=== case two words\nc\n=== case three\n"
    assert _split_cases(output, ["one", "two words", "three"]) == {
        "one": ["a", "b"],
        "two words": ["c"],
        "three": [],
    }
    with pytest.raises(AssertionError):
        _split_cases("=== case one\na\n=== case two words\n", ["one", "two words", "three"])
