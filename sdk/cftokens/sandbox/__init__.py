"""The sandbox: a local, permission-enforcing emulator of Cloudflare's token API.

Every notebook, test and workshop runs against it. It behaves like Cloudflare wherever
Cloudflare's behaviour is known, and this docstring says plainly where it had to choose.
Authorisation is decided by :func:`cftokens.policy.evaluate_request` and nothing else: the
sandbox asks the engine about the token, and about its owner's rights (see "Owners bound their
tokens" below), and memoises the answers per token version.

::

    import cftokens as cft
    sb = cft.Sandbox.demo()                 # the demo company (cftokens.sandbox.demo)
    client = sb.client()                    # the real cftokens.Client, bootstrap token
    sb.client(token=secret, ip="198.51.100.4")   # another token, from another address
    sb.journal                              # every request, as a DataFrame
    sb.clock.advance(timedelta(days=40))    # the clock only moves when told

    # shell: cftokens sandbox serve --port 8787 [--db FILE] [--seed demo|empty] …

Not emulated
------------
- Any operation of the catalogue other than those listed under "Emulated": it is authorised
  exactly as Cloudflare's schema says (403 code 10000 when refused) and, when allowed, answers
  **HTTP 501** with code 7501 and "authorized, but <METHOD path> is not emulated by the
  sandbox". Operations the schema does not annotate with permission groups answer 501 saying
  the sandbox cannot decide them. Paths outside the catalogue: 404 code 7003.
- DNS record types other than A, AAAA, CNAME, MX, NS, PTR, TXT (400 naming ``type``); record
  ``data`` objects, DNSSEC, batch and import/export endpoints. The DNS records' rules,
  filters, limits and codes: :mod:`.dns`.
- Origin CA keys (``X-Auth-User-Service-Key``), OAuth, the dashboard, 2FA, SSO, member
  invitations and other account-membership endpoints (memberships are seeded, not managed).
- R2 bucket-scoped permission groups on the wire (accepted in the catalogue, never granted).
- Per-IP limits (200 requests per second per IP), the Audit Logs v2 ``product_category``
  filter and ``/history``. (Retention is emulated: the journal keeps everything, and the Audit
  Logs v2 API refuses a ``since`` older than its 30 days.)
- Zone plans, settings, activation checks, name-server verification.

Emulated (paths under ``/client/v4``; envelopes and fields as Cloudflare's OpenAPI schema)
-----------------------------------------------------------------------------------------
All 16 token operations, user-owned (``/user/tokens…``) and account-owned
(``/accounts/{account_id}/tokens…``): list, create, get, update (PUT), delete, roll
(``PUT …/value``), verify and permission_groups; GET /user, GET /accounts, GET
/accounts/{id}, GET /zones, GET /zones/{id}, DNS records list/create/get/update/patch/delete;
Audit Logs v2, ``GET /accounts/{account_id}/logs/audit`` (:mod:`.audit_logs`). HEAD answers
as GET without a body.

Choices where Cloudflare's behaviour is not documented
------------------------------------------------------
==========================================  ================================================
situation                                   the sandbox answers
==========================================  ================================================
no credentials                              400, code 9106 "Missing X-Auth-Key, X-Auth-Email
                                            or Authorization headers"
Authorization not ``Bearer <token>``, or    400, code 6003 "Invalid request headers",
two Authorization headers                   error_chain [6111 "Invalid format for
                                            Authorization header"]
unknown, rolled-away, deleted, disabled,    401, code 9109 "Invalid access token"
expired or not-yet-valid token
token used outside its IP condition         403, code 9109 "Cannot use the access token from
                                            location: <ip>"
Global API Key or email wrong               403, code 9103 "Unknown X-Auth-Key or
                                            X-Auth-Email"
valid token, missing permission/resource    403, code 10000 "Authentication error" (the
                                            journal's ``reason`` column says why, in the
                                            engine's words)
verify with an unknown/rolled/deleted       401, code 1000 "Invalid API Token"; an
token, or with the wrong owner kind         account-owned token on /user/tokens/verify and a
                                            user token on /accounts/{id}/tokens/verify too
verify of a disabled, expired or            200, ``result.status`` "disabled"/"expired" (or
not-yet-valid token                         "active" with ``not_before``), and the message
                                            "This API Token is disabled" / "has expired" / "is
                                            not valid yet"; outside its IP condition: 9109
account-owned token on GET /accounts        403, code 1001
token quota (50 per user, 500 per account)  400, code 1002 "… already has the maximum of 50
                                            API tokens; delete unused tokens …"
``per_page`` outside 5-50, ``page`` < 1,    400, code 1004, the message starting with the
bad ``direction``/``include_expired``        parameter's name; a page past the end is an empty
                                            list (SDKs rely on it to stop). GET /zones takes
                                            ``per_page`` from 1 (Cloudflare's legacy client
                                            finds a zone by name with ``per_page=1``); DNS
                                            records 1 to 5,000,000 (the schema's bounds)
a query number that is not plain ASCII      400, code 1004 naming the parameter (``1_0``,
digits (``20`` or ``20.0``)                 full-width digits, ``1e3``, over 30 digits)
invalid body field                          400, code 1004, message starting with the field
                                            path (``policies[0].resources['…']: …``); an
                                            integer of over 300 digits is read as a number
                                            (``inf``), refused by its field's check; a time
                                            that leaves the years 0001-9999 in UTC is out of
                                            range. Times are written RFC 3339 with a
                                            four-digit year (``0999-01-01T00:00:00Z``)
body that is not JSON                       400, code 6007 "Malformed JSON in request body: …"
body over 64 KiB                            413, code 1005, stating the body's real size
                                            (the server keeps only its first 64 KiB)
a method the API does not have (TRACE,      405, code 7001, ``allow`` header
OPTIONS, …)
rate limit exceeded                         429, code 971 "More than 1200 requests per 300
                                            seconds reached. Please wait and consider
                                            throttling your request speed", headers
                                            ``retry-after``, ``x-ratelimit-limit``,
                                            ``x-ratelimit-remaining`` (the last two also
                                            on successful answers while the limit is on,
                                            with ``x-ratelimit-reset``: seconds until the
                                            window resets, a sandbox choice)
unknown object id in a path                 404, code 7003 "Could not route to <path>,
                                            perhaps your object identifier is invalid?"
                                            (tokens of another owner look unknown too);
                                            unknown zone or account ids are refused first
                                            (403, 10000): nobody holds rights on them.
                                            Paths are routed as sent, never percent-decoded:
                                            an id holding ``%2F``, ``%3F`` or ``%23`` is an
                                            unknown id (so ``…/<id>%2Fvalue`` is no roll)
token list order                            creation order; ``direction=desc`` reverses it;
                                            expired tokens only with include_expired=true
PUT without ``status``                      keeps the current status (``status`` may be set
                                            to active or disabled, "expired" is refused);
                                            omitted condition/not_before/expires_on are
                                            removed; policy ids sent back are kept
create with ``expires_on`` in the past      400 naming ``expires_on`` (PUT accepts any)
zone group on a bare account key            accepted; it covers nothing (the engine's rule)
                                            and the audit flags it
a group whose scope fits no resource of     400 naming ``policies[i].permission_groups[j]``
its policy
roll                                        new secret at once, old one invalid at once;
                                            id, policies and ``modified_on`` unchanged
``last_used_on``                            set on every authenticated request (also refused
                                            ones), not for tokens refused as invalid or for
                                            their location
GET /accounts                               the member accounts where the token may call
                                            GET /accounts/{id} or reaches a zone
GET /zones                                  needs Zone Read (as catalogued); lists the zones
                                            where GET /zones/{id} would be allowed
audit logs                                  account-targeted authenticated requests (also
                                            refused ones, ``action.result`` "failure") whose
                                            actor belongs to the account (a member, or one
                                            of its account-owned tokens): another account's
                                            attempts never show there; user-level paths
                                            (/user/…) have no account and are not in any
                                            account's log
DNS list parameter the sandbox does not     400, code 1004 "<param>: filter not emulated …"
apply (anything but the schema's filters)   (never the whole zone, silently)
DNS record limits Cloudflare does not       content of non-TXT records at most 255
publish                                     characters, comment 500, at most 20 tags of 100
                                            characters (400 naming the field); Cloudflare's
                                            own: TXT 2,048 characters, 200 records per free
                                            zone and 3,500 on other plans (81045)
the client address                          the TCP peer's; ``X-Forwarded-For`` only from a
                                            proxy named with ``--trusted-proxy CIDR``
                                            (``BackgroundServer(trusted_proxies=…)``)
an unexpected failure                       500, code 10001; logged with its traceback and
                                            request id (``cf-ray``) on the
                                            ``cftokens.sandbox`` logger (the server's
                                            console)
==========================================  ================================================

Owners bound their tokens (child-token bounds)
----------------------------------------------
A token can never do more than its owner: every request is also evaluated against the owner's
rights, written as a token (:mod:`.roles`): for a user token its user's roles (Super
Administrator: every account and zone group; Administrator: all but Account Settings Write,
SCIM Provisioning and Billing; Administrator Read Only: read groups except Billing Read; every
user holds the user-scope groups on their own user), for an account-owned token its account.
Wildcards (all accounts, all zones) therefore reach only the owner's accounts. When a token
creates or edits a token, the new token is bounded by the *user's* role, not by the creating
token (as Cloudflare documents it): a token holding only API Tokens Write can create a token
with DNS Write, which is why minting tokens are escalation paths (audit rule PE-06). Resources
outside the owner's accounts, other users, unknown ids, and groups beyond the creator's role
are refused with 400 naming the field. Account-owned tokens may name only their own account and
its zones, never a user or a cross-account wildcard.

Secrets
-------
``cfut_``/``cfat_`` + 40 ``[A-Za-z0-9]`` + a 6-character checksum of the sandbox's own
(:mod:`.credentials`: CRC-32 of prefix and body, base 62). Stored only as HMAC-SHA256 under a
per-sandbox key and compared in constant time; the value exists in the create/roll response
only. ``sb.issued_secrets()`` keeps the Secrets this object issued, in memory, for leak scans
(off for the HTTP server). Global API Keys are 37 hex characters (``sb.global_api_key``).

Determinism and time
--------------------
``Sandbox(seed=…)``: ids, secrets and the demo's history derive from the seed and a persistent
counter, so the same seed gives the same values. The clock (:class:`Clock`) reads
2026-11-02T09:00:00Z until moved (``sb.clock.advance``/``set``, or ``tick=`` per request);
the HTTP server follows the wall clock (unless ``--now`` is given) and always draws secrets
from the OS. The rate limit counts on the wall clock by default (``RateLimit(clock="sandbox")``
for notebooks that show a 429 and then ``advance`` past it); without a rate limit
(``rate_limit=None``), ``sb.client()`` has no client-side limit either.

Storage
-------
SQLite: in memory by default, a WAL file with ``db=PATH``/``--db`` (reopened on the next run;
the bootstrap secret is then unknown, ``sb.roll_bootstrap()`` issues a new one). A new file is
created 0600, and SQLite gives its ``-wal``/``-shm`` files the same mode (they hold the HMAC
key and the journal); a symbolic link at the path is refused. Every API call
that writes runs in one transaction: a failed call leaves nothing behind but its journal entry.
Read-only (GET) calls write only their journal entry, in batches (64 entries or half a second,
and always before anything reads the journal) and ``last_used_on`` (at most once per second
and token). One process per database file. Serialised DNS list pages are cached between
writes, keyed by the parsed parameters and bounded to 8 MiB (a page over 1 MiB is not kept):
junk parameters cannot grow the server.

Faults and rate limits: :mod:`.faults` (the SPEC syntax). Bulk seeding for benchmarks:
:meth:`Sandbox.seed_tokens` (500 account tokens in about 10 ms). Workshops:
:meth:`Sandbox.add_attendees` / ``--attendees N``. The demo company and its planted problems:
:mod:`.demo`.
"""

from .clock import Clock
from .core import Attendee, Sandbox, issued_secrets_everywhere
from .credentials import is_sandbox_secret
from .faults import Faults, RateLimit
from .store import Role

__all__ = [
    "Attendee",
    "Clock",
    "Faults",
    "RateLimit",
    "Role",
    "Sandbox",
    "is_sandbox_secret",
    "issued_secrets_everywhere",
]
