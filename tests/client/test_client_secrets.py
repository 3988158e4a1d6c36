"""No secret ever appears in a repr, str, DEBUG log line or error message of a client object."""

from __future__ import annotations

import io
import json
import logging
import string
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from client_fakes import USER_TOKEN, ZONE, FakeTime, envelope, token_payload
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cftokens as cft

ALNUM = string.ascii_letters + string.digits
prefixed = st.builds(
    lambda prefix, body: prefix + body,
    st.sampled_from(["cfut_", "cfat_"]),
    st.text(alphabet=ALNUM, min_size=43, max_size=43),
)
legacy = st.text(alphabet=ALNUM + "_-", min_size=40, max_size=40)
secrets_ = st.one_of(prefixed, legacy)
TOKEN_ID = f"{1:032x}"
BASELINE = " ".join([TOKEN_ID, ZONE, "https://api.cloudflare.com/client/v4/user/tokens"])


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Every log record of every logger at DEBUG, formatted with its arguments."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


def texts_of(error: BaseException) -> list[str]:
    """Everything an error shows: str, repr, args, attributes, details and excerpt."""
    out = [str(error), repr(error), repr(error.args), repr(vars(error))]
    for detail in getattr(error, "errors", ()):
        out.append(repr(detail))
    out.append(str(getattr(error, "excerpt", "")))
    return out


def scenarios(
    secret: str, other: str
) -> list[tuple[str, Callable[[httpx.Request], httpx.Response]]]:
    """Server answers that echo the client's secret, or carry another secret."""

    def raise_with(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot send Authorization: Bearer {secret}", request=request)

    echo = {
        "code": 6003,
        "message": f"Invalid header 'Bearer {secret}'",
        "error_chain": [{"code": 6111, "message": f"bad token {secret}"}],
    }
    return [
        ("6003 echo", lambda r: httpx.Response(400, json=envelope(success=False, errors=[echo]))),
        (
            "9109 echo",
            lambda r: httpx.Response(
                401,
                json=envelope(
                    success=False,
                    errors=[{"code": 9109, "message": f"Invalid access token {secret}"}],
                ),
            ),
        ),
        ("html", lambda r: httpx.Response(502, text=f"<html>token={secret}</html>")),
        (
            "truncated",
            lambda r: httpx.Response(
                200, content=f'{{"success": true, "result": "{secret}'.encode()
            ),
        ),
        (
            "other secret",
            lambda r: httpx.Response(
                403,
                json=envelope(
                    success=False,
                    errors=[{"code": 10000, "message": f"token {other} lacks rights"}],
                ),
            ),
        ),
        (
            "wrong shape",
            lambda r: httpx.Response(
                200, json=envelope({"id": 5, "value": other, "token": secret})
            ),
        ),
        ("transport", raise_with),
    ]


def client_for(secret: str, handler: Any, *, key: bool = False) -> cft.Client:
    kwargs: dict[str, Any] = (
        {"api_key": secret, "email": "ana@example.com"} if key else {"token": secret}
    )
    client = cft.Client(transport=httpx.MockTransport(handler), max_retries=1, **kwargs)
    client._time = FakeTime()  # type: ignore[assignment]
    return client


@pytest.mark.parametrize("examples", [8, pytest.param(17, marks=pytest.mark.slow)])
def test_secrets_never_leak_from_errors_reprs_or_logs(examples: int) -> None:
    """Generated secrets sent or echoed by a server never show in reprs, errors or DEBUG logs."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(secret=secrets_, other=prefixed, key=st.booleans())
    def check(secret: str, other: str, key: bool) -> None:
        assume(secret not in BASELINE and other not in BASELINE)
        seen: list[str] = []
        with captured_logs() as logs:
            for _name, handler in scenarios(secret, other):
                client = client_for(secret, handler, key=key)
                seen += [repr(client), str(client), repr(client._http.headers)]
                with pytest.raises(cft.CloudflareError) as info:
                    client.tokens.get(TOKEN_ID)
                seen += texts_of(info.value)
                client.close()
        seen.append(logs.getvalue())
        for text in seen:
            assert secret not in text
            assert other not in text

    check()


@settings(max_examples=20, deadline=None)
@given(secret=secrets_, issued=prefixed)
def test_secrets_from_responses_stay_masked(secret: str, issued: str) -> None:
    """The secret returned by create and roll is a masked Secret; it is not logged."""
    assume(secret not in BASELINE and issued not in BASELINE)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json=envelope({**token_payload(1), "value": issued}))
        return httpx.Response(200, json=envelope(issued))

    spec = cft.TokenSpec(name="bot", policies=[cft.Policy.allow(["DNS Read"], zones=[ZONE])])
    with captured_logs() as logs:
        client = client_for(secret, handler)
        created = client.tokens.create(spec)
        rolled = client.tokens.roll(TOKEN_ID)
        client.close()
    assert created.secret.reveal() == issued == rolled.reveal()
    for text in (
        repr(created),
        str(created),
        repr(rolled),
        f"{rolled}",
        logs.getvalue(),
        repr(client),
    ):
        assert issued not in text
        assert secret not in text


def test_audit_log_copies_of_secrets_are_redacted() -> None:
    """A secret inside an audit-log record's response copy is redacted in the record."""
    issued = "cfut_" + "Q" * 43
    row = {"id": "x", "resource": {"response": {"value": issued, "nested": [f"Bearer {issued}"]}}}
    record = cft.AuditLogRecord.from_api(row)
    assert issued not in repr(record) and issued not in json.dumps(record.to_api())


@pytest.mark.parametrize("offset", [120, 140, 150, 155])
def test_an_excerpt_cut_inside_a_secret_shows_no_part_of_it(offset: int) -> None:
    """The short body excerpt of an error is redacted before it is cut, so a secret that
    straddles the cut shows no prefix of itself."""
    issued = "cfut_" + "Kq7" * 13 + "Zx9abc"
    body = "<html>" + "x" * (offset - 6) + issued + "</html>"

    client = client_for(USER_TOKEN, lambda r: httpx.Response(502, text=body))
    with pytest.raises(cft.UnexpectedResponse) as info:
        client.tokens.get(TOKEN_ID)
    client.close()
    for text in texts_of(info.value):
        assert "cfut_Kq7" not in text


def _refusal(make: Callable[[], Any]) -> str:
    with pytest.raises(cft.InvalidInput) as info:
        make()
    return f"{info.value} {info.value!r} {info.value.args!r}"


@settings(max_examples=10, deadline=None)
@given(secret=secrets_, drawn=st.text(alphabet=ALNUM, min_size=5, max_size=27))
def test_a_secret_in_the_wrong_argument_is_never_echoed(secret: str, drawn: str) -> None:
    """A secret given as base URL, account id, e-mail, token id or account id of a call is
    refused with a message that names the argument but not the secret; an unshaped key given
    as the e-mail is hidden too (the client knows its own credentials). The unshaped key
    starts with ``Qz9``, which no message holds, so a drawn key cannot be a word of the
    message itself (``InvalidI`` is the start of the exception's repr)."""
    plain = "Qz9" + drawn
    key37 = "0123456789abcdef0123456789abcdef01234"
    cases: list[tuple[Callable[[], Any], tuple[str, ...]]] = [
        (lambda: cft.Client.from_env(environ={"CLOUDFLARE_API_TOKEN": "t" * 8,
                                              "CLOUDFLARE_BASE_URL": secret}), ("base_url",)),
        (lambda: cft.Client.from_env(environ={"CLOUDFLARE_API_TOKEN": "t" * 8,
                                              "CLOUDFLARE_BASE_URL": "https://h/" + secret}),
         ("base_url",)),
        (lambda: cft.Client.from_env(environ={"CLOUDFLARE_API_TOKEN": "t" * 8,
                                              "CLOUDFLARE_ACCOUNT_ID": secret}), ("account_id",)),
        (lambda: cft.Client(api_key=key37, email=key37), ("email",)),
        (lambda: cft.Client(api_key=plain, email=plain), ("email",)),
        (lambda: cft.Client(token=plain, account_id=plain), ("account_id",)),
        (lambda: cft.Client(token="t" * 8).tokens.get(secret), ("token id",)),
        (lambda: cft.Client(token="t" * 8).account(secret), ("account id",)),
    ]  # fmt: skip
    for make, words in cases:
        text = _refusal(make)
        assert all(word in text for word in words), text
        for hidden in (secret, secret[:24], key37, plain):
            assert hidden not in text, text


def test_error_messages_and_urls_are_redacted_when_built() -> None:
    """Any error of the tree, whoever builds it, holds no credential-shaped text."""
    leaked = "cfut_" + "x" * 43
    error = cft.APIError(f"refused {leaked}", url=f"https://h/{leaked}")
    assert leaked not in str(error) and leaked not in error.url
    assert leaked not in str(cft.InvalidInput(f"bad value {leaked!r}"))


def resources_of(client: cft.Client | cft.AsyncClient, account: str) -> list[object]:
    """Every resource object a client hands out, for the user and for one account."""
    scope = client.account(account)
    return [
        client.tokens,
        client.tokens.permission_groups,
        client.permission_groups,
        client.accounts,
        client.zones,
        client.dns_records,
        client.user,
        scope,
        scope.tokens,
        scope.tokens.permission_groups,
        scope.audit_logs,
    ]


@settings(max_examples=20, deadline=None)
@given(secret=secrets_, key=st.booleans())
def test_resource_reprs_name_the_resource_and_client_never_a_secret(secret: str, key: bool) -> None:
    """`client.tokens` shows `<Tokens of Client(base_url='…')>`, an account's resources their
    account; no repr of a resource (nor of the client, str or repr) holds the credential."""
    assume(secret not in BASELINE)
    auth: dict[str, Any] = (
        {"api_key": secret, "email": "ana@example.com"} if key else {"token": secret}
    )
    account = f"{7:032x}"
    base = "https://api.cloudflare.com/client/v4"
    for make in (cft.Client, cft.AsyncClient):
        client = make(**auth)
        name = make.__name__
        prefix = "Async" if make is cft.AsyncClient else ""
        objects = resources_of(client, account)
        texts = [repr(o) for o in objects] + [str(o) for o in objects]
        assert texts[0] == f"<{prefix}Tokens of {name}(base_url={base!r})>"
        assert repr(client.user) == f"<{prefix}UserResource of {name}(base_url={base!r})>"
        assert repr(client.account(account).tokens) == (
            f"<{prefix}Tokens of account {account!r} on {name}(base_url={base!r})>"
        )
        assert repr(client.account(account)) == (
            f"<{prefix}AccountScope of account {account!r} on {name}(base_url={base!r})>"
        )
        for text in [*texts, repr(client), str(client)]:
            assert secret not in text
            assert "object at 0x" not in text
