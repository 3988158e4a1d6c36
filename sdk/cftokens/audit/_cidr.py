"""IP ranges of tokens' conditions: parsed once per distinct text, mostly without ``ipaddress``.

An audit reads tens of thousands of allowlist CIDRs. Building an ``ipaddress`` network costs
~15 µs and ``is_private`` as much again (a scan of the special-purpose registries), so
:func:`cidr_facts` reads the common form (a dotted-quad IPv4 CIDR, host bits allowed) with
integer arithmetic and asks ``ipaddress`` only about the rest: IPv6, other spellings
(``/255.255.0.0``, ``/024``, surrounding spaces), and every range that touches a
special-purpose block (where ``ipaddress``' own rules, which change between Python
versions, decide). The answers are exactly ``ipaddress``' (``tests/audit/test_cidr.py``
compares them on generated and hostile texts).
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


def _touches_special(version: int, first: int, last: int) -> bool:
    table = _SPECIAL.get(version)
    if table is None:
        table = _SPECIAL[version] = _special(version)
    starts, ends = table
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


def cidr_facts(
    texts: Sequence[str],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.int16], npt.NDArray[np.bool_]]:
    """Per CIDR text: its IP version, prefix length, and whether the range is private,
    loopback or link-local (``ipaddress``' ``is_private or is_loopback or is_link_local``).

    Raises :class:`ValueError` for a text that is not a CIDR.
    """
    if not texts:
        return np.zeros(0, np.int8), np.zeros(0, np.int16), np.zeros(0, bool)
    version, prefix, special = zip(*map(_facts, texts), strict=True)
    return (
        np.array(version, dtype=np.int8),
        np.array(prefix, dtype=np.int16),
        np.array(special, dtype=bool),
    )
