"""Misuse the client's types must reject, checked by ``mypy tests/typing`` (never executed).

Each wrong line carries ``# type: ignore[code]`` for the error mypy must report there. The
project's mypy configuration is strict, so ``warn_unused_ignores`` holds: when a signature
loosens and the error disappears, the ignore becomes unused and mypy fails (as it fails when
the error changes code).
"""

from __future__ import annotations

import httpx

import cftokens as cft


def ids_are_strings(client: cft.Client) -> str:
    """A token id is a str; a Token is an object, not a dict."""
    token = client.tokens.get(123)  # type: ignore[arg-type]
    name: str = token["name"]  # type: ignore[index]
    return name


def changes_are_typed(client: cft.Client, spec: cft.TokenSpec) -> None:
    """tokens.update, dns_records.update, request and from_env take typed keyword arguments
    (TypedDicts and unions, not Any): a misspelt or mistyped one is an error."""
    client.tokens.update("t", nmae="typo")  # type: ignore[call-arg]
    client.tokens.update("t", status="disable")  # type: ignore[arg-type]
    client.dns_records.update("z", "r", ttl="300")  # type: ignore[arg-type]
    client.request("POST", "/x", json=spec)  # type: ignore[arg-type]
    client.request("GET", "/x", params={"since": object()})  # type: ignore[dict-item]
    cft.Client.from_env(transport=httpx.AsyncHTTPTransport())  # type: ignore[arg-type]


def audit_options_are_typed(audit: cft.Audit, sb: cft.Sandbox) -> None:
    """The audit's options and results are typed: a misspelt option, a wrong source or usage,
    an unknown summary key is an error."""
    cft.Audit.from_json("audit.json", proflie="ci")  # type: ignore[call-arg]
    cft.Audit.from_terraform("main.tf", var_files=3)  # type: ignore[arg-type]
    cft.run_audit(object())  # type: ignore[arg-type]
    cft.run_audit(sb, usage=42)  # type: ignore[arg-type]
    audit.summary()["tokenz"]  # type: ignore[typeddict-item]
    audit.scan_secrets(".env", verify=len)  # type: ignore[arg-type]


def public_surface_is_typed(spec: cft.TokenSpec, detail: cft.errors.ErrorDetail) -> None:
    """The public signatures outside the client take typed keyword arguments too: a misspelt
    or mistyped one is an error (TypedDicts and protocols, not Any)."""
    spec.replace(nmae="typo")  # type: ignore[call-arg]
    spec.replace(status=1)  # type: ignore[arg-type]
    cft.Sandbox.demo(sede=1)  # type: ignore[call-arg]
    cft.Sandbox.demo(seed="1")  # type: ignore[arg-type]
    cft.PermissionDenied("no", statsu=403)  # type: ignore[call-arg]
    cft.RateLimited("slow", errors=["x"])  # type: ignore[list-item]
    spec.policies[0].describe(directory={"zone": "example.com"})  # type: ignore[arg-type]
    cft.audit(spec)  # type: ignore[operator]  # the package; the function is run_audit


def advice_is_typed(advice: cft.Advice, sb: cft.Sandbox) -> None:
    """The advice's audit, verification and Terraform take their own keyword arguments, not a
    pass-through ``**kwargs``; its audit is an Audit, not Any."""
    advice.audit(profil="strict")  # type: ignore[call-arg]
    advice.verify(sb, near_miss=3)  # type: ignore[call-arg]
    advice.verify(object())  # type: ignore[arg-type]
    advice.to_terraform(comment=False)  # type: ignore[call-arg]
    advice.audit().nonsense  # type: ignore[attr-defined]  # noqa: B018


def addresses_are_typed(spec: cft.TokenSpec) -> None:
    """The policy engine's ``ip`` is an address (text or ipaddress), not Any."""
    cft.evaluate(spec, "DNS Write", ip=3232235777)  # type: ignore[arg-type]
    spec.condition.check(["192.0.2.1"])  # type: ignore[arg-type]


def profiles_are_typed(profile: cft.audit.Profile) -> None:
    """A profile's replace takes its fields and the thresholds by name and type."""
    profile.replace(stale_dayz=30)  # type: ignore[call-arg]
    profile.replace(stale_days="30")  # type: ignore[arg-type]
    profile.thresholds.replace(fail_on="high")  # type: ignore[call-arg]


def usage_advice_is_typed(rows: list[dict[str, object]]) -> None:
    """least_privilege_from_usage passes least_privilege's own keywords on, typed."""
    cft.least_privilege_from_usage(rows, zonez=["example.com"])  # type: ignore[call-arg]
    cft.least_privilege_from_usage(rows, ttl=30)  # type: ignore[arg-type]


def sandbox_clients_take_the_client_settings(sb: cft.Sandbox) -> None:
    """sb.client()/async_client() take the client's settings (a TypedDict shared with the
    client), not Any: a misspelt or mistyped one, or a transport (the sandbox's own), fails."""
    sb.client(max_retrys=0)  # type: ignore[call-arg]
    sb.client(rate_limit="100/60s")  # type: ignore[arg-type]
    sb.async_client(transport=httpx.AsyncHTTPTransport())  # type: ignore[call-arg]


def request_returns_json_to_narrow(client: cft.Client) -> None:
    """request() returns a JSON value, not Any: it is narrowed before it is indexed."""
    client.request("GET", "/zones")["result"]  # type: ignore[index, call-overload]


def advisor_arguments_are_typed(client: cft.Client, token: cft.Token) -> None:
    """Intents, directory sources and needed intents have types, not Any."""
    cft.least_privilege(42)  # type: ignore[arg-type]
    cft.least_privilege(["GET /zones"], directory="example.com")  # type: ignore[arg-type]
    cft.rightsize(token, 42)  # type: ignore[arg-type]
    cft.rightsize(token, ["GET /zones"], directory=42)  # type: ignore[arg-type]
    cft.rightsize(token, ["GET /zones"]).apply(object())  # type: ignore[arg-type]
    cft.least_privilege_from_usage(42)  # type: ignore[arg-type]


def models_take_typed_values(spec: cft.TokenSpec) -> None:
    """The models' converters say what they take."""
    cft.Condition.of(allow=[3232235777])  # type: ignore[list-item]
    cft.Directory(zones=["example.com"])  # type: ignore[list-item]
    cft.TokenSpec(name="x", policies=[], allow_ips=[1])  # type: ignore[list-item]


def leak_and_widgets_take_typed_sources(secret: cft.Secret) -> None:
    """triage, scan and the token builder take a client, a sandbox (or a directory), not Any."""
    cft.triage(secret, admin="token")  # type: ignore[arg-type]
    cft.scan(".", verify="yes")  # type: ignore[arg-type]
    cft.TokenBuilder("example.com")  # type: ignore[arg-type]
