"""``Condition``: the client-IP restriction of a token (``condition["request.ip"]``)."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any

from attrs import field, frozen

from ..errors import InvalidInput
from ._util import FrozenDict, frozen_extra

__all__ = ["Condition", "IPNetwork", "parse_network"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_network(value: object, what: str = "an IP range") -> IPNetwork:
    """Parse a CIDR (``203.0.113.0/24``, ``2001:db8::/32``) or a bare address (a /32 or /128).

    Host bits are allowed, as Cloudflare allows them (``203.0.113.7/24`` means its /24).
    """
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a CIDR string such as '203.0.113.0/24', got {value!r}")
    try:  # a str subclass (its own strip or hash) is parsed as it is, never cached
        return _parsed(value) if type(value) is str else _parse(value)
    except ValueError:
        raise InvalidInput(
            f"{what} {value!r} is not a valid IPv4 or IPv6 CIDR; "
            "write it like '203.0.113.0/24' or '2001:db8::/32'"
        ) from None


def _parse(text: str) -> IPNetwork:
    return ipaddress.ip_network(text.strip(), strict=False)


# The same few ranges recur on every token of an inventory and in every answer of a listing:
# each text is parsed once (networks are immutable, so one object serves them all); a text
# that is not a CIDR raises each time (lru_cache keeps no exception).
_parsed = functools.lru_cache(maxsize=4096)(_parse)


def parse_address(value: object) -> IPAddress:
    """Parse a client IP address (v4 or v6)."""
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not an IP address; give one like '203.0.113.7' or '2001:db8::1'"
        ) from None


def _networks(values: str | Iterable[str | IPNetwork]) -> tuple[IPNetwork, ...]:
    if isinstance(values, str):
        values = [values]
    return tuple(parse_network(v) for v in values)


def _texts(values: str | Iterable[str | IPNetwork]) -> tuple[str, ...]:
    if isinstance(values, str):
        values = [values]
    return tuple(str(v) for v in values)


@frozen(kw_only=True)
class Condition:
    """Which client IPs may use the token.

    ``allow`` (the wire's ``in``): if non-empty, a request must come from one of these ranges.
    ``deny`` (``not_in``): a request from one of these ranges is refused.
    Both accept IPv4 and IPv6. The CIDR text as written is kept for the round trip
    (``203.0.113.7/24`` stays as written) but does not take part in equality.
    """

    allow: tuple[IPNetwork, ...] = field(default=(), converter=_networks)
    deny: tuple[IPNetwork, ...] = field(default=(), converter=_networks)
    allow_text: tuple[str, ...] = field(default=(), converter=_texts, eq=False, repr=False)
    deny_text: tuple[str, ...] = field(default=(), converter=_texts, eq=False, repr=False)
    extra: FrozenDict = field(factory=FrozenDict, converter=frozen_extra, repr=False)

    def __attrs_post_init__(self) -> None:
        # Text forms are kept only when they describe the same networks.
        if self.allow_text and _networks(self.allow_text) != self.allow:
            object.__setattr__(self, "allow_text", ())
        if self.deny_text and _networks(self.deny_text) != self.deny:
            object.__setattr__(self, "deny_text", ())

    @classmethod
    def of(
        cls,
        allow: str | Iterable[str | IPNetwork] = (),
        deny: str | Iterable[str | IPNetwork] = (),
    ) -> Condition:
        """Build from CIDR strings or networks, keeping the text as written."""
        allow = list(allow) if not isinstance(allow, str) else [allow]
        deny = list(deny) if not isinstance(deny, str) else [deny]
        return cls(
            allow=_networks(allow),
            deny=_networks(deny),
            allow_text=tuple(str(a) for a in allow),
            deny_text=tuple(str(d) for d in deny),
        )

    @property
    def empty(self) -> bool:
        """True when the condition restricts nothing."""
        return not self.allow and not self.deny

    def check(self, ip: str | IPAddress) -> tuple[bool, str]:
        """Whether a request from ``ip`` passes, and a sentence saying why not."""
        address = parse_address(ip)
        for net in self.deny:
            if address.version == net.version and address in net:
                return False, f"{address} is in the token's denied range {net}"
        if self.allow and not any(
            address.version == net.version and address in net for net in self.allow
        ):
            ranges = ", ".join(str(n) for n in self.allow)
            return False, f"{address} is not in the token's allowed ranges ({ranges})"
        return True, ""

    @classmethod
    def from_api(cls, payload: Mapping[str, Any] | None) -> Condition:
        """Read ``{"request.ip": {"in": […], "not_in": […]}}`` (or the SDKs' ``request_ip``)."""
        if not payload:
            return _UNRESTRICTED if cls is Condition else cls()
        if not isinstance(payload, Mapping):
            raise InvalidInput(f"condition must be a JSON object, got {type(payload).__name__}")
        ip = payload.get("request.ip")
        if ip is None:
            ip = payload.get("request_ip")
        extra = {k: v for k, v in payload.items() if k not in ("request.ip", "request_ip")}
        if ip is None:
            return cls(extra=extra)
        if not isinstance(ip, Mapping):
            raise InvalidInput(
                'condition["request.ip"] must be an object with "in" and/or "not_in" lists'
            )
        allow = ip.get("in") or []
        deny = ip.get("not_in") or []
        for what, values in (("in", allow), ("not_in", deny)):
            if not isinstance(values, list):
                raise InvalidInput(f'condition["request.ip"]["{what}"] must be a list of CIDRs')
        ip_extra = {k: v for k, v in ip.items() if k not in ("in", "not_in")}
        if ip_extra:
            extra["request.ip"] = ip_extra
        return cls(
            allow=_networks(allow),
            deny=_networks(deny),
            allow_text=tuple(str(a) for a in allow),
            deny_text=tuple(str(d) for d in deny),
            extra=extra,
        )

    def to_api(self) -> dict[str, Any]:
        """The wire form; always the dotted ``request.ip`` key. Empty condition -> ``{}``."""
        result = self.extra.thaw()
        ip_extra = result.pop("request.ip", {})
        if self.empty and not ip_extra:
            return result
        ip: dict[str, Any] = dict(ip_extra) if isinstance(ip_extra, dict) else {}
        if self.allow:
            ip["in"] = list(self.allow_text) if self.allow_text else [str(n) for n in self.allow]
        if self.deny:
            ip["not_in"] = list(self.deny_text) if self.deny_text else [str(n) for n in self.deny]
        result["request.ip"] = ip
        return result


#: The condition of most tokens (none): immutable, so every reader shares one.
_UNRESTRICTED = Condition()
