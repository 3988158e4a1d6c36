"""The audit reads its own compact copy of ``from_records``' input (``plain_copy``).

marshal copies the caller's token dicts into objects laid out in order (every later pass over
them is faster), but writes any object with the buffer protocol (numpy's str and numbers,
bytearray, memoryview, array.array) as ``bytes``: the copy is used only when it is proven the
same data, all of it Unicode; anything else is audited as given. Each audit here is compared,
frame by frame, with the same input audited as given (``plain_copy`` switched off), which is
what the audit did before the copy.
"""

from __future__ import annotations

import array
import contextlib
import copy
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from audit_helpers import (
    NOW,
    _identical_frames,
    assert_frames_identical,
    cycle_of_list,
    deep,
    tuple_cycle,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cftokens import _text
from cftokens._text import plain_copy
from cftokens.audit import Audit, core
from cftokens.audit.synth import synthetic_inventory

ZONE = "b" * 32
ACCOUNT = "a" * 32
DNS_WRITE = "4755a26eedb94da69e1066d98aa820be"
ZONE_READ = "c8fed203ed3043cba015a93ad1616f1f"


def token(i: int, name: object = "ci", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"{i:032x}",
        "name": name,
        "status": "active",
        "issued_on": "2026-11-01T00:00:00Z",
        "policies": [
            {
                "id": f"p{i}",
                "effect": "allow",
                "permission_groups": [{"id": DNS_WRITE, "name": "DNS Write"}],
                "resources": {f"com.cloudflare.api.account.zone.{ZONE}": "*"},
            }
        ],
        "condition": {"request.ip": {"in": ["192.0.2.0/24"]}},
        **extra,
    }


def inventory(*tokens: dict[str, Any], **account_tokens: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "tokens": list(tokens),
        "account_tokens": {ACCOUNT: list(account_tokens.get("owned", []))},
        "accounts": [{"id": ACCOUNT, "name": "Acme"}],
        "zones": [{"id": ZONE, "name": "example.com", "account": {"id": ACCOUNT}}],
        "user": {"id": "c" * 32, "email": "ops@example.com"},
        "now": NOW,
    }


FRAMES = ("tokens", "grants", "findings", "gaps")


def frames(audit: Audit) -> dict[str, pd.DataFrame]:
    out = {name: getattr(audit, name) for name in FRAMES}
    out["access"] = pd.DataFrame(audit.access)
    return out


def as_given(monkeypatch: pytest.MonkeyPatch, build: Callable[[], Audit]) -> Audit:
    """The audit of the input as given (no copy): the reference."""
    with monkeypatch.context() as patch:
        patch.setattr(core, "plain_copy", lambda value, repair=None: (None, None))
        return build()


def held(audit: Audit) -> list[object]:
    """What the audit holds of its input: each record, the user and the collection gaps."""
    records = [(r.payload, r.kind, r.owner_id, r.owner_name) for r in audit._records]
    return [records, audit.user, audit._collection_gaps]


def exported(audit: Audit) -> object:
    """The JSON export, read back (without indentation: json's C encoder, the same values and
    the same errors as the indented report, which json writes in Python)."""
    try:
        export = json.loads(audit.to_json(indent=None))
    except Exception as error:  # a value JSON cannot hold (numpy's int64): the same error
        return repr(error)
    del export["generated_at"]
    return export


def assert_same_audit(ours: Audit, reference: Audit) -> None:
    mine, theirs = frames(ours), frames(reference)
    for name, frame in theirs.items():
        assert_frames_identical(mine[name], frame, obj=name)
    assert ours.summary() == reference.summary()
    assert same_kinds(held(ours), held(reference))
    assert exported(ours) == exported(reference)


def both(
    monkeypatch: pytest.MonkeyPatch, inv: dict[str, Any], **kwargs: Any
) -> tuple[Audit, Audit]:
    """The audit through ``from_records`` (copy when proven) and of the input as given."""
    ours = Audit.from_records(**inv, **kwargs)
    reference = as_given(monkeypatch, lambda: Audit.from_records(**inv, **kwargs))
    assert_same_audit(ours, reference)
    return ours, reference


# -- plain_copy itself -------------------------------------------------------------------------


def same_kinds(a: object, b: object) -> bool:
    """Equal values of exactly the same types all the way down (keys included); the same
    object is itself (a cycle, or the caller's own value when neither was copied)."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(
            same_kinds(ka, kb) and same_kinds(a[ka], b[kb]) for ka, kb in zip(a, b, strict=True)
        )
    if isinstance(a, list | tuple):
        assert isinstance(b, list | tuple)
        return len(a) == len(b) and all(map(same_kinds, a, b))
    if isinstance(a, memoryview | array.array):
        return bytes(a) == bytes(b)  # type: ignore[arg-type]
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)  # type: ignore[arg-type]
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)  # type: ignore[arg-type]
    return a == b


def test_plain_data_is_copied_whole_with_its_kinds() -> None:
    """Dicts (in order), lists, tuples, texts (non-BMP too), 64-bit integers at both ends,
    floats (NaN, -0.0, infinities), booleans and None come back equal and of the same types;
    no container is the caller's."""
    value = {
        "tokens": [token(1, "é🙂 ci"), token(2)],
        "t": ("a", 1, None, True, False, 2.5, -0.0, float("nan"), float("inf")),
        "ints": [2**64 - 1, -(2**63), 0],
        "nested": [[{"k": ["v"]}]],
    }
    got, clean = plain_copy(value)
    assert clean is True
    assert same_kinds(got, value)
    assert got is not value and got["tokens"][0] is not value["tokens"][0]
    assert got["tokens"][0]["policies"][0] is not value["tokens"][0]["policies"][0]
    assert type(got["t"]) is tuple
    keys = {1: "int", None: "none", 2.5: "float", False: "bool", "s": {-(2**63): "nested"}}
    got, clean = plain_copy(keys)  # keys other than text: proven on orjson's second try
    assert clean is True and same_kinds(got, keys)


def test_shared_objects_stay_shared_inside_the_copy() -> None:
    policies = [{"effect": "allow", "permission_groups": [{"id": DNS_WRITE}], "resources": {}}]
    name = "shared name " + "x" * 40  # a text object, not an interned constant
    tokens = [{"id": "1", "name": name, "policies": policies}, {"id": "2", "name": name}]
    tokens[1]["policies"] = policies
    got, clean = plain_copy(tokens)
    assert clean is True
    assert got[0]["policies"] is got[1]["policies"] is not policies
    assert got[0]["name"] is got[1]["name"]


BUFFERS: list[object] = [
    np.str_("np name"),
    np.bytes_(b"raw"),
    bytearray(b"ab"),
    memoryview(b"ab"),
    array.array("i", [1]),
    np.int64(3),
    np.float64(1.5),
    np.bool_(True),
    np.array([1, 2]),
    b"bytes",  # real bytes: not told apart from a converted buffer, so not proven either
]


@pytest.mark.parametrize("odd", BUFFERS, ids=lambda v: type(v).__name__)
def test_buffer_objects_anywhere_are_not_proven(odd: object) -> None:
    """marshal writes each of these as bytes: a copy holding them is never used."""
    places: list[object] = [
        [odd],
        {"name": odd},
        {"deep": [{"x": ("t", odd)}]},
        [token(1, extra=odd)],
    ]
    with contextlib.suppress(TypeError):  # unhashable (bytearray, memoryview, array, ndarray)
        places.append({odd: 1})
    for value in places:
        assert plain_copy(value) == (None, None), value


class _Text(str):
    pass


class _Dict(dict):  # type: ignore[type-arg]
    pass


@pytest.mark.parametrize(
    "value",
    [
        [_Text("x")],
        {"a": _Dict(b=1)},
        [OrderedDict(a=1)],
        {_Text("k"): 1},
        [{1, 2}],
        [2**64],
        [-(2**63) - 1],
        {("t", "u"): 1},
        [1 + 2j],
        [lambda: 1],
    ],
    ids=[
        "str-subclass",
        "dict-subclass",
        "OrderedDict",
        "str-subclass-key",
        "set",
        "int-over-64-bits",
        "int-under-64-bits",
        "tuple-key",
        "complex",
        "function",
    ],
)
def test_other_values_are_not_proven(value: object) -> None:
    assert plain_copy(value) == (None, None)


def test_a_surrogate_is_reported_as_unicode_check_would() -> None:
    assert plain_copy([{"name": "x\ud800"}]) == (None, False)
    assert plain_copy({"k\udc00": 1}) == (None, False)
    # beside a value that is not plain: still a surrogate in the caller's own text
    assert plain_copy([np.str_("ok"), ("x\udfff",)]) == (None, False)
    # only numpy's str holds it (bytes in the copy, no text): not proven, the check decides
    assert plain_copy([np.str_("x\ud800")]) == (None, None)


# -- the audit on the copy ---------------------------------------------------------------------


def test_the_audit_reads_a_copy_and_finds_the_same() -> None:
    """A synthetic inventory's audit reads its copy (no payload is the caller's) and its
    frames are those of the input audited as given."""
    inv = synthetic_inventory(300, n_zones=60, n_accounts=4)
    audit = Audit.from_records(**inv)
    callers = {id(t) for t in inv["tokens"]} | {
        id(t) for items in inv["account_tokens"].values() for t in items
    }
    assert not callers & {id(r.payload) for r in audit._records}
    assert audit.user is not inv["user"]


def test_every_frame_is_the_same_on_generated_inventories(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n, seed in ((0, 1), (1, 2), (200, 3)):
        inv = synthetic_inventory(n, n_zones=40, n_accounts=3, seed=seed)
        both(monkeypatch, inv)


@pytest.mark.slow  # 0.8 s of CPU; the inner loop compares up to 200 tokens (above)
def test_every_frame_is_the_same_on_a_larger_generated_inventory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    both(monkeypatch, synthetic_inventory(600, n_zones=40, n_accounts=3, seed=4))


def test_changing_the_callers_dicts_afterwards_changes_nothing() -> None:
    """The audit, its export and a re-run keep what was audited when the caller then edits
    (or empties) its own dicts."""
    inv = inventory(token(1, "ci"), token(2, "deploy"), owned=[token(3, "owned")])
    audit = Audit.from_records(**inv)
    before = frames(audit)
    export = exported(audit)
    rerun_before = frames(audit.rerun())
    for t in [*inv["tokens"], *inv["account_tokens"][ACCOUNT]]:
        t["name"] = "renamed"
        t["policies"][0]["permission_groups"][0]["id"] = ZONE_READ
        t["policies"][0]["resources"].clear()
        t["condition"]["request.ip"]["in"].append("0.0.0.0/0")
    inv["tokens"].append(token(9, "late"))
    inv["user"]["email"] = "someone@else.example"
    assert exported(audit) == export
    for name, frame in frames(audit.rerun()).items():
        pd.testing.assert_frame_equal(frame, rerun_before[name], obj=name)
    for name, frame in frames(audit).items():
        pd.testing.assert_frame_equal(frame, before[name], obj=name)


def numpy_inventory(where: str) -> dict[str, Any]:
    """One token with a numpy value (or bytearray/memoryview/array) in one place."""
    t = token(1, "plain")
    policy = t["policies"][0]
    if where == "name":
        t["name"] = np.str_("numpy name")
    elif where == "key":
        policy["resources"] = {np.str_(f"com.cloudflare.api.account.zone.{ZONE}"): "*"}
    elif where == "group":
        policy["permission_groups"] = [{"id": np.str_(DNS_WRITE)}]
    elif where == "condition":
        t["condition"] = {"request.ip": {"in": [np.str_("10.0.0.0/8")]}}
    elif where == "unread":
        t["meta"] = {"n": np.int64(7), "b": bytearray(b"x"), "m": memoryview(b"y"), "f": 1.5}
        t["arr"] = array.array("i", [1, 2])
    elif where == "owner":
        return {**inventory(), "account_tokens": {np.str_(ACCOUNT): [t]}}
    elif where == "gap":
        return {**inventory(t), "gaps": [{"kind": "collection", "what": np.str_("listing")}]}
    elif where == "directory":
        inv = inventory(t)
        inv["zones"] = [{"id": ZONE, "name": np.str_("example.com"), "account": {"id": ACCOUNT}}]
        return inv
    return inventory(t, token(2, "clean neighbour"))


@pytest.mark.parametrize(
    "where", ["name", "key", "group", "condition", "unread", "owner", "gap", "directory"]
)
def test_numpy_values_anywhere_are_audited_as_given(
    where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read as the audit reads the value itself, never as the bytes marshal would copy."""
    ours, _ = both(monkeypatch, numpy_inventory(where))
    if where in ("key", "group"):
        assert "DNS Write" in set(ours.grants["group"])
    if where == "directory":
        assert "example.com" in set(ours.access["resource_name"])


def test_subclasses_are_audited_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    masked = _Dict(token(1, "subclass"))
    inv = inventory(masked, token(2, _Text("str subclass")))
    ours, _ = both(monkeypatch, inv)
    assert "subclass" in set(ours.tokens["name"])


def test_shared_objects_are_audited_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = token(1, "one"), token(2, "two")
    second["policies"] = first["policies"]  # one policy list for both tokens
    second["condition"] = first["condition"]
    inv = inventory(first, second, first, owned=[second])  # a token listed twice, too
    both(monkeypatch, inv)


def test_lone_surrogates_read_as_u_fffd_through_the_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A surrogate in a name, a key, the owner's account id, the user and a gap: U+FFFD
    everywhere, as the input audited as given; numpy's str hiding one too."""
    hidden = token(3, np.str_("numpy \ud800"))
    inv = inventory(token(1, "x\ud800"), token(2, "ok", **{"k\udc00": 1}), hidden)
    inv["user"] = {"id": "c" * 32, "email": "ops\udfff@example.com"}
    inv["gaps"] = [{"kind": "collection", "what": "list\ud800", "reason": "r"}]
    ours, _ = both(monkeypatch, inv)
    names = set(ours.tokens["name"])
    assert {"x\ufffd", "numpy \ufffd"} <= names
    assert "list\ufffd" in set(ours.gaps["what"])
    json.dumps(json.loads(ours.to_json())).encode()  # every text encodable


def test_deep_and_cyclic_unread_fields_are_audited_as_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cycle: list[Any] = ["x"]
    cycle.append(cycle)
    for extra in (deep(300), deep(5000), cycle, tuple_cycle()):
        t = token(1, "deep", extra=extra)
        inv = inventory(t, token(2, "other"))
        if extra is cycle or len(extra) != 1 or len(deep_levels(extra)) < 1000:
            ours, _ = both(monkeypatch, inv)
        else:  # held values too deep for same_kinds to walk: the frames and the export
            ours, _ = same_frames(monkeypatch, inv)
        assert len(ours.tokens) == 2


def deep_levels(value: list[Any]) -> list[list[Any]]:
    """The lists of ``deep(n)``, outermost first."""
    levels = []
    while isinstance(value, list) and value and isinstance(value[0], list):
        levels.append(value)
        value = value[0]
    return levels


def same_frames(monkeypatch: pytest.MonkeyPatch, inv: dict[str, Any]) -> tuple[Audit, Audit]:
    """:func:`both` for input whose held values (cycles, thousands of levels) its comparison
    of kinds cannot walk: the frames, the summary and the export."""
    ours = Audit.from_records(**inv)
    reference = as_given(monkeypatch, lambda: Audit.from_records(**inv))
    mine, theirs = frames(ours), frames(reference)
    for name, frame in theirs.items():
        assert_frames_identical(mine[name], frame, obj=name)
    assert ours.summary() == reference.summary()
    assert exported(ours) == exported(reference)
    return ours, reference


def test_a_json_copy_of_the_inventory_is_audited_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's objects decoded from JSON (fresh objects, no text shared) go through the
    copy too, with the same frames."""
    inv = synthetic_inventory(150, n_zones=30, n_accounts=3, seed=5)
    now = inv.pop("now")
    decoded = json.loads(json.dumps(inv))
    both(monkeypatch, {**decoded, "now": now})
    assert copy.deepcopy(decoded) == decoded  # the audit left the caller's data as it was


# -- odd but plain values anywhere: the copy is used, and finds what the input as given does --

# values marshal copies as themselves (so the copy is proven and audited), in every place a
# token's reader looks: the wrong kinds, floats that compare oddly, integers at the ends of
# 64 bits, texts with NUL, line separators, combining marks, and the API's own values
PLAIN_ODD: list[object] = [
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**63),
    2**64 - 1,
    1.5,
    -0.0,
    math.nan,
    math.inf,
    "",
    "*",
    "\x00",
    "a\x00b",
    "\u2028",
    "e\u0301",
    "ﬁ",
    "x" * 3000,
    "🙂",
    "active",
    "disabled",
    "expired",
    "allow",
    "deny",
    DNS_WRITE,
    ZONE_READ,
    ZONE,
    ACCOUNT,
    "2026-11-01T00:00:00Z",
    "2026-11-01T00:00:00.5Z",
    "2026-02-30T00:00:00Z",
    "192.0.2.0/24",
    "0.0.0.0/0",
    "2001:db8::/32",
    f"com.cloudflare.api.account.zone.{ZONE}",
    "com.cloudflare.api.account.zone.*",
    f"com.cloudflare.api.account.{ACCOUNT}",
    (),
    [],
    {},
    ("192.0.2.0/24",),
    {"id": DNS_WRITE},
    ({"id": ZONE_READ, "name": "Zone Read"},),
    {f"com.cloudflare.api.account.{ACCOUNT}": {f"com.cloudflare.api.account.zone.{ZONE}": "*"}},
]
# places a token's reader reads (a missing step on the way leaves the token as it is)
PLACES: list[tuple[object, ...]] = [
    ("id",),
    ("name",),
    ("status",),
    ("issued_on",),
    ("expires_on",),
    ("not_before",),
    ("last_used_on",),
    ("condition",),
    ("condition", "request.ip"),
    ("condition", "request.ip", "in"),
    ("condition", "request.ip", "not_in"),
    ("policies",),
    ("policies", 0),
    ("policies", 0, "id"),
    ("policies", 0, "effect"),
    ("policies", 0, "permission_groups"),
    ("policies", 0, "permission_groups", 0),
    ("policies", 0, "permission_groups", 0, "id"),
    ("policies", 0, "permission_groups", 0, "name"),
    ("policies", 0, "resources"),
    ("policies", 0, "resources", f"com.cloudflare.api.account.zone.{ZONE}"),
    ("extra",),
]


def _put(target: dict[str, Any], place: tuple[object, ...], value: object) -> None:
    at: Any = target
    for step in place[:-1]:
        try:
            at = at[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(at, dict) or (isinstance(at, list) and isinstance(place[-1], int) and at):
        at[place[-1]] = value


@pytest.mark.parametrize(
    "examples", [3, *(pytest.param(n, marks=pytest.mark.slow) for n in (6, 50))]
)
def test_odd_plain_values_anywhere_are_audited_through_the_copy_alike(
    examples: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile but plain values (wrong kinds, NaN, -0.0, 64-bit ends, NUL, U+2028, tuples for
    lists, a policy list shared by two tokens, a token listed twice) in any place a token is
    read: the copy is proven the same data, then audited with the same frames, summary, held
    values and export as the input audited as given."""
    edit = st.tuples(st.integers(0, 2), st.sampled_from(PLACES), st.sampled_from(PLAIN_ODD))

    @given(st.lists(edit, max_size=5), st.booleans(), st.booleans())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    def check(
        edits: list[tuple[int, tuple[object, ...], object]], share: bool, twice: bool
    ) -> None:
        tokens = [token(1, "one"), token(2, "two"), token(3, "owned")]
        for at, place, value in edits:
            _put(tokens[at], place, copy.deepcopy(value))
        if share:
            tokens[1]["policies"] = tokens[0].get("policies")
        inv = inventory(tokens[0], tokens[1], *tokens[:1] * twice, owned=[tokens[2]])
        copied, clean = plain_copy((inv["tokens"], inv["account_tokens"], inv["user"]))
        assert clean is True and same_kinds(
            copied, (inv["tokens"], inv["account_tokens"], inv["user"])
        )
        both(monkeypatch, inv)

    check()


# -- a lone surrogate: the copy repaired -------------------------------------------------------


def test_plain_copy_repairs_a_surrogate_and_proves_the_result() -> None:
    from cftokens._text import unicode_tree

    value = [{"name": "x\ud800", "ok": ("é", 1)}, {"name": "clean"}]
    got, clean = plain_copy(value, unicode_tree)
    assert clean is True and got == [{"name": "x\ufffd", "ok": ("é", 1)}, {"name": "clean"}]
    assert got[1] is not value[1]
    assert plain_copy(value, lambda copy: None) == (None, False)  # declined
    assert plain_copy(value, lambda copy: copy) == (None, False)  # a surrogate left

    def deep_repair(copy: object) -> object:
        raise RecursionError

    assert plain_copy(value, deep_repair) == (None, False)
    # not plain once repaired (numpy's str is bytes in the copy): not used
    assert plain_copy([*value, np.str_("n")], unicode_tree) == (None, False)


def surrogate_inventory() -> dict[str, Any]:
    inv = inventory(
        token(1, "x\ud800"),
        token(2, "ok", **{"k\udc00": 1}),
        token(3, "clean"),
        owned=[token(4, "owned \udfff"), token(5, "owned clean")],
    )
    inv["account_tokens"]["e" * 31 + "\ud800"] = [token(6, "odd owner")]
    inv["user"] = {"id": "c" * 32, "email": "ops\udfff@example.com"}
    inv["gaps"] = [{"kind": "collection", "what": "list\ud800", "reason": "r"}]
    return inv


def audited_from_copy(monkeypatch: pytest.MonkeyPatch, inv: dict[str, Any]) -> tuple[Audit, bool]:
    """The audit of ``inv`` and whether it read a copy (the token part's plain_copy)."""
    answers: list[tuple[Any, bool | None]] = []

    def spy(value: Any, repair: Any = None) -> tuple[Any, bool | None]:
        answers.append(plain_copy(value, repair))
        return answers[-1]

    with monkeypatch.context() as patch:
        patch.setattr(core, "plain_copy", spy)
        audit = Audit.from_records(**inv)
    assert len(answers) == 1
    return audit, answers[0][0] is not None


def test_a_surrogate_is_repaired_in_the_copy_as_it_would_be_in_the_input(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The copy's tokens holding one go through unicode_tree, the owners' ids, the user and
    the gaps too: the same audit as the input repaired as given, read from the copy."""
    inv = surrogate_inventory()
    ours, copied = audited_from_copy(monkeypatch, inv)
    assert copied
    assert_same_audit(ours, as_given(monkeypatch, lambda: Audit.from_records(**inv)))
    assert {"x\ufffd", "owned \ufffd", "clean"} <= set(ours.tokens["name"])
    assert "e" * 31 + "\ufffd" in set(ours.tokens["owner_id"])
    assert "ops\ufffd@example.com" in set(ours.tokens["owner_name"])
    assert inv["tokens"][0]["name"] == "x\ud800"  # the caller's input as it was


@pytest.mark.parametrize(
    "odd",
    [
        {"user": {"id": 12345, "email": "ops@example.com"}},
        {"user": {"id": "c" * 32, "email": ["ops\ud800"]}},
        {"extra": 2**70},
        {"extra": np.str_("numpy")},
    ],
    ids=["int-user-id", "list-email", "huge-int", "numpy-str"],
)
def test_a_surrogate_beside_what_the_repair_leaves_is_audited_as_given(
    odd: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    inv = surrogate_inventory()
    if "user" in odd:
        inv["user"] = odd["user"]
    else:
        inv["tokens"].append(token(7, "odd", extra=odd["extra"]))
    ours, copied = audited_from_copy(monkeypatch, inv)
    assert not copied  # as given, then repaired
    assert_same_audit(ours, as_given(monkeypatch, lambda: Audit.from_records(**inv)))


@pytest.mark.parametrize("shape", ["cycle", "tuple cycle", "deep"])
def test_a_surrogate_beside_a_cyclic_or_deep_field_reads_as_u_fffd(
    shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token with a lone surrogate in its name and a cyclic or very deep field the audit
    never reads: the name was kept with its surrogate (the repair of the token stopped at the
    recursion limit and the token was audited unrepaired), so a lone surrogate reached the
    frames. Every text the audit shows reads U+FFFD, copy or not; the user and the gaps
    holding such a value too (they stopped the audit with a RecursionError)."""
    extra: Any = {"cycle": cycle_of_list(), "tuple cycle": tuple_cycle(), "deep": deep(3000)}
    value = extra[shape]
    inv = inventory(token(1, "bad\ud800", extra=value), token(2, "ok"))
    inv["user"] = {"id": "c" * 32, "email": "ops\udfff@example.com", "extra": value}
    inv["gaps"] = [{"kind": "collection", "what": "list\ud800", "reason": "r", "extra": value}]
    for audit in same_frames(monkeypatch, inv):
        assert "bad\ufffd" in set(audit.tokens["name"])
        assert "list\ufffd" in set(audit.gaps["what"])
        assert audit.user is not None and audit.user["email"] == "ops\ufffd@example.com"
        for name in FRAMES:
            getattr(audit, name).to_csv().encode()  # no lone surrogate in any frame


# -- the copy in pieces (_text._PIECE objects at a time) ----------------------------------------

#: The pieces' size in these tests: the same boundaries as _text._PIECE's 2,048, crossed by
#: inventories of tens of tokens instead of thousands (the real size: the slow frame test).
PIECE = 16


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_text, "_PIECE", PIECE)


def pieces_input(n: int = 2 * PIECE + 10) -> tuple[Any, ...]:
    """``from_records``' copied input, its tokens over three pieces and more."""
    tokens = [token(i, f"t{i}") for i in range(n)]
    owned = [(ACCOUNT, [token(n + i, f"o{i}") for i in range(5)]), ("e" * 32, [])]
    return (tokens, owned, {"id": "c" * 32, "email": "ops@example.com"}, [{"kind": "k"}])


@pytest.mark.usefixtures("small_pieces")
def test_a_value_in_many_pieces_is_copied_whole_with_its_kinds() -> None:
    """Every level's lists and tuples rebuilt as they were around copies of what they hold,
    in order; no container is the caller's."""
    value: Any = pieces_input()
    value = (*value, ((("a", [1, (2.5, None)]), [[[("deep", [True])]]]),), [], ())
    got, clean = plain_copy(value)
    assert clean is True and same_kinds(got, value)
    assert [t["name"] for t in got[0]] == [t["name"] for t in value[0]]
    assert got[0] is not value[0] and got[1][0][1] is not value[1][0][1]
    assert not {id(t) for t in value[0]} & {id(t) for t in got[0]}


@pytest.mark.usefixtures("small_pieces")
def test_objects_shared_across_pieces_are_copied_equal() -> None:
    tokens, *rest = pieces_input()
    shared = tokens[0]["policies"]
    for at in (1, PIECE + 1, 2 * PIECE + 1):
        tokens[at]["policies"] = shared
    got, clean = plain_copy((tokens, *rest))
    assert clean is True and same_kinds(got, (tokens, *rest))
    assert got[0][0]["policies"] is got[0][1]["policies"]  # one piece: still shared
    assert got[0][PIECE + 1]["policies"] == shared and got[0][PIECE + 1]["policies"] is not shared


ODD_IN_A_PIECE: list[object] = [
    np.str_("numpy"),
    b"raw",
    {1, 2},
    2**64,
    _Text("t"),
    _Dict(a=1),
    deep(300),
    {("t",): 1},
]


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize("at", [0, PIECE - 1, PIECE, 2 * PIECE + 5, "owned", "user", "gap"])
@pytest.mark.parametrize("odd", ODD_IN_A_PIECE, ids=lambda v: type(v).__name__)
def test_a_value_not_proven_in_any_piece_is_found(at: object, odd: object) -> None:
    tokens, owned, user, gaps = pieces_input()
    if at == "owned":
        owned[0][1][2]["extra"] = odd
    elif at == "user":
        user["extra"] = odd
    elif at == "gap":
        gaps[0]["extra"] = odd
    else:
        assert isinstance(at, int)
        tokens[at]["extra"] = odd
    assert plain_copy((tokens, owned, user, gaps)) == (None, None)


class _List(list):  # type: ignore[type-arg]
    pass


class _Pair(tuple):  # type: ignore[type-arg]
    pass


@pytest.mark.usefixtures("small_pieces")
def test_list_and_tuple_subclasses_around_the_objects_are_not_proven() -> None:
    """A subclass where the copy rebuilds lists and tuples is not rebuilt as one: marshal
    reads it, and refuses it."""
    tokens, owned, user, gaps = pieces_input(3)
    for value in (
        (_List(tokens), owned, user, gaps),
        (tokens, [_Pair(owned[0])], user, gaps),
        (tokens, [(ACCOUNT, _List(owned[0][1]))], user, gaps),
        _List([tokens]),
    ):
        assert plain_copy(value) == (None, None)


@pytest.mark.usefixtures("small_pieces")
@pytest.mark.parametrize("at", [0, PIECE, 2 * PIECE + 5, "owned"])
def test_a_surrogate_in_any_piece_is_reported_or_repaired(at: object) -> None:
    from cftokens._text import unicode_tree

    tokens, owned, user, gaps = pieces_input()
    target = owned[0][1][1] if at == "owned" else tokens[at]
    target["name"] = "x\ud800"
    value = (tokens, owned, user, gaps)
    assert plain_copy(value) == (None, False)
    got, clean = plain_copy(value, unicode_tree)
    assert clean is True and same_kinds(got, unicode_tree(value))
    assert target["name"] == "x\ud800"  # the caller's value as it was


@pytest.mark.usefixtures("small_pieces")
def test_a_surrogate_and_a_value_not_proven_in_other_pieces() -> None:
    """A surrogate in one piece and a value not proven in a later one: the surrogate is
    reported; the other way round, not proven (each answer is the contract's)."""
    tokens, *rest = pieces_input()
    tokens[1]["name"] = "x\ud800"
    tokens[2 * PIECE + 1]["extra"] = np.str_("numpy")
    assert plain_copy((tokens, *rest)) == (None, False)
    tokens[1]["name"], tokens[2 * PIECE + 1]["name"] = "ok", "x\ud800"
    tokens[1]["extra"], tokens[2 * PIECE + 1]["extra"] = np.str_("numpy"), 1
    assert plain_copy((tokens, *rest)) == (None, None)


@pytest.mark.parametrize(
    ("piece", "more"),
    [
        pytest.param(PIECE, 40, id="tiny"),  # the inner loop's: five pieces and a part
        pytest.param(PIECE, 300, id="small", marks=pytest.mark.slow),
        pytest.param(_text._PIECE, 300, id="real", marks=pytest.mark.slow),
    ],
)
def test_every_frame_is_the_same_with_tokens_in_several_pieces(
    monkeypatch: pytest.MonkeyPatch, piece: int, more: int
) -> None:
    monkeypatch.setattr(_text, "_PIECE", piece)
    inv = synthetic_inventory(2 * piece + more, n_zones=40, n_accounts=3, seed=6)
    every = [*inv["tokens"], *(t for items in inv["account_tokens"].values() for t in items)]
    every[piece + 7]["name"] = "late \ud800 name"  # in the second piece
    every[2 * piece + 8]["policies"] = every[3].get("policies")  # shared by two pieces
    ours, copied = audited_from_copy(monkeypatch, inv)
    assert copied
    assert_same_audit(ours, as_given(monkeypatch, lambda: Audit.from_records(**inv)))


def test_the_fast_frame_comparison_fails_wherever_assert_frame_equal_does() -> None:
    """``assert_frames_identical`` (the comparison of the differential tests above) passes
    equal frames and fails on each change ``assert_frame_equal(check_exact=True)`` fails on:
    a value, an NA moved, a float, a dtype, categories reordered, an index, a
    column label, an object column."""
    audit = Audit.from_records(**inventory(token(1, "one"), token(2, "two")))
    frame = audit.tokens
    assert _identical_frames(frame, frame.copy())  # decided without assert_frame_equal
    assert_frames_identical(frame, frame.copy())

    def changed(edit: Callable[[pd.DataFrame], pd.DataFrame | None]) -> pd.DataFrame:
        copy_ = frame.copy()
        out = edit(copy_)
        return copy_ if out is None else out

    def cats(f: pd.DataFrame) -> None:
        f["status"] = f["status"].cat.reorder_categories(f["status"].cat.categories[::-1])

    edits: list[Callable[[pd.DataFrame], pd.DataFrame | None]] = [
        lambda f: f.__setitem__("name", pd.array(["one", "other"], dtype=f["name"].dtype)),
        lambda f: f.__setitem__("age_days", pd.array([None, f["age_days"][1]], dtype="Int64")),
        lambda f: f.__setitem__("risk_score", f["risk_score"] + 0.5),
        lambda f: f.__setitem__("n_policies", f["n_policies"].astype("int64")),
        cats,
        lambda f: f.set_axis([5, 6], axis=0),
        lambda f: f.rename(columns={"name": "Name"}),
        lambda f: f.__setitem__("name", f["name"].astype(object)),
    ]
    for edit in edits:
        other = changed(edit)
        with pytest.raises(AssertionError):
            pd.testing.assert_frame_equal(other, frame, check_exact=True)
        assert not _identical_frames(other, frame)
        with pytest.raises(AssertionError):
            assert_frames_identical(other, frame)
