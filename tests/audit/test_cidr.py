"""The fast CIDR reading (``cidr_facts``) and the audit's per-token IP arrays against
``ipaddress`` and the per-token loop they replace, on generated and hostile texts."""

from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np
import pytest
from audit_helpers import NOW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batched_cases import cases
from cftokens.audit import Audit
from cftokens.audit._cidr import _IPV4_PARTS, _SPECIAL_V4, _SPECIAL_V6, _dotted_quads, cidr_facts
from cftokens.audit._context import Ctx
from cftokens.audit._inventory import parse_cidr


def reference(text: str) -> tuple[int, int, bool] | None:
    """What ipaddress says (None: not a CIDR)."""
    try:
        net = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None
    return net.version, net.prefixlen, bool(net.is_private or net.is_loopback or net.is_link_local)


def facts(text: str) -> tuple[int, int, bool] | None:
    try:
        v, p, s = cidr_facts([text])
    except ValueError:
        return None
    return int(v[0]), int(p[0]), bool(s[0])


# addresses near the edges of every special-purpose block (and of the whole space)
_EDGES_V4 = [
    int(addr)
    for text in _SPECIAL_V4.split()
    for net in [ipaddress.IPv4Network(text)]
    for addr in (net.network_address, net.broadcast_address)
] + [0, 2**32 - 1]
_EDGES_V6 = [
    int(addr)
    for text in _SPECIAL_V6.split()
    for net in [ipaddress.IPv6Network(text)]
    for addr in (net.network_address, net.broadcast_address)
] + [0, 1, 2**128 - 1, 0xFFFF << 32]

v4_int = st.one_of(
    st.integers(0, 2**32 - 1),
    st.builds(
        lambda e, d: min(max(e + d, 0), 2**32 - 1), st.sampled_from(_EDGES_V4), st.integers(-3, 3)
    ),
)
v6_int = st.one_of(
    st.integers(0, 2**128 - 1),
    st.builds(
        lambda e, d: min(max(e + d, 0), 2**128 - 1), st.sampled_from(_EDGES_V6), st.integers(-3, 3)
    ),
)
v4_text = st.builds(
    lambda ip, p, form: str(ipaddress.IPv4Address(ip)) + form(p),
    v4_int,
    st.integers(0, 33),
    st.sampled_from(
        [
            lambda p: f"/{p}",
            lambda p: "",
            lambda p: f"/0{p}",
            lambda p: f"/{ipaddress.IPv4Network(f'0.0.0.0/{min(p, 32)}').netmask}",
            lambda p: f" /{p}",
            lambda p: f"/{p} ",
        ]
    ),
)
v6_text = st.builds(
    lambda ip, p, compressed: (
        (ipaddress.IPv6Address(ip).compressed if compressed else ipaddress.IPv6Address(ip).exploded)
        + (f"/{p}" if p <= 129 else "")
    ),
    v6_int,
    st.integers(0, 130),
    st.booleans(),
)
mapped_text = st.builds(
    lambda ip, p: f"::ffff:{ipaddress.IPv4Address(ip)}/{p}", v4_int, st.integers(96, 129)
)
hostile = st.text(alphabet="0123456789./:abcdefx% \t\n-+", max_size=24)
any_text = st.one_of(v4_text, v6_text, mapped_text, hostile)


# The property runs: a short one in the inner loop (`-m "not slow"`), the long one marked slow
# (the full command runs both); most of their time is Hypothesis drawing the examples, which
# the long runs draw several to a Hypothesis example (tests/batched_cases.py).
@pytest.mark.parametrize("examples", [50, pytest.param(2150, marks=pytest.mark.slow)])
def test_cidr_facts_agree_with_ipaddress(examples: int) -> None:
    @cases(any_text, examples)
    def agree(text: str) -> None:
        assert facts(text) == reference(text)

    agree()


@pytest.mark.parametrize(
    "text",
    [
        "10.0.0.0/8",
        "10.255.255.255/32",
        "11.0.0.0/8",
        "9.255.255.255/32",
        "0.0.0.0/0",
        "127.0.0.1",
        "169.254.3.4/16",
        "172.15.255.255/32",
        "172.16.0.0/12",
        "172.32.0.0/32",
        "100.64.0.0/10",
        "192.168.1.77/20",
        "198.18.0.0/15",
        "1.2.3.4/7",
        "203.0.113.9/24",
        "255.255.255.255",
        "::1",
        "::/0",
        "fe80::1/64",
        "2001:db8::/32",
        "2606:4700::/32",
        "::ffff:10.0.0.1/128",
        "::ffff:8.8.8.8/120",
        "01.2.3.4/24",
        "1.2.3.4/024",
        "1.2.3.4/33",
        "1.2.3/24",
        "256.1.1.1",
        " 1.2.3.4/24 ",
        "1.2.3.4/255.255.0.0",
        "",
        "/",
        "1.2.3.4/",
        "١.٢.٣.٤",
    ],
)
def test_cidr_facts_known_cases(text: str) -> None:
    assert facts(text) == reference(text)


def reference_ip_arrays(ctx: Ctx) -> dict[str, list[bool]]:
    """The per-token loop ``Ctx._ip_arrays`` was before it read distinct texts in bulk."""
    inv = ctx.inv
    th = ctx.th
    out = {k: [False] * inv.n for k in ("in", "zero", "open", "tight", "priv", "deny", "cancel")}
    for t in range(inv.n):
        ins, outs = inv.ip_in[t], inv.ip_out[t]
        if not ins:
            out["deny"][t] = bool(outs)
            continue
        nets = [parse_cidr(v) for v in ins]
        out["zero"][t] = any(net.prefixlen == 0 for net in nets)
        real = [net for net in nets if net.prefixlen > 0]
        if not real or out["zero"][t]:
            out["deny"][t] = bool(outs)
            continue
        out["in"][t] = True
        out["open"][t] = any(
            (net.version == 4 and net.prefixlen <= th.open_v4_prefix)
            or (net.version == 6 and net.prefixlen <= th.open_v6_prefix)
            for net in real
        )
        out["tight"][t] = all(
            (net.version == 4 and net.prefixlen >= th.tight_v4_prefix)
            or (net.version == 6 and net.prefixlen >= th.tight_v6_prefix)
            for net in real
        )
        out["priv"][t] = any(n.is_private or n.is_loopback or n.is_link_local for n in real)
        denies = [parse_cidr(v) for v in outs]
        out["cancel"][t] = any(
            d.version == n.version and n.subnet_of(d)  # type: ignore[arg-type]
            for n in real
            for d in denies
        )
    return out


valid_text = st.one_of(v4_text, v6_text, mapped_text).filter(lambda t: reference(t) is not None)


@pytest.mark.parametrize("examples", [8, pytest.param(162, marks=pytest.mark.slow)])
def test_ip_arrays_agree_with_the_per_token_loop(examples: int) -> None:
    @given(
        st.lists(
            st.tuples(st.lists(valid_text, max_size=4), st.lists(valid_text, max_size=3)),
            min_size=1,
            max_size=12,
        )
    )
    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def agree(conditions: list[Any]) -> None:
        tokens = []
        for i, (ins, outs) in enumerate(conditions):
            ip: dict[str, Any] = {}
            if ins:
                ip["in"] = ins
            if outs:
                ip["not_in"] = outs
            tokens.append(
                {
                    "id": f"{i:032x}",
                    "name": f"t{i}",
                    "status": "active",
                    "policies": [],
                    **({"condition": {"request.ip": ip}} if ip else {}),
                }
            )
        audit = Audit.from_records(tokens=tokens, now=NOW)
        ctx = audit._ctx
        ref = reference_ip_arrays(ctx)
        got = {
            "in": ctx.has_ip_in,
            "zero": ctx.ip_zero,
            "open": ctx.ip_open,
            "tight": ctx.ip_tight,
            "priv": ctx.ip_private,
            "deny": ctx.ip_deny_only,
            "cancel": ctx.ip_cancels,
        }
        assert ctx.n == len(tokens)
        for key, values in ref.items():
            assert np.asarray(got[key], dtype=bool).tolist() == values, key

    agree()


def quad_reference(text: Any) -> tuple[int, int] | None:
    """(prefix length, first address) of a dotted-quad text in the pattern's spelling."""
    if type(text) is not str or _IPV4_PARTS.fullmatch(text) is None:
        return None
    net = ipaddress.IPv4Network(text, strict=False)
    return net.prefixlen, int(net.network_address)


quad_like = st.one_of(
    v4_text,
    st.text(alphabet="0123456789./", max_size=18),
    st.text(alphabet="0123456789./ a\u00e9\ud800", max_size=18),
    # a dotted quad and a prefix with the slash anywhere
    st.tuples(
        st.lists(
            st.sampled_from(["1", "25", "255", "0", "32", "9", "33", "256"]), min_size=5, max_size=5
        ),
        st.permutations([".", ".", ".", "/"]),
    ).map(lambda p: "".join(n + s for n, s in zip(p[0], [*p[1], ""], strict=True))),
    # numbers between dots and slashes in any order and count
    st.lists(
        st.tuples(
            st.sampled_from(["1", "25", "255", "256", "0", "00", "01", "32", "33", "", "1000"]),
            st.sampled_from([".", ".", ".", "/"]),
        ),
        min_size=1,
        max_size=6,
    ).map(lambda pairs: "".join(number + sep for number, sep in pairs)[:-1]),
)


@pytest.mark.parametrize("examples", [25, pytest.param(3075, marks=pytest.mark.slow)])
def test_dotted_quads_in_bulk_agree_with_the_pattern(examples: int) -> None:
    """The array reading of many texts at once says what the pattern and ``ipaddress`` say of
    each text alone (hostile texts: leading zeros, missing or extra fields, big numbers,
    newlines, non-ASCII, lone surrogates, empty texts)."""

    cases(st.lists(quad_like, min_size=1, max_size=8), examples)(assert_quads_agree)()


def assert_quads_agree(texts: list[str]) -> None:
    """The bulk dotted-quad reading of ``texts`` agrees with the pattern on each text alone,
    or declines only when the joined text cannot be split back into the texts."""
    got = _dotted_quads(texts)
    if got is None:
        assert any("\n" in t for t in texts) or texts == [""]
        return
    ok, prefix, first = got
    assert [
        (int(p), int(f)) if o else None
        for o, p, f in zip(ok.tolist(), prefix.tolist(), first.tolist(), strict=True)
    ] == [quad_reference(t) for t in texts]


_QUADS = ["1.2.3.4/33", "1.2.3.4/32", "1/2.3.4.5", "1.2.3/4.5", "1.2.3.4/5/6", "1.2.3.4.5"]
_QUADS += ["256.1.1.1", "255.255.255.255/0", "01.2.3.4", "1.2.3.4/01", "1..2.3", ".1.2.3.4"]
_QUADS += ["1.2.3.4/", "1.2.3.4/100", "1000.1.1.1", "1.2.3.4 ", "1.2.3.\u0664", "", "0.0.0.0"]


@pytest.mark.parametrize("texts", [_QUADS, _QUADS[::-1], ["1.2.3.4\n5.6.7.8"], [""], ["", ""]])
def test_dotted_quads_in_bulk_known_cases(texts: list[str]) -> None:
    assert_quads_agree(texts)


@pytest.mark.parametrize("examples", [25, pytest.param(1075, marks=pytest.mark.slow)])
def test_cidr_facts_of_many_texts_agree_with_ipaddress(examples: int) -> None:
    """Many texts read at once (the bulk path, mixed with the one-by-one rest) give each
    text's own answer; one text that is not a CIDR raises, as read alone."""

    @cases(st.lists(any_text, min_size=1, max_size=10), examples)
    def agree(texts: list[str]) -> None:
        expected = [reference(t) for t in texts]
        if None in expected:
            with pytest.raises(ValueError):
                cidr_facts(texts)
            return
        v, p, s = cidr_facts(texts)
        got = list(zip(v.tolist(), p.tolist(), s.tolist(), strict=True))
        assert got == expected

    agree()


def test_cidr_facts_of_non_text_values() -> None:
    """A value that is not text (a number, an address object) is read as its text, one by one."""
    v, p, s = cidr_facts(["10.0.0.0/8", ipaddress.ip_network("8.8.8.0/24"), "::1"])  # type: ignore[list-item]
    assert (
        v.tolist() == [4, 4, 6] and p.tolist() == [8, 24, 128] and s.tolist() == [True, False, True]
    )


@pytest.mark.parametrize(
    "texts",
    [
        ["1.2.3.4/033", "1.2.3.4/0", "01.2.3.4", "1.2.3.4/00", "0.0.0.0/0"],
        ["1.2.3.4 ", " 1.2.3.4/8", "1.2.3.4\t", "1.2.3.4/8 ", "\u00a01.2.3.4"],
        ["١.٢.٣.٤", "1.2.3.٤/8", "１.2.3.4", "1.2.3.4/３２"],  # digits of other scripts
        ["1.2.3.4//8", "1.2.3.4/8/8", "1.2.3/8.4", "1.2.3.4.5", ".1.2.3", "1..2.3"],
        ["1.2.3.4/" + "0" * 40 + "8", "0" * 50 + "1.2.3.4", "1.2.3." + "9" * 400],
        ["255.255.255.255/32", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/", "/8", ""],
        ["10.0.0.0/8", "100.64.0.1/9", "9.255.255.255/7", "172.15.0.0/12", "::1", "fe80::/9"],
    ],
)
def test_cidr_facts_of_hostile_spellings_agree_with_ipaddress(texts: list[str]) -> None:
    """Leading zeros, surrounding and non-breaking spaces, digits of other scripts, doubled
    separators, hostile lengths and special-purpose neighbours: each text read in bulk among
    the others gives ipaddress' answer, and a text ipaddress refuses raises ValueError."""

    def reference(text: str) -> tuple[int, int, bool] | None:
        try:
            net = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            return None
        special = net.is_private or net.is_loopback or net.is_link_local
        return net.version, net.prefixlen, bool(special)

    good = [t for t in texts if reference(t) is not None]
    for text in texts:
        if reference(text) is None:
            with pytest.raises(ValueError):
                cidr_facts([*good, text])
    if good:
        version, prefix, special = cidr_facts(good)
        got = list(zip(version.tolist(), prefix.tolist(), special.tolist(), strict=True))
        assert got == [reference(t) for t in good]
