"""IP ranges of tokens' conditions: parsed once per distinct text, mostly without ``ipaddress``.

An audit reads tens of thousands of allowlist CIDRs. Building an ``ipaddress`` network costs
~15 µs and ``is_private`` as much again (a scan of the special-purpose registries), so
:func:`cidr_facts` reads the common form (a dotted-quad IPv4 CIDR, host bits allowed) of
every text at once with array arithmetic over their bytes and asks ``ipaddress`` only about
the rest: IPv6, other spellings (``/255.255.0.0``, ``/024``, surrounding spaces), and every
range that touches a special-purpose block (where ``ipaddress``' own rules, which change
between Python versions, decide). The answers are exactly ``ipaddress``'
(``tests/audit/test_cidr.py`` compares them on generated and hostile texts).
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["IPV4_CIDR", "cidr_facts", "parse_network"]

_IPV4_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# A dotted-quad IPv4 address with an optional prefix length, in the one spelling the API
# returns (no leading zeros, no spaces): what the fast paths read themselves.
IPV4_CIDR = re.compile(rf"{_IPV4_OCTET}(?:\.{_IPV4_OCTET}){{3}}(?:/(?:3[0-2]|[12]?[0-9]))?")
_IPV4_PARTS = re.compile(
    rf"({_IPV4_OCTET})\.({_IPV4_OCTET})\.({_IPV4_OCTET})\.({_IPV4_OCTET})"
    r"(?:/(3[0-2]|[12]?[0-9]))?"
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_net_cache: dict[str, Network] = {}


def parse_network(text: Any) -> Network:
    """A CIDR (host bits allowed, as Cloudflare allows them; spaces around it ignored);
    :class:`ValueError` when it is not one. Cached by text."""
    key = str(text)
    net = _net_cache.get(key)
    if net is None:
        net = ipaddress.ip_network(key.strip(), strict=False)
        if len(_net_cache) < 200_000:
            _net_cache[key] = net
    return net


# Blocks of the IANA special-purpose registries (and their neighbours): a range that touches
# none of them is neither private, loopback nor link-local under any Python's rules. The list
# is a superset on purpose; ipaddress' own tables are added to it below when it has them.
_SPECIAL_V4 = (
    "0.0.0.0/8 10.0.0.0/8 100.64.0.0/10 127.0.0.0/8 169.254.0.0/16 172.16.0.0/12 "
    "192.0.0.0/24 192.0.2.0/24 192.31.196.0/24 192.52.193.0/24 192.88.99.0/24 "
    "192.168.0.0/16 192.175.48.0/24 198.18.0.0/15 198.51.100.0/24 203.0.113.0/24 240.0.0.0/4"
)
_SPECIAL_V6 = (
    "::/8 100::/8 2001::/16 2002::/16 2620:4f:8000::/48 3fff::/16 5f00::/16 fc00::/7 "
    "fe80::/9 fec0::/10 ff00::/8"
)


def _intervals(nets: Iterable[Network]) -> tuple[list[int], list[int]]:
    """Sorted, merged [first, last] address intervals (as ints) covering ``nets``."""
    spans = sorted((int(n.network_address), int(n.broadcast_address)) for n in nets)
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in spans:
        if starts and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _special(version: int) -> tuple[list[int], list[int]]:
    listed = _SPECIAL_V4 if version == 4 else _SPECIAL_V6
    nets: list[Network] = [ipaddress.ip_network(text) for text in listed.split()]
    whole = ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")
    constants = getattr(whole, "_constants", None)
    for attr in ("_private_networks", "_private_networks_exceptions"):
        nets.extend(n for n in getattr(constants, attr, ()) if isinstance(n, Network))
    for attr in ("_loopback_network", "_linklocal_network"):
        extra = getattr(constants, attr, None)
        if isinstance(extra, Network):
            nets.append(extra)
    return _intervals(nets)


_SPECIAL: dict[int, tuple[list[int], list[int]]] = {}


def _special_table(version: int) -> tuple[list[int], list[int]]:
    table = _SPECIAL.get(version)
    if table is None:
        table = _SPECIAL[version] = _special(version)
    return table


def _touches_special(version: int, first: int, last: int) -> bool:
    starts, ends = _special_table(version)
    i = bisect_right(starts, last)
    return i > 0 and ends[i - 1] >= first


def _is_special(net: Network) -> bool:
    return bool(net.is_private or net.is_loopback or net.is_link_local)


def _facts(text: str) -> tuple[int, int, bool]:
    m = _IPV4_PARTS.fullmatch(text) if type(text) is str else None
    if m is not None:
        a, b, c, d, p = m.groups()
        plen = 32 if p is None else int(p)
        mask = (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF
        first = ((int(a) << 24) | (int(b) << 16) | (int(c) << 8) | int(d)) & mask
        last = first | (~mask & 0xFFFFFFFF)
        if not _touches_special(4, first, last):
            return 4, plen, False
        return 4, plen, _is_special(parse_network(text))
    net = parse_network(text)
    first, last = int(net.network_address), int(net.broadcast_address)
    special = _touches_special(net.version, first, last) and _is_special(net)
    return net.version, net.prefixlen, special


# 10.0 ** p and 256.0 ** (3 - slot) looked up (exact: small powers of 10 and 2), not computed
# per digit by pow (a tenth of the cost)
_POWERS_OF_10 = np.array([1.0, 10.0, 100.0, 1000.0])
_OCTET_WEIGHTS = np.array([256.0**3, 256.0**2, 256.0, 1.0])


def _dotted_quads(
    texts: Sequence[Any],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """Which texts are a dotted-quad IPv4 CIDR in the spelling :data:`IPV4_CIDR` matches,
    with the prefix length and the first address (an int) of those: read from the texts'
    bytes joined by newlines with array operations (no per-text Python). None when the
    texts cannot be read that way (one is not text, or holds a newline, or all are empty)."""
    k = len(texts)
    try:
        joined = "\n".join(texts)
    except TypeError:
        return None
    raw = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    newline = raw == 10
    if not len(raw) or int(np.count_nonzero(newline)) != k - 1:
        return None
    dot, slash = raw == 46, raw == 47
    sep = newline | dot | slash
    digit = (raw >= 48) & (raw <= 57)
    byte_line = np.cumsum(newline) - newline  # a newline ends its own line
    bad = np.zeros(k, dtype=bool)
    bad[byte_line[~(digit | sep)]] = True
    bad |= np.bincount(byte_line[dot], minlength=k) != 3
    # fields: the runs between separators, each after a separator (the first of a line after
    # a newline), numbered in their line (slot); a prefix must be the fifth
    where = np.flatnonzero(sep)
    starts = np.concatenate([[0], where + 1])
    ends = np.concatenate([where, [len(raw)]])
    after = np.concatenate([[10], raw[where]])
    line = np.cumsum(after == 10) - 1
    slot = np.arange(len(after)) - np.flatnonzero(after == 10)[line]
    length = ends - starts
    is_prefix = after == 47
    # a field's value from its digits (lines with other bytes are bad already); powers are
    # capped, as fields of more than 3 digits are bad anyway
    field_of = (np.cumsum(sep) - sep)[digit]
    power = np.minimum(ends[field_of] - np.flatnonzero(digit) - 1, 3)
    value = np.bincount(
        field_of, weights=(raw[digit] - 48) * _POWERS_OF_10[power], minlength=len(after)
    ).astype(np.int64)
    leading_zero = (length > 1) & (raw[np.minimum(starts, len(raw) - 1)] == 48)
    wrong = (
        (length == 0)
        | leading_zero
        | np.where(
            is_prefix, (length > 2) | (value > 32) | (slot != 4), (length > 3) | (value > 255)
        )
    )
    bad[line[wrong]] = True
    ok = ~bad
    octet = ~is_prefix & (slot < 4)
    address = np.bincount(
        line[octet], weights=value[octet] * _OCTET_WEIGHTS[slot[octet]], minlength=k
    ).astype(np.int64)
    prefix = np.full(k, 32, dtype=np.int64)
    prefix[line[is_prefix]] = value[is_prefix]
    prefix[bad] = 32
    mask = (1 << 32) - (np.int64(1) << (32 - prefix))
    return ok, prefix, address & mask


def cidr_facts(
    texts: Sequence[str],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Per CIDR text: its IP version, prefix length, and whether the range is private,
    loopback or link-local (``ipaddress``' ``is_private or is_loopback or is_link_local``).
    Dotted-quad IPv4 CIDRs are read in bulk (:func:`_dotted_quads`), the rest one by one.

    Raises :class:`ValueError` for a text that is not a CIDR.
    """
    k = len(texts)
    version = np.zeros(k, dtype=np.int8)
    prefix = np.zeros(k, dtype=np.int16)
    special = np.zeros(k, dtype=bool)
    if not k:
        return version, prefix, special
    quads = _dotted_quads(texts)
    if quads is None:
        rest = np.arange(k)
    else:
        ok, plen, first = quads
        version[ok] = 4
        prefix[ok] = plen[ok]
        last = first + (np.int64(1) << (32 - plen)) - 1
        starts, ends = (np.array(x, dtype=np.int64) for x in _special_table(4))
        i = np.searchsorted(starts, last, side="right")
        touches = ok & (i > 0) & (ends[np.maximum(i - 1, 0)] >= first)
        for j in np.flatnonzero(touches).tolist():
            special[j] = _is_special(parse_network(texts[j]))
        rest = np.flatnonzero(~ok)
    for j in rest.tolist():
        version[j], prefix[j], special[j] = _facts(texts[j])
    return version, prefix, special
