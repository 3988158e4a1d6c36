"""cft.course: checks compare a token's whole access with the job's (nothing missing, nothing
extra), name a wrong type of answer and the clock a time check reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

import cftokens as cft


@pytest.fixture(scope="module")
def world(demo_company: cft.Sandbox) -> dict[str, Any]:
    sb = demo_company.copy()
    client = sb.client()
    directory = client.directory()
    return {
        "sb": sb,
        "client": client,
        "directory": directory,
        "now": sb.clock.now(),
        "production": directory.account("Acme Production"),
        "zone": {z.name: z.id for z in directory.zones},
    }


def _problems(exercise: cft.course.Exercise, answer: Any) -> str:
    return " ".join(" ".join(exercise.problems(answer)).split())


def _web_team(w: dict[str, Any], *extra: cft.Policy) -> cft.TokenSpec:
    return cft.TokenSpec(
        name="web-team-dns",
        policies=[
            cft.Policy.allow(["DNS Write"], all_zones_of=w["production"].id),
            cft.Policy.deny(["DNS Write"], zones=[w["zone"]["acme.example"]]),
            *extra,
        ],
    )


@pytest.mark.parametrize(
    ("group", "where", "said"),
    [
        (
            "Account API Tokens Write",
            "account",
            "Account API Tokens Write on the account Acme Production",
        ),
        ("Zone Settings Write", "zones", "Zone Settings Write on every zone of Acme Production"),
        (
            "SSL and Certificates Write",
            "zones",
            "SSL and Certificates Write on every zone of Acme Production",
        ),
    ],
)
def test_workshop_2_refuses_an_over_privileged_answer(
    world: dict[str, Any], group: str, where: str, said: str
) -> None:
    """Exercise 2 with an extra write group is not correct, and the message names the extra."""
    exercise = cft.course.workshop(2, world["client"], now=world["now"])
    assert exercise.problems(_web_team(world)) == []
    kwargs = (
        {"accounts": [world["production"].id]}
        if where == "account"
        else {"all_zones_of": world["production"].id}
    )
    text = _problems(exercise, _web_team(world, cft.Policy.allow([group], **kwargs)))
    assert text.startswith("It allows more than the web team needs:") and said in text


def test_workshop_5_refuses_extra_write_groups_on_all_zones(world: dict[str, Any]) -> None:
    """Exercise 5's right answer plus write groups on all zones is not correct."""
    exercise = cft.course.workshop(5, world["client"], now=world["now"])
    production = world["production"]
    grafana = next(
        t
        for t in world["client"].account(production.id).tokens.list()
        if t.name == "grafana-dns-dashboard"
    )
    records = (
        world["client"]
        .account(production.id)
        .audit_logs.list(since=world["now"] - timedelta(days=30), actor_token_id=grafana.id)
        .collect()
    )
    right = cft.rightsize(
        grafana, records, directory=world["directory"], account_id=production.id
    ).spec
    assert exercise.problems(right) == []
    extra = cft.Policy.allow(["DNS Write", "Zone Settings Write"], all_zones=True)
    text = _problems(exercise, right.replace(policies=(*right.policies, extra)))
    assert "DNS Write on every zone of every account, including ones added later" in text
    assert "Zone Settings Write on every zone of every account" in text
    lost = _problems(exercise, right.replace(allow_ips=()))
    assert "Keep the token's IP allowlist (34.120.177.0/24)" in lost


def test_a_missing_grant_is_named(world: dict[str, Any]) -> None:
    """What the job needs and the token lacks is named, down to zones added later."""
    exercise = cft.course.workshop(2, world["client"], now=world["now"])
    zones = [
        z.id
        for z in world["directory"].zones_of(world["production"].id)
        if z.name != "acme.example"
    ]
    spec = cft.TokenSpec(name="x", policies=[cft.Policy.allow(["DNS Write"], zones=zones)])
    assert _problems(exercise, spec) == (
        "It lacks what the web team needs: DNS Write on zones added later to Acme Production. Add that."
    )


@pytest.mark.parametrize(
    ("number", "answer", "said"),
    [
        (3, "spec", "created3 should be what client.tokens.create(...) returns"),
        (4, "cert-manager", "names4 is one string ('cert-manager'); put the token names in a set"),
        (4, {1, 2}, "names4 should hold token names (strings); it also holds int values"),
        (1, "spec", "spec1 should be a cft.TokenSpec, not a str"),
        (6, ["198.51.100.23"], "ip6 holds 1 values in a list; assign one address as a string"),
        (6, 42, "ip6 should be an address as a string, not a int"),
    ],
)
def test_a_wrong_type_is_named_not_a_traceback(
    world: dict[str, Any], number: int, answer: Any, said: str
) -> None:
    """check_3(a TokenSpec), check_4("cert-manager") and the like say what to give instead."""
    exercise = cft.course.workshop(number, world["client"], now=world["now"])
    assert said in _problems(exercise, answer)


def test_check_3_with_a_spec_says_to_create_it(world: dict[str, Any]) -> None:
    """A TokenSpec where a created token is expected: create it first (no AttributeError)."""
    exercise = cft.course.workshop(3, world["client"], now=world["now"])
    spec = cft.TokenSpec(
        name="dns-maintenance", policies=[cft.Policy.allow(["DNS Read"], all_zones=True)]
    )
    assert "holds a cft.TokenSpec, a design: this exercise wants the token created" in _problems(
        exercise, spec
    )


def test_a_time_check_names_its_clock(world: dict[str, Any]) -> None:
    """An expiry built from the wall clock is told to use `now`, the sandbox's clock."""
    from datetime import UTC, datetime

    exercise = cft.course.workshop(1, world["client"], now=world["now"])
    spec = cft.TokenSpec(
        name="x",
        policies=[cft.Policy.allow(["DNS Write"], zones=[world["zone"]["acme-shop.example"]])],
        allow_ips=["45.83.12.0/28"],
        expires_on=datetime.now(UTC) + timedelta(days=20),
    )
    text = _problems(exercise, spec)
    assert "`now`" in text and "the sandbox's clock" in text


def test_check_prints_correct_or_sentences(
    world: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    """check_N prints "correct", or "not yet:" and one bullet per problem; hint and solution print."""
    check, hint, solution = cft.course.workshop(2, world["client"], now=world["now"])
    check(_web_team(world))
    assert capsys.readouterr().out == "correct\n"
    check(None)
    assert capsys.readouterr().out.startswith("not yet:\n  - Assign your cft.TokenSpec to spec2")
    hint()
    assert capsys.readouterr().out.startswith("Hint: ")
    solution()
    assert "cft.Policy.deny" in capsys.readouterr().out


def test_bad_sources_and_numbers_are_refused(world: dict[str, Any]) -> None:
    """Unknown exercises and sources the exercise cannot read raise InvalidInput."""
    with pytest.raises(cft.InvalidInput, match="lessons 1 to 6"):
        cft.course.lesson(7, world["sb"])
    with pytest.raises(cft.InvalidInput, match=r"a cft\.Audit"):
        cft.course.lesson(4, world["sb"])
    with pytest.raises(cft.InvalidInput, match="exercises 1 to 6"):
        cft.course.workshop(0, world["client"])
    with pytest.raises(cft.InvalidInput, match=r"cft\.Client or cft\.Sandbox"):
        cft.course.workshop(1, "http://localhost")
