"""DNS records: list (Cloudflare's filters), create, get, update, patch, delete.

The record rules Cloudflare documents, with its error codes:

- a CNAME cannot share its name with any other record (81053 creating a CNAME where a record
  exists, 81054 creating another record where a CNAME exists); an identical record (type,
  name, content, and priority for MX) is refused (81058);
- ``ttl`` is 1 (automatic) or 60-86400 seconds (30-86400 on enterprise zones): 1004 "DNS
  Validation Error" with 9021 in the chain. The schema's type is number: ``3600.0`` is 3600;
- a TXT record's content is at most 2,048 characters;
- a zone holds at most 200 records on the free plan, 3,500 on the others (81045 "Record quota
  exceeded"): Cloudflare's quotas for zones created since September 2024.

Sandbox choices (limits Cloudflare does not publish, so that one attendee cannot fill the
server's memory): the content of other types is at most 255 characters, a comment at most
500, at most 20 tags of at most 100 characters each; ``settings`` takes the booleans
``ipv4_only``, ``ipv6_only`` and ``flatten_cname`` and is echoed back.

Listing applies every filter of Cloudflare's schema: ``name``/``content``/``comment`` (exact,
case-insensitive) and their ``.exact``, ``.contains``, ``.startswith`` and ``.endswith``
forms, ``comment.present``/``comment.absent``, ``type``, ``proxied``, ``tag`` and ``tag.*``
(combined by ``tag_match``), ``search``, ``match=any|all``, ``order``, ``direction``,
``page`` and ``per_page`` (1 to 5,000,000, the schema's bounds). Any other parameter is
refused (400, "filter not emulated"): a filter silently ignored would return every record,
and a script acting on ``result[0]`` would change the wrong one. Pages are cached between
writes, keyed by the parsed parameters and bounded in bytes (:class:`~.store.PageCache`).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Mapping
from typing import Any

from .context import Call, RawJSON, ok, page_info
from .errors import SandboxError
from .store import DnsRow, ZoneRow, api_time
from .validate import query_bool, query_choice, query_int

__all__ = [
    "DNS_TYPES",
    "create_dns",
    "delete_dns",
    "dns_json",
    "get_dns",
    "list_dns",
    "patch_dns",
    "record_quota",
    "update_dns",
]

DNS_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "PTR", "TXT")
# Every type of the schema's enum: a list filter on one of them is valid (and finds nothing
# the sandbox cannot create).
ALL_TYPES = (
    *("A", "AAAA", "CAA", "CERT", "CNAME", "DNSKEY", "DS", "HTTPS", "LOC", "MX", "NAPTR"),
    *("NS", "PTR", "SMIMEA", "SRV", "SSHFP", "SVCB", "TLSA", "TXT", "URI"),
)
PROXIABLE = ("A", "AAAA", "CNAME")
TXT_MAX = 2048
CONTENT_MAX = 255
COMMENT_MAX = 500
TAGS_MAX = 20
TAG_MAX = 100
SETTINGS = ("ipv4_only", "ipv6_only", "flatten_cname")
PER_PAGE_MAX = 5_000_000


def record_quota(plan: str) -> int:
    """How many DNS records a zone of this plan may hold (Cloudflare's published quotas)."""
    return 200 if plan == "free" else 3500


def _bad(message: str) -> SandboxError:
    return SandboxError.bad_request(message)


def _zone(call: Call) -> ZoneRow:
    zone = call.store.zone(call.params["zone_id"])
    if zone is None:
        raise call.not_found()
    return zone


def dns_json(record: DnsRow, zone: ZoneRow) -> dict[str, Any]:
    """A DNS record object."""
    result: dict[str, Any] = {
        "id": record.id,
        "zone_id": zone.id,
        "zone_name": zone.name,
        "name": record.name,
        "type": record.type,
        "content": record.content,
        "proxiable": record.type in PROXIABLE,
        "proxied": record.proxied,
        "ttl": record.ttl,
        "settings": record.settings,
        "meta": {"auto_added": False, "managed_by_apps": False, "managed_by_argo_tunnel": False},
        "tags": record.tags,
        "created_on": api_time(record.created_on),
        "modified_on": api_time(record.modified_on),
    }
    if record.comment is not None:
        result["comment"] = record.comment
    if record.priority is not None:
        result["priority"] = record.priority
    return result


def _fqdn(name: str, zone: ZoneRow) -> str:
    name = name.strip().rstrip(".").lower()
    if name in ("@", "", zone.name):
        return zone.name
    if name.endswith("." + zone.name):
        return name
    return f"{name}.{zone.name}"


def _number(value: Any) -> int | None:
    """An integer the schema types as number (``3600`` or ``3600.0``), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _ttl(value: Any, zone: ZoneRow) -> int:
    low = 30 if zone.plan == "enterprise" else 60
    ttl = _number(value)
    if ttl is None or not (ttl == 1 or low <= ttl <= 86400):
        raise SandboxError(
            400,
            1004,
            f"ttl: must be 1 (automatic) or between {low} and 86400 seconds",
            chain=[(9021, f"TTL must be between {low} and 86400 seconds, or 1 for Automatic.")],
        )
    return ttl


def _settings(value: Any) -> dict[str, bool]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad('settings: must be an object such as {"ipv4_only": true}')
    result: dict[str, bool] = {}
    for key, flag in value.items():
        if key not in SETTINGS:
            raise _bad(f"settings.{str(key)[:40]}: unknown setting; use {', '.join(SETTINGS)}")
        if not isinstance(flag, bool):
            raise _bad(f"settings.{key}: must be true or false")
        result[key] = flag
    return result


def _dns_fields(payload: Any, zone: ZoneRow, base: DnsRow | None) -> dict[str, Any]:
    """Validate a DNS body; with ``base`` (PATCH) missing fields keep their values."""
    if not isinstance(payload, Mapping):
        raise _bad("the request body must be a JSON object describing a DNS record")
    fields: dict[str, Any] = {} if base is None else _base_fields(base)
    for key in ("type", "name", "content"):
        if key not in payload and base is None:
            raise _bad(f"{key}: required for a DNS record")
    _identity(payload, zone, fields)
    _check_content(fields["type"], fields["content"])
    _options(payload, zone, fields)
    return fields


def _base_fields(base: DnsRow) -> dict[str, Any]:
    """The fields of the record a PATCH changes."""
    return {
        "type": base.type,
        "name": base.name,
        "content": base.content,
        "ttl": base.ttl,
        "proxied": base.proxied,
        "priority": base.priority,
        "comment": base.comment,
        "tags": list(base.tags),
        "settings": dict(base.settings),
    }


def _identity(payload: Mapping[str, Any], zone: ZoneRow, fields: dict[str, Any]) -> None:
    """The record's type, name and content from the body, checked one by one."""
    if "type" in payload:
        kind = payload["type"]
        if kind not in DNS_TYPES:
            shown = repr(kind)[:40]
            raise _bad(
                f"type: must be one of {', '.join(DNS_TYPES)} (the record types the sandbox "
                f"emulates), got {shown}"
            )
        fields["type"] = kind
    if "name" in payload:
        name = payload["name"]
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise _bad("name: must be a record name of 1 to 255 characters (or @ for the apex)")
        if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 or ch.isspace() for ch in name):
            raise _bad(
                "name: a record name holds no spaces or control characters (NUL, newline, "
                "escape …); write the name as in the zone file, e.g. www or _acme-challenge"
            )
        fields["name"] = _fqdn(name, zone)
    if "content" in payload:
        content = payload["content"]
        if not isinstance(content, str) or not content:
            raise _bad("content: must be a non-empty string")
        fields["content"] = content


def _check_content(kind: str, content: str) -> None:
    """The content's length for its type, and an address for A and AAAA records."""
    limit = TXT_MAX if kind == "TXT" else CONTENT_MAX
    if len(content) > limit:
        raise _bad(
            f"content: a {kind} record's content is at most {limit:,} characters, got "
            f"{len(content):,}"
        )
    try:
        if kind == "A":
            ipaddress.IPv4Address(content)
        elif kind == "AAAA":
            ipaddress.IPv6Address(content)
    except ValueError:
        version = "IPv4" if kind == "A" else "IPv6"
        raise _bad(
            f"content: an {kind} record needs a valid {version} address, got {content!r}"
        ) from None


def _options(payload: Mapping[str, Any], zone: ZoneRow, fields: dict[str, Any]) -> None:
    """TTL, proxying, priority, comment, tags and settings, with their defaults."""
    kind = fields["type"]
    if "ttl" in payload:
        fields["ttl"] = _ttl(payload["ttl"], zone)
    fields.setdefault("ttl", 1)
    if "proxied" in payload:
        if not isinstance(payload["proxied"], bool):
            raise _bad("proxied: must be true or false")
        fields["proxied"] = payload["proxied"]
    fields.setdefault("proxied", False)
    if fields["proxied"] and kind not in PROXIABLE:
        raise _bad(f"proxied: {kind} records cannot be proxied")
    _priority(payload, fields)
    _annotations(payload, fields)
    if "settings" in payload:
        fields["settings"] = _settings(payload["settings"])
    fields.setdefault("settings", {})


def _priority(payload: Mapping[str, Any], fields: dict[str, Any]) -> None:
    """An MX record's priority (required); other types hold none."""
    if "priority" in payload:
        raw = payload["priority"]
        priority = _number(raw)
        if raw is not None and (priority is None or not 0 <= priority <= 65535):
            raise _bad("priority: must be an integer between 0 and 65535")
        fields["priority"] = priority
    fields.setdefault("priority", None)
    if fields["type"] == "MX" and fields["priority"] is None:
        raise _bad("priority: required for MX records")
    if fields["type"] != "MX":
        fields["priority"] = None


def _annotations(payload: Mapping[str, Any], fields: dict[str, Any]) -> None:
    """The record's comment and tags, within the sandbox's limits."""
    if "comment" in payload:
        comment = payload["comment"]
        if comment is not None and (not isinstance(comment, str) or len(comment) > COMMENT_MAX):
            raise _bad(f"comment: must be a string of at most {COMMENT_MAX} characters")
        fields["comment"] = comment
    fields.setdefault("comment", None)
    if "tags" in payload:
        tags = payload["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and ":" in t for t in tags):
            raise _bad("tags: must be a list of 'name:value' strings")
        if len(tags) > TAGS_MAX or any(len(t) > TAG_MAX for t in tags):
            raise _bad(f"tags: at most {TAGS_MAX} tags of at most {TAG_MAX} characters each")
        fields["tags"] = tags
    fields.setdefault("tags", [])


def _check_rules(call: Call, zone: ZoneRow, fields: dict[str, Any], record_id: str | None) -> None:
    """Cloudflare's rules against the zone's other records (``record_id``: the one being
    changed, not counted): the quota, CNAME exclusivity, no identical records."""
    store = call.store
    if record_id is None:
        quota = record_quota(zone.plan)
        if store.count_dns(zone.id) >= quota:
            raise SandboxError(
                400,
                81045,
                f"Record quota exceeded: zone {zone.name} ({zone.plan} plan) holds the maximum "
                f"of {quota:,} DNS records; delete records before adding more",
            )
    others = [r for r in store.dns_named(zone.id, fields["name"]) if r.id != record_id]
    kind = fields["type"]
    for other in others:
        if (
            other.type == kind
            and other.content.lower() == fields["content"].lower()
            and (kind != "MX" or other.priority == fields["priority"])
        ):
            raise SandboxError(400, 81058, "An identical record already exists.")
    if kind == "CNAME" and others:
        raise SandboxError(
            400,
            81053,
            f"An A, AAAA, or CNAME record with that host already exists. {fields['name']} "
            f"already has a {others[0].type} record: a CNAME record cannot share its name "
            "with other records",
        )
    if any(r.type == "CNAME" for r in others):
        raise SandboxError(
            400,
            81054,
            f"A CNAME record with that host already exists. {fields['name']} is a CNAME: no "
            "other record can share its name",
        )


# -- listing -----------------------------------------------------------------------------------

_TEXT_OPERATORS = ("exact", "contains", "startswith", "endswith")
_TEXT_FILTERS = frozenset(
    {"name", "content", "comment"}
    | {f"{f}.{op}" for f in ("name", "content", "comment") for op in _TEXT_OPERATORS}
    | {"comment.present", "comment.absent"}
)
_TAG_FILTERS = frozenset(
    {"tag", "tag.present", "tag.absent"} | {f"tag.{op}" for op in _TEXT_OPERATORS}
)
_OTHER = frozenset(
    {"type", "proxied", "search", "match", "tag_match", "order", "direction", "page", "per_page"}
)
_KNOWN = _TEXT_FILTERS | _TAG_FILTERS | _OTHER

Test = Callable[[Any], bool]


def _text_test(value: Callable[[Any], str | None], operator: str, operand: str) -> Test:
    wanted = operand.lower()
    if operator == "present":
        return lambda r: value(r) is not None
    if operator == "absent":
        return lambda r: value(r) is None
    compare: Callable[[str], bool] = {
        "exact": lambda v: v == wanted,
        "contains": lambda v: wanted in v,
        "startswith": lambda v: v.startswith(wanted),
        "endswith": lambda v: v.endswith(wanted),
    }[operator]

    def test(record: DnsRow) -> bool:
        text = value(record)
        return text is not None and compare(text.lower())

    return test


def _tag_test(operator: str, operand: str) -> Test:
    """``tag.present=name``, ``tag.absent=name``, ``tag.<op>=name:value`` (case-insensitive)."""
    if operator in ("present", "absent"):
        wanted = operand.lower()

        def has(record: DnsRow) -> bool:
            return any(t.split(":", 1)[0].lower() == wanted for t in record.tags)

        return has if operator == "present" else (lambda r: not has(r))
    tag_name, sep, tag_value = operand.partition(":")
    if not sep:
        raise _bad(f"tag.{operator}: give <tag-name>:<tag-value>, got {operand[:60]!r}")
    name_l, value_test = tag_name.lower(), _text_test(lambda v: v, operator, tag_value)

    def matches(record: DnsRow) -> bool:
        for tag in record.tags:
            key, _, value = tag.partition(":")
            if key.lower() == name_l and value_test(value):
                return True
        return False

    return matches


def _equals(field: str, wanted: object) -> Test:
    return lambda record: bool(getattr(record, field) == wanted)


def _query(call: Call) -> list[tuple[str, str]]:
    """The query's (name, value) pairs, each name once (tag filters may repeat), every name a
    parameter the sandbox applies."""
    seen: set[str] = set()
    pairs: list[tuple[str, str]] = []
    for key, value in call.request.query:
        if key not in _KNOWN:
            raise _bad(
                f"{key[:60]}: filter not emulated by the sandbox (it would otherwise return "
                "every record); the DNS list takes name, content, comment (and their .exact, "
                ".contains, .startswith, .endswith forms), comment.present, comment.absent, "
                "type, proxied, tag, tag.*, tag_match, search, match, order, direction, page "
                "and per_page"
            )
        if key in seen and key not in _TAG_FILTERS:
            raise _bad(f"{key}: give it once")
        seen.add(key)
        pairs.append((key, value))
    return pairs


def _filters(pairs: list[tuple[str, str]], zone: ZoneRow) -> tuple[list[Test], list[Test]]:
    """The filter tests and the tag tests of a DNS list query."""
    tests: list[Test] = []
    tags: list[Test] = []
    fields: dict[str, Callable[[DnsRow], str | None]] = {
        "name": lambda r: r.name,
        "content": lambda r: r.content,
        "comment": lambda r: r.comment,
    }
    for key, value in pairs:
        field, _, operator = key.partition(".")
        if field in fields:
            operator = operator or "exact"
            if field == "name" and operator == "exact":
                value = _fqdn(value, zone)  # relative names and @ as on create
            tests.append(_text_test(fields[field], operator, value))
        elif field == "tag":
            if not operator:
                operator = "exact" if ":" in value else "present"
            tags.append(_tag_test(operator, value))
        elif key == "type":
            if value.upper() not in ALL_TYPES:
                raise _bad(f"type: must be one of {', '.join(ALL_TYPES)}, got {value[:40]!r}")
            tests.append(_equals("type", value.upper()))
        elif key == "proxied":
            tests.append(_equals("proxied", query_bool({"proxied": value}, "proxied")))
    return tests, tags


def list_dns(call: Call) -> dict[str, Any]:
    """GET /zones/{zone_id}/dns_records with Cloudflare's filters and paging (the serialised
    page is cached until the next write, keyed by the parsed parameters)."""
    zone = _zone(call)
    pairs = _query(call)
    query = dict(pairs)
    page = query_int(query, "page", 1, 1, None)
    per_page = query_int(query, "per_page", 100, 1, PER_PAGE_MAX)
    direction = query_choice(query, "direction", ("asc", "desc"), "asc")
    order = query_choice(query, "order", ("type", "name", "content", "ttl", "proxied"), "type")
    match = query_choice(query, "match", ("any", "all"), "all")
    tag_match = query_choice(query, "tag_match", ("any", "all"), "all")
    filters = tuple(
        sorted((k, v) for k, v in pairs if k not in ("page", "per_page", "direction", "order"))
    )
    key = ("dns", zone.id, page, per_page, direction, order, match, tag_match, filters)
    cache = call.store.responses
    cached = cache.get(key)
    if cached is not None:
        return ok(cached[0], result_info=dict(cached[1]))
    tests, tags = _filters(pairs, zone)
    if tags:
        combine_tags = any if tag_match == "any" else all
        tests.append(lambda r: combine_tags(t(r) for t in tags))
    records = call.store.dns_records(zone.id)
    if tests:
        combine = any if match == "any" else all
        records = [r for r in records if combine(t(r) for t in tests)]
    if query.get("search"):  # independent of match, as documented
        needle = query["search"].lower()
        records = [r for r in records if needle in r.name or needle in r.content.lower()]
    field = order or "type"
    records.sort(key=lambda r: (getattr(r, field), r.name), reverse=direction == "desc")
    start = (page - 1) * per_page
    chunk = records[start : start + per_page] if start < len(records) else []
    text = RawJSON(json.dumps([dns_json(r, zone) for r in chunk], separators=(",", ":")))
    info = page_info(page, per_page, len(chunk), len(records), pages=True)
    cache.put(key, (text, info), len(text))
    return ok(text, result_info=dict(info))


# -- single records ----------------------------------------------------------------------------


def create_dns(call: Call) -> dict[str, Any]:
    """POST /zones/{zone_id}/dns_records."""
    zone = _zone(call)
    fields = _dns_fields(call.json(), zone, None)
    _check_rules(call, zone, fields, None)
    record_id = call.engine.new_id()
    call.store.insert_dns(id=record_id, zone_id=zone.id, when=call.now, **fields)
    record = call.store.dns(zone.id, record_id)
    assert record is not None
    return ok(dns_json(record, zone))


def get_dns(call: Call) -> dict[str, Any]:
    """GET /zones/{zone_id}/dns_records/{dns_record_id}."""
    zone = _zone(call)
    record = call.store.dns(zone.id, call.params["dns_record_id"])
    if record is None:
        raise call.not_found()
    return ok(dns_json(record, zone))


def _change_dns(call: Call, *, patch: bool) -> dict[str, Any]:
    zone = _zone(call)
    record = call.store.dns(zone.id, call.params["dns_record_id"])
    if record is None:
        raise call.not_found()
    fields = _dns_fields(call.json(), zone, record if patch else None)
    _check_rules(call, zone, fields, record.id)
    for key, value in fields.items():
        setattr(record, key, value)
    call.store.update_dns(record, call.now)
    updated = call.store.dns(zone.id, record.id)
    assert updated is not None
    return ok(dns_json(updated, zone))


def update_dns(call: Call) -> dict[str, Any]:
    """PUT /zones/{zone_id}/dns_records/{dns_record_id}: replace the record."""
    return _change_dns(call, patch=False)


def patch_dns(call: Call) -> dict[str, Any]:
    """PATCH /zones/{zone_id}/dns_records/{dns_record_id}: change some fields."""
    return _change_dns(call, patch=True)


def delete_dns(call: Call) -> dict[str, Any]:
    """DELETE /zones/{zone_id}/dns_records/{dns_record_id}."""
    zone = _zone(call)
    record = call.store.dns(zone.id, call.params["dns_record_id"])
    if record is None:
        raise call.not_found()
    call.store.delete_dns(record.id)
    return ok({"id": record.id})
