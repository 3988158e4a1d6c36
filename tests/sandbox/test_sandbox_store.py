"""Storage: SQLite file with WAL that survives restarts, secrets kept only as keyed hashes,
and no secret in the journal, the DataFrame or a repr."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from sandbox_helpers import Api, token_body

import cftokens as cft
from cftokens.errors import InvalidInput
from cftokens.sandbox import Clock, Sandbox, journal_table
from cftokens.sandbox import core as sandbox_core


def test_db_file_survives_restart(tmp_path: Path) -> None:
    """Tokens written to a --db file are there after reopening; the counter continues, the
    bootstrap secret is unknown until rolled, and the rolled one works."""
    path = tmp_path / "sandbox.db"
    first = Sandbox(db=path)
    zone = first.directory().zones[0].id
    created = Api(first, first.bootstrap_token).post("/user/tokens", json=token_body(zone))
    token = created.json()["result"]
    first.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    second = Sandbox(db=path)
    assert token["id"] in {t.id for t in second.tokens()}
    assert Api(second, token["value"]).get("/user/tokens/verify").status_code == 200
    with pytest.raises(InvalidInput, match="roll_bootstrap"):
        _ = second.bootstrap_token
    new_secret = second.roll_bootstrap()
    client = Api(second, new_secret)
    again = client.post("/user/tokens", json=token_body(zone, "after-restart")).json()["result"]
    assert again["id"] not in {token["id"], second.bootstrap_token_id}
    assert len(second.journal) == 3  # create, verify, create: all kept across the restart
    second.close()


def test_secrets_are_stored_only_as_keyed_hashes(tmp_path: Path) -> None:
    """No issued secret (tokens, rolls, API key) appears anywhere in the database files."""
    path = tmp_path / "s.db"
    sb = Sandbox.demo(db=path, rate_limit=None)
    client = Api(sb, sb.bootstrap_token)
    zone = sb.directory().zones[0].id
    created = client.post("/user/tokens", json=token_body(zone)).json()["result"]
    client.put(f"/user/tokens/{created['id']}/value", json={})
    secrets = sb.issued_secrets()
    assert len(secrets) >= 50
    sb.close()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in secrets:
        assert secret.reveal().encode() not in blob


def test_the_journal_frame_holds_every_row_as_read_one_by_one(demo: Sandbox) -> None:
    """``Sandbox.journal`` (built column by column) against the journal read row by row:
    the same cells in the same order, the owner named (an email or an account name), times
    UTC, the status an integer, a missing error code NA, an empty journal the same columns."""
    api = Api(demo, demo.bootstrap_token)
    api.get("/user/tokens/verify")
    api.get("/zones/" + "0" * 32)  # refused: an error code
    Api(demo).get("/user/tokens/verify")  # no credential: no auth, no owner
    frame = demo.journal
    rows = demo.store.journal()
    emails = {u.id: u.email for u in demo.store.users()}
    names = {a.id: a.name for a in demo.store.accounts()}
    assert len(frame) == len(rows) > 1500
    for column in ("token_id", "auth", "method", "path", "ray_id", "fault", "reason", "ip"):
        assert [None if pd.isna(v) else v for v in frame[column]] == [r[column] for r in rows]
    owners = [
        emails.get(r["owner_id"]) if r["owner_type"] == "user" else names.get(r["owner_id"])
        for r in rows
    ]
    assert [None if pd.isna(v) else v for v in frame["owner"]] == owners
    assert list(frame["status"]) == [r["status"] for r in rows]
    codes = [r["error_code"] for r in rows]
    assert [None if pd.isna(v) else v for v in frame["error_code"]] == codes
    assert any(c is not None for c in codes) and any(c is None for c in codes)
    assert list(frame["time"]) == [pd.Timestamp(r["time"]) for r in rows]
    assert str(frame["time"].dt.tz) == "UTC" and frame["status"].dtype == "int64"
    empty = Sandbox(content="none").journal
    assert empty.empty and list(empty.columns) == list(frame.columns)


def test_the_journal_frame_is_built_once_while_the_journal_is_unchanged(
    demo: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``Sandbox.journal`` reads the journal again only when it changed (a request answered,
    an owner's name changed), also for copies of a sandbox that read it; each frame handed
    out is the caller's own; a second sandbox on the same file sees the first one's rows."""
    reads: list[int] = []
    columns = type(demo.store).journal_columns

    def counted(store: object) -> dict[str, tuple[object, ...]]:
        reads.append(1)
        return columns(store)  # type: ignore[arg-type]

    monkeypatch.setattr(type(demo.store), "journal_columns", counted)
    first = demo.journal
    expected = first.copy()
    first.loc[first.index[0], "path"] = "/changed"
    first["status"] = 0
    del first["ip"]
    twin = demo.copy()
    assert demo.journal.equals(expected) and twin.journal.equals(expected)
    assert len(reads) <= 1  # read at most once (not at all when the demo's seeding had)
    reads.clear()
    with demo.client() as client:
        client.tokens.verify()
    grown = demo.journal
    assert len(grown) == len(expected) + 1 and grown.iloc[:-1].equals(expected)
    assert twin.journal.equals(expected) and len(reads) == 1  # the copy's own: unchanged
    account = str(grown["account_id"].dropna().iloc[0])
    demo.store.conn.execute("UPDATE accounts SET name = 'Renamed' WHERE id = ?", (account,))
    owners = demo.journal.loc[lambda j: j["owner_id"] == account, "owner"]
    assert len(owners) and set(owners) == {"Renamed"} and len(reads) == 2
    path = tmp_path / "shared.db"
    with Sandbox(db=path, rate_limit=None) as one:
        before = len(one.journal)
        with Sandbox(db=path, rate_limit=None) as other:
            Api(other, other.roll_bootstrap()).get("/user/tokens/verify")
        assert len(one.journal) == before + 1  # written to the file when `other` closed


def test_no_secret_in_journal_dataframe_or_reprs(sb: Sandbox, api: Api) -> None:
    """The journal DataFrame, the sandbox repr and issued-secret reprs never hold a secret,
    even when a client puts one in the query string or user agent."""
    zone = sb.directory().zones[0].id
    created = api.post("/user/tokens", json=token_body(zone)).json()["result"]
    value = created["value"]
    api.get("/zones", params={"token": value}, headers={"User-Agent": f"bot Bearer {value}"})
    text = sb.journal.to_csv()
    for secret in sb.issued_secrets():
        assert secret.reveal() not in text
        assert secret.reveal() not in repr(secret)
    assert value not in repr(sb) and value not in str(sb.token(created["id"]))
    assert "[redacted]" in text


def test_issued_secrets_can_be_turned_off() -> None:
    """keep_secrets=False keeps no issued secret in memory."""
    sb = Sandbox(keep_secrets=False)
    assert sb.issued_secrets() == []
    assert Api(sb, sb.bootstrap_token).get("/user/tokens/verify").status_code == 200


def test_admin_api_validates_input(sb: Sandbox) -> None:
    """The seeding API refuses bad input with messages that say what to give."""
    with pytest.raises(InvalidInput, match="email"):
        sb.add_user("nobody")
    with pytest.raises(InvalidInput, match="already exists"):
        sb.add_user("analyst@example.com")
    with pytest.raises(InvalidInput, match="no account"):
        sb.add_zone("x.example", account="0" * 32)
    with pytest.raises(InvalidInput, match="role"):
        sb.add_member(sb.user_id, sb.directory().accounts[0].id, "owner")
    with pytest.raises(InvalidInput, match="name"):
        sb.create_token({"name": "", "policies": []})


def test_seed_tokens_is_usable(sb: Sandbox) -> None:
    """seed_tokens bulk-creates account tokens visible through the API (its speed:
    bench/bench_sandbox.py --seeding-only)."""
    account = sb.directory().accounts[0].id
    ids = sb.seed_tokens(account, 500)
    assert len(set(ids)) == 500
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    body = Api(sb).get(f"/accounts/{account}/tokens", params={"per_page": 50}, headers=key).json()
    assert body["result_info"]["total_count"] == 500


def test_a_copy_is_the_same_sandbox(demo_company: Sandbox) -> None:
    """A copy holds the same tokens, journal, clock time, extras and known secrets, and the
    demo company with its leak scenario staged on a copy is exactly Sandbox.demo(leak=True)."""
    twin = demo_company.copy()
    assert repr(twin) == repr(demo_company)
    assert [t.to_api() for t in twin.tokens()] == [t.to_api() for t in demo_company.tokens()]
    assert twin.journal.equals(demo_company.journal)
    assert twin.clock.now() == demo_company.clock.now()
    assert twin.bootstrap_token == demo_company.bootstrap_token
    assert twin.global_api_key == demo_company.global_api_key
    assert twin.extras == demo_company.extras
    assert twin.issued_secrets() == demo_company.issued_secrets()
    twin.stage_leak()
    seeded = Sandbox.demo(leak=True)
    assert twin.journal.equals(seeded.journal)
    assert [t.to_api() for t in twin.tokens()] == [t.to_api() for t in seeded.tokens()]
    assert twin.extras == seeded.extras
    assert twin.issued_secrets() == seeded.issued_secrets()
    with twin.client() as mine, seeded.client() as theirs:  # same next ids, Ray ids, secrets
        assert mine.tokens.roll(str(twin.bootstrap_token_id)) == theirs.tokens.roll(
            str(seeded.bootstrap_token_id)
        )
        assert twin.journal.equals(seeded.journal)


def test_a_copy_is_independent(demo_company: Sandbox, tmp_path: Path) -> None:
    """Writes, rolls, clock moves and extras of a copy never reach the original (nor another
    copy); a copy of a file-backed sandbox lives in memory; faults and rate limit can change."""
    before = (repr(demo_company), len(demo_company.journal), demo_company.clock.now())
    one, other = demo_company.copy(rate_limit=None), demo_company.copy(faults="rate=1.0")
    with one.client() as client:
        doomed = next(t for t in one.tokens(owner=one.user_id) if t.id != one.bootstrap_token_id)
        client.tokens.delete(doomed.id)
        rolled = client.tokens.roll(str(one.bootstrap_token_id))
    one.clock.advance(timedelta(days=3))
    one.extras["files"]["new"] = "x"
    assert one.engine.rate_limit is None and other.engine.faults is not None
    assert (repr(demo_company), len(demo_company.journal), demo_company.clock.now()) == before
    assert doomed.id in {t.id for t in other.tokens()}
    assert "new" not in demo_company.extras["files"] and "new" not in other.extras["files"]
    assert rolled not in other.issued_secrets()
    with demo_company.copy().client() as client:
        assert client.tokens.verify().status == "active"  # the original bootstrap secret
    with Sandbox(db=tmp_path / "s.db") as filed:
        twin = filed.copy()
        assert twin.store.path is None and repr(twin) == repr(filed)
    with pytest.raises(InvalidInput, match="closed"):
        filed.copy()


def test_copies_of_an_unchanged_sandbox_build_its_journal_frame_once(
    demo_company: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal frame a copy builds serves the sandbox it was copied from, and that one's
    later copies, while neither journal grew (both hold the journal copied then); a copy
    whose journal grew builds its own, and hands it to nobody; each frame is right for its
    own journal."""
    builds: list[int] = []
    build = Sandbox._journal_frame

    def counted(*args: object) -> object:
        builds.append(len(args[0]["time"]))  # type: ignore[index]
        return build(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(Sandbox, "_journal_frame", staticmethod(counted))
    source = demo_company.copy()  # demo_company may hold a frame already: then none is built
    expected = source.copy().journal  # built at most once, handed to `source`
    assert [source.copy().journal.equals(expected) for _ in range(3)] == [True] * 3
    assert source.journal.equals(expected) and len(builds) <= 1
    builds.clear()
    grown = source.copy()
    with grown.client() as client:
        client.tokens.verify()
    assert len(grown.journal) == len(expected) + 1 and len(builds) == 1
    assert source.copy().journal.equals(expected) and len(builds) == 1  # not the grown one's
    with source.client() as client:  # the source grows: the frame it held is not its own
        client.tokens.verify()
    assert len(source.journal) == len(expected) + 1 and len(builds) == 2
    assert source.copy().journal.equals(source.journal) and len(builds) == 2


def test_an_empty_sandbox_is_seeded_once_per_process_and_copied(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Sandbox() seeds its user, account, zone, bootstrap token and API key once per (seed,
    now, tick, keep_secrets) and hands out copies, as Sandbox.demo() does: each in the state a
    seeding gives (the same ids, secrets and next ids), independent of the others, with its own
    faults and rate limit. A sandbox with a database file, a clock of its own or secrets from
    the OS is seeded."""
    seedings: list[Sandbox] = []
    seed = Sandbox._seed_empty

    def counted(self: Sandbox) -> None:
        seedings.append(self)
        seed(self)

    monkeypatch.setattr(Sandbox, "_seed_empty", counted)
    monkeypatch.setattr(sandbox_core, "_SEEDED", {})
    one, two = Sandbox(), Sandbox(rate_limit=None, faults="rate=1.0")
    assert len(seedings) == 1 and seedings[0] is not one and seedings[0] is not two
    fresh = Sandbox(clock=Clock())  # a clock of its own: seeded
    assert len(seedings) == 2
    for copied in (one, two):
        assert repr(copied) == repr(fresh)
        assert [t.to_api() for t in copied.tokens()] == [t.to_api() for t in fresh.tokens()]
        assert copied.bootstrap_token == fresh.bootstrap_token
        assert copied.global_api_key == fresh.global_api_key
        assert copied.issued_secrets() == fresh.issued_secrets()
    assert two.engine.faults is not None and one.engine.faults is None
    with one.client() as mine, fresh.client() as theirs:  # same next ids, Ray ids, secrets
        assert mine.tokens.roll(str(one.bootstrap_token_id)) == theirs.tokens.roll(
            str(fresh.bootstrap_token_id)
        )
        assert one.journal.equals(fresh.journal)
    with Sandbox().client() as client:  # the roll stayed in `one`
        assert client.tokens.verify().status == "active"
    with pytest.raises(cft.CloudflareError), one.client(max_retries=0) as client:
        client.tokens.verify()
    assert len(seedings) == 2
    Sandbox(seed=1), Sandbox(keep_secrets=False), Sandbox(tick=timedelta(seconds=1))
    assert len(seedings) == 5
    Sandbox(secure_secrets=True), Sandbox(db=tmp_path / "s.db").close()
    assert len(seedings) == 7
    Sandbox(content="none")
    assert len(seedings) == 7


def test_a_copy_keeps_enforcing_foreign_keys(demo_company: Sandbox) -> None:
    """A copy's database refuses a row naming a user that does not exist, as the original's
    does (a setting of the connection, which SQLite's backup does not carry over)."""
    for store in (demo_company.copy().store, Sandbox().store):
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.conn.execute(
                "INSERT INTO memberships(user_id, account_id, role) VALUES ('nobody', 'x', 'r')"
            )


def test_read_caches_follow_writes(sb: Sandbox) -> None:
    """Cached reads (zones, token lookups, DNS pages) reflect every write at once: a zone
    added after a refused lookup, a DNS record added after a listing, a rolled secret."""
    key = {"X-Auth-Email": "analyst@example.com", "X-Auth-Key": sb.global_api_key.reveal()}
    client = Api(sb)
    client.http.headers.update(key)
    zone = sb.directory().zones[0].id
    base = f"/zones/{zone}/dns_records"
    assert client.get(base).json()["result_info"]["total_count"] == 0
    client.post(base, json={"type": "TXT", "name": "a", "content": "x"})
    assert client.get(base).json()["result_info"]["total_count"] == 1
    sb.add_dns_record(zone, type="TXT", name="b", content="y")
    assert client.get(base).json()["result_info"]["total_count"] == 2
    bootstrap = Api(sb, sb.bootstrap_token)
    assert bootstrap.get("/user/tokens/verify").status_code == 200
    rolled = bootstrap.put(f"/user/tokens/{sb.bootstrap_token_id}/value", json={})
    assert bootstrap.get("/user/tokens/verify").status_code == 401
    assert Api(sb, rolled.json()["result"]).get("/user/tokens/verify").status_code == 200


def test_journal_of_reads_reaches_the_file_without_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journal entries of GET requests are written in batches, at the latest FLUSH_AFTER (half
    a second) later, even when nothing reads them (here 50 ms, looked at every 10 ms)."""
    import time

    monkeypatch.setattr(journal_table, "FLUSH_AFTER", 0.05)
    monkeypatch.setattr(journal_table, "FLUSH_EVERY", 0.01)
    path = tmp_path / "j.db"
    sb = Sandbox(db=path)
    client = Api(sb, sb.bootstrap_token)
    for _ in range(3):
        client.get("/user/tokens/verify")
    deadline = time.monotonic() + 5
    count = 0
    while time.monotonic() < deadline and count < 3:
        time.sleep(0.01)
        with sqlite3.connect(path) as other:
            count = other.execute("SELECT count(*) FROM journal").fetchone()[0]
    assert count == 3
    sb.close()


def test_not_a_sandbox_database_is_a_clear_error(tmp_path: Path) -> None:
    """A --db file that is not SQLite is refused with a message naming the file."""
    path = tmp_path / "notes.txt"
    path.write_text("these are not the droids " * 100)
    with pytest.raises(InvalidInput, match="not a sandbox database"):
        Sandbox(db=path)


def test_a_db_path_that_cannot_be_opened_is_a_clear_error(tmp_path: Path) -> None:
    """A --db path in a missing folder (or a folder itself) is refused naming the path."""
    for path in (tmp_path / "missing" / "sandbox.db", tmp_path):
        with pytest.raises(InvalidInput, match="cannot open") as info:
            Sandbox(db=path)
        assert str(path) in str(info.value)


def test_the_journal_never_holds_a_secret_sent_in_a_path(sb: Sandbox, api: Api) -> None:
    """A secret pasted into a URL path is redacted in the journal, like the query string."""
    secret = sb.bootstrap_token.reveal()
    assert api.get(f"/user/tokens/{secret}").status_code == 404
    assert api.get(f"/{secret}/x").status_code == 404
    journal = sb.journal
    assert secret not in journal.to_csv()
    assert list(journal["path"].tail(2)) == ["/user/tokens/[redacted]", "/[redacted]/x"]


def test_add_journal_refuses_entries_that_would_break_the_journal(sb: Sandbox) -> None:
    """add_journal() refuses an entry without a tz-aware time, method or path, a non-integer
    status or an unknown column, and writes none of the batch."""
    good = {"time": datetime(2026, 11, 1, tzinfo=UTC), "method": "GET", "path": "/zones"}
    for bad, phrase in (
        ({**good, "time": "yesterday"}, "time"),
        ({**good, "time": datetime(2026, 11, 1)}, "time"),
        ({k: v for k, v in good.items() if k != "time"}, "time"),
        ({**good, "method": None}, "method"),
        ({**good, "status": "ok"}, "status"),
        ({**good, "colour": "red"}, "colour"),
    ):
        before = len(sb.journal)
        with pytest.raises(InvalidInput, match=phrase):
            sb.add_journal([good, bad])
        assert len(sb.journal) == before
    assert sb.add_journal([{**good, "status": 200}]) == 1
    assert sb.journal["time"].iloc[-1] == pd.Timestamp("2026-11-01", tz="UTC")


def test_a_journal_row_refuses_a_column_it_does_not_have() -> None:
    """A misspelt column is a TypeError naming it, not a value silently dropped."""
    from cftokens.sandbox.store import JournalRow

    with pytest.raises(TypeError, match="unknown journal columns: statuz, tokenid"):
        JournalRow(method="GET", path="/user", statuz=200, tokenid="x")  # type: ignore[call-arg]
    assert JournalRow(method="GET", path="/user", status=200).values()[13] == 200
