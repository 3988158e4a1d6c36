"""The readers' memos (``model._util.remember``): a listing reads the same timestamps,
permission groups and resource maps thousands of times; each is built once and shared,
results stay identical to a fresh read, and malformed values are still refused every time."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import cftokens as cft
from cftokens.model import _util, policy
from cftokens.model.policy import PermissionGroupRef, Policy
from cftokens.model.resources import Resource

ACCOUNT = "d04f9ef2d861940e4ab02551fc923339"
ZONE = "0123456789abcdef0123456789abcdef"
GROUP = {"id": "82e64a83756745bbbb1c9c2701bf816b", "name": "DNS Read"}


def token(n: int, resources: Any, group: Any = None) -> dict[str, Any]:
    return {
        "id": f"{n:032x}",
        "name": f"t{n}",
        "status": "active",
        "issued_on": "2026-11-02T09:00:00Z",
        "modified_on": "2026-11-02T09:30:00Z",
        "policies": [
            {
                "id": f"{n + 1000:032x}",
                "effect": "allow",
                "permission_groups": [group or dict(GROUP)],
                "resources": resources,
            }
        ],
    }


def fresh(payload: dict[str, Any]) -> cft.Token:
    """The token read with every memo empty."""
    _util._TIMES.clear()
    policy._GROUP_REFS.clear()
    policy._RESOURCES.clear()
    return cft.Token.from_api(payload)


RESOURCE_MAPS = [
    {f"com.cloudflare.api.account.{ACCOUNT}": {"com.cloudflare.api.account.zone.*": "*"}},
    {f"com.cloudflare.api.account.{ACCOUNT}": {f"com.cloudflare.api.account.zone.{ZONE}": "*"}},
    {f"com.cloudflare.api.account.zone.{ZONE}": "*", "com.cloudflare.api.account.*": "*"},
    {f"com.cloudflare.api.account.{ACCOUNT}": "read"},  # unparsed, kept as sent
]


@pytest.mark.parametrize("resources", RESOURCE_MAPS)
def test_repeated_values_are_read_once_and_shared(resources: dict[str, Any]) -> None:
    first = fresh(token(1, copy.deepcopy(resources)))
    second = cft.Token.from_api(token(2, copy.deepcopy(resources)))
    a, b = first.policies[0], second.policies[0]
    assert a.resources is b.resources  # the memo's tuple: built once
    assert a.permission_groups[0] is b.permission_groups[0]
    assert first.issued_on is second.issued_on
    # identical to what a fresh read builds
    assert second == fresh(token(2, copy.deepcopy(resources)))
    assert second.to_api() == token(2, resources)


def test_a_memo_never_hides_a_malformed_value() -> None:
    good = {f"com.cloudflare.api.account.{ACCOUNT}": "*"}
    cft.Token.from_api(token(1, good))
    for _ in range(2):  # refused each time, never remembered
        with pytest.raises(cft.InvalidInput, match="permission group id"):
            PermissionGroupRef.from_api({"id": "not-an-id", "name": "DNS Read"})
        with pytest.raises(cft.InvalidInput, match="not a valid timestamp"):
            cft.Token.from_api({**token(1, good), "issued_on": "2026-13-45T00:00:00Z"})
        with pytest.raises(cft.InvalidInput, match="must be a list"):
            Policy.from_api({**token(1, good)["policies"][0], "permission_groups": dict(GROUP)})
    assert "not-an-id" not in {k[0] for k in policy._GROUP_REFS}
    assert "2026-13-45T00:00:00Z" not in _util._TIMES
    # a map holding anything but strings is read every time, not remembered
    odd = {f"com.cloudflare.api.account.{ACCOUNT}": ["*"]}
    before = len(policy._RESOURCES)
    read = Policy.from_api(token(3, odd)["policies"][0]).resources
    assert read == Resource.from_api(odd) and len(policy._RESOURCES) == before


def test_values_that_only_look_equal_are_not_confused() -> None:
    """Keys hold strings only: 1, 1.0 and True (equal in Python) never share an entry."""
    key = f"com.cloudflare.api.account.{ACCOUNT}"
    reads = [Resource.from_api({key: value}) for value in ("1", 1, 1.0, True)]
    via_policy = [
        Policy.from_api(token(n, {key: value})["policies"][0]).resources
        for n, value in enumerate(("1", 1, 1.0, True))
    ]
    assert via_policy == reads
    assert [type(r[0].value) for r in via_policy] == [str, int, float, bool]
    group_with_meta = {**GROUP, "meta": {"key": "k", "value": "v"}}
    ref = PermissionGroupRef.from_api(group_with_meta)
    assert ref.extra.thaw() == {"meta": {"key": "k", "value": "v"}}
    assert PermissionGroupRef.from_api(dict(GROUP)).extra.thaw() == {}


def test_memos_are_bounded() -> None:
    _util._TIMES.clear()
    for second in range(_util.MEMO_LIMIT + 10):
        day, rest = divmod(second, 86400)
        stamp = f"2026-01-{day + 1:02d}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}Z"
        assert _util.parse_datetime(stamp, "t") is not None
    assert len(_util._TIMES) <= _util.MEMO_LIMIT
