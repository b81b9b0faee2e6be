"""The encrypted store: lines sealed (AES-256-GCM) and bound to file and offset, read back
transparently, tampering reported and skipped, keys kept and rotated."""

from __future__ import annotations

import base64
import logging
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from exporters.store import sealed
from exporters.store.files import JsonlStore, ReadProblems, read_records
from exporters.store.follow import StoreTail
from otel_distro.drop_ledger import counts_of
from otel_distro.settings import load_settings
from otel_distro.store_admin import export_plain, rotate_key
from otel_distro.store_key import MARKER_FILE, StoreKey, StoreSealer, marker

KEY = bytes(range(32))


@pytest.fixture(autouse=True)
def _keys() -> Iterator[None]:
    sealed.use_keys(lambda: [KEY])
    yield
    sealed.use_keys(None)


def _line(n: int, text: str = "secret question") -> bytes:
    return orjson.dumps({"n": n, "text": f"{text} {n}"}) + b"\n"


def _store(tmp_path: Path) -> JsonlStore:
    return JsonlStore(tmp_path, sealer=sealed.LineSeal([KEY]))


def _read(path: Path) -> tuple[list[dict[str, object]], ReadProblems]:
    problems = ReadProblems()
    return list(read_records(path, problems=problems)), problems


def test_sealed_lines_hold_no_plaintext_and_read_back_in_order(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.append("traces", [_line(1), _line(2)], 2)
    assert store.append("traces", _line(3) + _line(4), 2)  # one buffer of two lines
    path = store.files("traces")[0]
    raw = path.read_bytes()
    assert b"secret" not in raw and b'"n"' not in raw
    assert all(line.startswith(sealed.PREFIX) for line in raw.splitlines())
    records, problems = _read(path)
    assert [r["n"] for r in records] == [1, 2, 3, 4]
    assert problems == ReadProblems()


def test_swapped_moved_or_altered_lines_are_reported_and_never_returned(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert store.append("traces", [_line(1, "a"), _line(2, "bb"), _line(3, "ccc")], 3)
    path = store.files("traces")[0]
    one, two, three = path.read_bytes().splitlines(keepends=True)

    path.write_bytes(two + one + three)  # swapped: both fail, the third (same end offset) stands
    records, problems = _read(path)
    assert [r["n"] for r in records] == [3]
    assert problems.unauthentic == 2 and "did not open" not in str(problems.unreadable)
    assert "failed authentication" in problems.unreadable[0]

    other = path.with_name("2001-01-01.jsonl")  # a line moved to another file, same offset
    other.write_bytes(one)
    records, problems = _read(other)
    assert records == [] and problems.unauthentic == 1

    flipped = bytearray(one)
    flipped[20] ^= 1
    path.write_bytes(bytes(flipped) + two + three)
    records, problems = _read(path)
    assert [r["n"] for r in records] == [2, 3] and problems.unauthentic == 1


def test_a_store_plain_before_encryption_was_turned_on_still_reads(tmp_path: Path) -> None:
    JsonlStore(tmp_path).append("traces", [_line(1)], 1)
    _store(tmp_path).append("traces", [_line(2)], 1)
    JsonlStore(tmp_path).append("traces", [_line(3)], 1)  # turned off again
    records, problems = _read(JsonlStore(tmp_path).files("traces")[0])
    assert [r["n"] for r in records] == [1, 2, 3] and problems.unauthentic == 0


def test_without_the_key_sealed_lines_are_counted_and_the_file_named(tmp_path: Path) -> None:
    _store(tmp_path).append("traces", [_line(1), _line(2)], 2)
    sealed.use_keys(lambda: [bytes(32)])  # another key
    records, problems = _read(JsonlStore(tmp_path).files("traces")[0])
    assert records == [] and problems.unauthentic == 2
    assert "unknown key" in problems.unreadable[0]


def test_a_partial_sealed_line_left_by_a_killed_writer_is_fenced_and_skipped(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.append("traces", [_line(1)], 1)
    path = store.files("traces")[0]
    with path.open("ab") as handle:
        handle.write(sealed.LineSeal([KEY]).seal("traces/" + path.name, path.stat().st_size, b"{}")[:30])
    store.append("traces", [_line(2)], 1)
    records, problems = _read(path)
    assert [r["n"] for r in records] == [1, 2] and problems.unauthentic == 1


def _append_many(base: str, worker: int) -> None:
    store = JsonlStore(Path(base), sealer=sealed.LineSeal([KEY]))
    for n in range(150):
        store.append("traces", [_line(worker * 1000 + n), _line(worker * 1000 + n + 500)], 2)


def test_processes_appending_to_one_encrypted_file_bind_every_line_to_its_offset(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(tmp_path), w)) for w in range(1, 4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
        assert process.exitcode == 0
    records, problems = _read(JsonlStore(tmp_path).files("traces")[0])
    assert len(records) == 3 * 300 and problems == ReadProblems()


def test_an_encrypted_store_without_a_key_writes_nothing_and_counts_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = StoreKey(tmp_path / "store", env_key="not base64!")
    store = JsonlStore(tmp_path / "store", sealer=StoreSealer(key))
    with caplog.at_level(logging.WARNING, "otel_distro"):
        assert not store.append("traces", [_line(1)], 1)
        assert not store.append("traces", [_line(2)], 1)
    assert store.files("traces") == [] or store.files("traces")[0].read_bytes() == b""
    assert counts_of(store)["store_no_key"] == 2
    assert sum("TELEMETRY_STORE_KEY" in r.getMessage() for r in caplog.records) == 1


def test_a_new_key_goes_to_a_private_file_outside_the_store_and_is_reused(tmp_path: Path) -> None:
    key_file = tmp_path / "config" / "keys" / "store.key"
    key = StoreKey(tmp_path / "store", key_file=key_file)
    store = JsonlStore(tmp_path / "store", sealer=StoreSealer(key))
    assert store.append("traces", [_line(1)], 1)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    assert oct(key_file.parent.stat().st_mode & 0o777) == "0o700"
    keys = StoreKey(tmp_path / "store", key_file=key_file).load()
    assert len(keys) == 1 and marker(tmp_path / "store") == sealed.key_id(keys[0])
    sealed.use_keys(StoreKey(tmp_path / "store", key_file=key_file).load)
    assert [r["n"] for r in _read(store.files("traces")[0])[0]] == [1]
    assert not any(key_file.is_relative_to(p) for p in [tmp_path / "store"])


def test_the_default_key_file_is_in_the_user_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    settings = load_settings({"base_dir": tmp_path / "store", "store_encryption": True}, env={})
    key = StoreKey.of(settings)
    key.load_or_create()
    assert key.where().startswith(str(tmp_path / "xdg" / "otel-distro" / "store-keys"))
    assert key.erase() and key.load() == []


def test_the_key_from_the_environment_is_used_as_given(tmp_path: Path) -> None:
    text = base64.b64encode(KEY).decode()
    settings = load_settings({"base_dir": tmp_path, "store_key": text}, env={})
    assert StoreKey.of(settings).load() == [KEY]


def test_rotate_key_reseals_every_file_and_drops_the_old_key(tmp_path: Path) -> None:
    key = StoreKey(tmp_path / "store", key_file=tmp_path / "store.key")
    store = JsonlStore(tmp_path / "store", sealer=StoreSealer(key))
    JsonlStore(tmp_path / "store").append("logs", [_line(0)], 1)  # a plain line: sealed too
    store.append("traces", [_line(1), _line(2)], 2)
    old = key.load()
    report = rotate_key(store, key, wait_seconds=0)
    new = key.load()
    assert len(new) == 1 and new != old and report.old_key_ids == [sealed.key_id(old[0])]
    assert report.files == 2 and report.lines == 3 and report.skipped == 0
    assert (tmp_path / "store" / MARKER_FILE).read_text().strip() == sealed.key_id(new[0])
    for signal in ("traces", "logs"):
        raw = store.files(signal)[0].read_bytes()
        assert sealed.key_id(new[0]).encode() in raw and b"secret" not in raw
    assert [r["n"] for r in _read(store.files("traces")[0])[0]] == [1, 2]
    assert [r["n"] for r in _read(store.files("logs")[0])[0]] == [0]
    # the running writer takes the new key up from the marker
    writer = StoreSealer(StoreKey(tmp_path / "store", key_file=tmp_path / "store.key"), check_seconds=0)
    JsonlStore(tmp_path / "store", sealer=writer).append("traces", [_line(3)], 1)
    assert [r["n"] for r in _read(store.files("traces")[0])[0]] == [1, 2, 3]


def test_appends_after_a_reseal_go_to_the_new_file_not_the_replaced_one(tmp_path: Path) -> None:
    from exporters.store.reseal import reseal_file

    store = _store(tmp_path)
    store.append("traces", [_line(1)], 1)
    path = store.files("traces")[0]
    before = path.stat().st_ino
    report = reseal_file(path, sealed.LineSeal([KEY]))
    assert path.stat().st_ino != before and report.lines == 1
    store.append("traces", [_line(2)], 1)
    assert [r["n"] for r in _read(path)[0]] == [1, 2]


def test_export_writes_plain_otlp_json_lines(tmp_path: Path) -> None:
    store = _store(tmp_path / "store")
    store.append("traces", [_line(1), _line(2)], 2)
    report = export_plain(store, None, tmp_path / "out")
    out = tmp_path / "out" / "traces" / store.files("traces")[0].name
    assert report.records == 2 and [orjson.loads(x)["n"] for x in out.read_bytes().splitlines()] == [1, 2]
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_the_store_follower_opens_sealed_lines(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.append("traces", [_line(1), _line(2)], 2)
    tail = StoreTail(
        tmp_path / "traces", tmp_path / "position.json", None, lambda record, _problems: [record["n"]]
    )
    segment = tail.claim()
    assert segment is not None and segment.lines == [1, 2] and segment.corrupt == 0
    tail.done(segment)


def test_what_waits_for_the_follower_is_counted_on_an_encrypted_store(tmp_path: Path) -> None:
    store = _store(tmp_path)
    span = orjson.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "a", "kind": 1}]}]}]})
    store.append("traces", [span + b"\n", span + b"\n", _line(3)], 3)
    tail = StoreTail(
        tmp_path / "traces", tmp_path / "position.json", None, lambda record, _problems: [record]
    )
    spans, size = tail.pending()
    assert spans == 2 and size == store.files("traces")[0].stat().st_size
    plain = JsonlStore(tmp_path / "plain")
    plain.append("traces", [span + b"\n", span + b"\n"], 2)
    plain_tail = StoreTail(tmp_path / "plain" / "traces", tmp_path / "p.json", None, lambda r, _problems: [r])
    assert plain_tail.pending()[0] == 2


def test_rotate_key_carries_a_followers_position_over_so_nothing_is_read_twice(tmp_path: Path) -> None:
    key = StoreKey(tmp_path / "store", key_file=tmp_path / "store.key")
    store = JsonlStore(tmp_path / "store", sealer=StoreSealer(key))
    store.append("traces", [_line(1), _line(2), _line(3)], 3)
    sealed.use_keys(key.load)
    state = tmp_path / "follower" / "position.json"
    tail = StoreTail(tmp_path / "store" / "traces", state, None, lambda record, _problems: [record["n"]])
    segment = tail.claim()
    assert segment is not None and segment.lines == [1, 2, 3]
    tail.keep(segment, [3])  # 1 and 2 acknowledged, 3 not yet
    rotate_key(store, key, wait_seconds=0, followers={"traces": [state]})
    segment = tail.claim()
    assert segment is not None and segment.lines == [3]  # only what was not acknowledged
    tail.done(segment)
    assert tail.claim() is None


def test_a_line_sealed_with_a_key_just_made_opens_at_once(tmp_path: Path) -> None:
    """After ``store rotate-key`` the writers seal with the new key within seconds; a reader
    that loaded the keys a moment before must load them again for the new key's first line,
    not take it for a line it cannot open (a follower moved past such a line for good)."""
    new_key = bytes(range(1, 33))
    keys = [KEY]
    sealed.use_keys(lambda: list(keys))
    store = _store(tmp_path)
    assert store.append("traces", _line(1), 1)
    path = store.files("traces")[0]
    assert [r["n"] for r in _read(path)[0]] == [1]  # keys loaded now
    keys.insert(0, new_key)  # the rotation: the new key first, the old one still known
    rotated = JsonlStore(tmp_path, sealer=sealed.LineSeal([new_key]))
    assert rotated.append("traces", _line(2), 1)
    records, problems = _read(path)  # well within the reload interval
    assert [r["n"] for r in records] == [1, 2] and problems.unauthentic == 0
    sealed.use_keys(lambda: [bytes(32)])  # a key id no loader knows: tried at once, then throttled
    assert _read(path)[1].unauthentic == 2


def test_rotate_key_reseals_the_conversation_logs_spool_and_carries_its_position(tmp_path: Path) -> None:
    """With the store off the spool is sealed with the store's key: a rotation that left it
    dropped the key its lines needed, and 10 of 12 turns were never sent."""
    from exporters.store.spool import Spool
    from otel_distro.store_admin import spools_of

    key = StoreKey(tmp_path / "store", key_file=tmp_path / "store.key")
    store = JsonlStore(tmp_path / "store", sealer=StoreSealer(key))
    store.append("traces", [_line(0)], 1)  # the key exists
    log_dir = tmp_path / "conversation_log"
    position = log_dir / "spool_position.json"
    spool = Spool(log_dir / "spool", 1 << 30, position, sealer=StoreSealer(key))
    spool.append("traces", [_line(1), _line(2)], 2)
    sealed.use_keys(key.load)  # this process reads with the store's key
    tail = StoreTail(spool.signal_dir("traces"), position, None, lambda data, problems: [data["n"]])
    first = tail.claim()
    assert first is not None
    tail.keep(first, first.lines[1:])  # the first line sent, the second waits
    report = rotate_key(store, key, wait_seconds=0, spools=spools_of(log_dir))
    assert report.files == 2
    raw = spool.segments()[0].read_bytes()
    assert sealed.key_id(key.load()[0]).encode() in raw and b"secret" not in raw
    rest = tail.claim()
    assert rest is not None and rest.lines == [2] and rest.corrupt == 0  # not sent twice, not lost
