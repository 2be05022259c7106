"""The payload-store port's local-directory store: streamed, encrypted at rest, verified before release."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
import textwrap
import threading
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from as4.parts import Part
from as4.payload_store import (
    PAYLOAD_CORRUPT,
    PAYLOAD_ID_INVALID,
    PAYLOAD_NOT_FOUND,
    LocalDirectoryStore,
    PayloadStore,
    PayloadStoreError,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
MARKER = b"PLAINTEXT-MARKER-do-not-store-me-in-clear"
T0 = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path / "payloads", KEY, clock=clock)


def generated(total: int, seen: hashlib._Hash | None = None) -> Iterator[bytes]:
    """``total`` pseudo-random bytes in odd-sized chunks, never all in memory; hashes what it yields."""
    block = hashlib.shake_256(b"payload-store").digest(1024 * 1024 + 7)
    sizes = (1, 4093, 65537, 200_003, 7, 131_071)
    sent = turn = offset = 0
    while sent < total:
        size = min(sizes[turn % len(sizes)], total - sent, len(block) - offset)
        chunk = block[offset:offset + size]
        if seen is not None:
            seen.update(chunk)
        yield chunk
        sent += size
        turn += 1
        offset = (offset + size) % len(block)


def streamed_part(total: int, seen: hashlib._Hash | None = None) -> Part:
    return Part("big@test", "application/octet-stream", lambda: generated(total, seen))


def files(store: LocalDirectoryStore, pattern: str = "*.bin") -> list[Path]:
    return sorted(store.directory.glob(f"*/*/*/{pattern}"))


def corrupt_error(store: LocalDirectoryStore, payload_id: str) -> PayloadStoreError:
    with pytest.raises(PayloadStoreError) as caught:
        store.open(payload_id)
    assert caught.value.code == PAYLOAD_CORRUPT
    return caught.value


def test_local_store_satisfies_the_port(store: LocalDirectoryStore) -> None:
    assert isinstance(store, PayloadStore)
    assert "KEY" not in repr(store) and KEY.hex() not in repr(store)


@pytest.mark.parametrize("size", [0, 1, 1_000_000], ids=["0B", "1B", "1MB"])
def test_round_trip(store: LocalDirectoryStore, clock: Clock, size: int) -> None:
    data = os.urandom(size)
    part = Part.from_bytes("doc@test", "application/xml", data, MimeType="application/xml")
    record = store.put("msg-1@node", part)
    assert (record.message_id, record.content_id, record.content_type) == ("msg-1@node", "doc@test", "application/xml")
    assert record.size == size and record.sha256 == hashlib.sha256(data).hexdigest()
    assert record.stored_at == T0
    assert files(store) == [store.directory / "2025" / "03" / "14" / f"{record.payload_id}.bin"]
    opened = store.open(record.payload_id)
    assert (opened.content_id, opened.content_type) == ("doc@test", "application/xml")
    assert opened.headers["MimeType"] == "application/xml"
    assert opened.read_all() == data
    assert opened.read_all() == data  # chunks() can be read again (sign, then send)


@pytest.mark.slow
def test_one_gigabyte_round_trip_in_flat_memory(store: LocalDirectoryStore) -> None:
    total = 1024 * 1024 * 1024
    sent = hashlib.sha256()
    received = hashlib.sha256()
    tracemalloc.start()
    try:
        record = store.put("msg-big@node", streamed_part(total, sent))
        count = 0
        for chunk in store.open(record.payload_id).chunks():
            received.update(chunk)
            count += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
    assert record.size == count == total
    assert record.sha256 == sent.hexdigest() == received.hexdigest()


def test_file_on_disk_is_encrypted_and_private(store: LocalDirectoryStore) -> None:
    record = store.put("msg-1@node", Part.from_bytes("secret-name.pdf@test", "application/pdf", MARKER * 1000))
    (path,) = files(store)
    raw = path.read_bytes()
    assert MARKER not in raw and MARKER[:16] not in raw
    assert b"secret-name.pdf" not in raw and b"msg-1@node" not in raw  # metadata is encrypted too
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for directory in (store.directory, path.parent, path.parent.parent, path.parent.parent.parent):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert store.open(record.payload_id).read_all() == MARKER * 1000


def test_fresh_iv_and_key_per_payload(store: LocalDirectoryStore) -> None:
    data = b"same content" * 100
    first = store.put("m@node", Part.from_bytes("a@test", "text/plain", data))
    second = store.put("m@node", Part.from_bytes("a@test", "text/plain", data))
    assert first.payload_id != second.payload_id
    one, two = (path.read_bytes() for path in files(store))
    assert one[8:20] != two[8:20]  # the IVs
    assert one[20:120] != two[20:120]


def test_every_single_byte_flip_is_caught_and_nothing_released(store: LocalDirectoryStore) -> None:
    record = store.put("msg-1@node", Part.from_bytes("doc@test", "text/plain", MARKER))
    (path,) = files(store)
    original = path.read_bytes()
    for position in range(len(original)):
        tampered = bytearray(original)
        tampered[position] ^= 0x01
        path.write_bytes(bytes(tampered))
        corrupt_error(store, record.payload_id)
    assert not any((store.directory / ".spool").iterdir())  # no plaintext left spooled
    path.write_bytes(original)
    assert store.open(record.payload_id).read_all() == MARKER


def test_tampering_a_large_payload_is_caught(store: LocalDirectoryStore) -> None:
    record = store.put("msg-1@node", streamed_part(3_000_000))
    (path,) = files(store)
    with path.open("r+b") as handle:
        handle.seek(2_000_000)
        byte = handle.read(1)
        handle.seek(2_000_000)
        handle.write(bytes([byte[0] ^ 0x80]))
    corrupt_error(store, record.payload_id)


@pytest.mark.parametrize("cut", [1, 16, 1000])
def test_truncated_file_is_corrupt(store: LocalDirectoryStore, cut: int) -> None:
    record = store.put("msg-1@node", Part.from_bytes("doc@test", "text/plain", os.urandom(5000)))
    (path,) = files(store)
    path.write_bytes(path.read_bytes()[:-cut])
    corrupt_error(store, record.payload_id)


def test_wrong_key_is_corrupt(tmp_path: Path, store: LocalDirectoryStore) -> None:
    record = store.put("msg-1@node", Part.from_bytes("doc@test", "text/plain", MARKER))
    other = LocalDirectoryStore(store.directory, OTHER_KEY)
    corrupt_error(other, record.payload_id)
    assert other.list_for("msg-1@node") == []


def test_a_payload_moved_under_another_id_is_corrupt(store: LocalDirectoryStore) -> None:
    first = store.put("msg-1@node", Part.from_bytes("a@test", "text/plain", b"first"))
    second = store.put("msg-2@node", Part.from_bytes("b@test", "text/plain", b"second"))
    first_path, second_path = (store.directory / "2025/03/14" / f"{r.payload_id}.bin" for r in (first, second))
    os.replace(first_path, second_path)
    corrupt_error(store, second.payload_id)


def test_key_must_be_32_bytes(tmp_path: Path) -> None:
    for bad in (b"", b"k" * 16, b"k" * 33):
        with pytest.raises(ValueError):
            LocalDirectoryStore(tmp_path, bad)


@pytest.mark.parametrize("bad", ["../../etc/passwd", "20250314-XYZ", "20250314-" + "0" * 31, "", "x" * 41])
def test_invalid_ids_never_touch_the_file_system(store: LocalDirectoryStore, bad: str) -> None:
    for action in (store.open, store.delete):
        with pytest.raises(PayloadStoreError) as caught:
            action(bad)
        assert caught.value.code == PAYLOAD_ID_INVALID


def test_delete(store: LocalDirectoryStore) -> None:
    record = store.put("msg-1@node", Part.from_bytes("doc@test", "text/plain", b"x"))
    store.delete(record.payload_id)
    assert files(store) == []
    with pytest.raises(PayloadStoreError) as caught:
        store.open(record.payload_id)
    assert caught.value.code == PAYLOAD_NOT_FOUND
    store.delete(record.payload_id)  # idempotent: a retried delete after acknowledgement is fine
    assert store.list_for("msg-1@node") == []


def test_list_for(store: LocalDirectoryStore, clock: Clock) -> None:
    first = store.put("msg-1@node", Part.from_bytes("a@test", "text/plain", b"a"))
    clock.now = T0 + timedelta(days=1)
    store.put("msg-2@node", Part.from_bytes("b@test", "text/plain", b"b"))
    second = store.put("msg-1@node", Part.from_bytes("c@test", "application/json", b"{}"))
    assert store.list_for("msg-1@node") == [first, second]
    assert [r.content_id for r in store.list_for("msg-2@node")] == ["b@test"]
    assert store.list_for("msg-3@node") == []


def test_a_corrupt_file_is_skipped_by_listing_and_kept_by_purge(store: LocalDirectoryStore, clock: Clock) -> None:
    good = store.put("msg-1@node", Part.from_bytes("a@test", "text/plain", b"a"))
    bad = store.put("msg-1@node", Part.from_bytes("b@test", "text/plain", b"b"))
    bad_path = store.directory / "2025/03/14" / f"{bad.payload_id}.bin"
    bad_path.write_bytes(bad_path.read_bytes()[:-1] + b"!")
    assert store.list_for("msg-1@node") == [good]
    assert store.purge(T0 + timedelta(days=1)) == 1
    assert bad_path.exists()


def test_purge_by_age(store: LocalDirectoryStore, clock: Clock) -> None:
    ids = []
    for day in range(5):
        clock.now = T0 + timedelta(days=day)
        ids.append(store.put(f"msg-{day}@node", Part.from_bytes("a@test", "text/plain", b"x")).payload_id)
    assert store.purge(T0 + timedelta(days=2)) == 2  # days 0 and 1
    assert [store.list_for(f"msg-{day}@node") != [] for day in range(5)] == [False, False, True, True, True]
    assert store.purge(T0 + timedelta(days=2)) == 0
    assert store.purge(T0 + timedelta(days=4, seconds=1)) == 3
    assert files(store) == []
    with pytest.raises(ValueError):
        store.purge(datetime(2030, 1, 1))  # naive times are refused, not guessed


def test_a_failing_source_leaves_nothing(store: LocalDirectoryStore) -> None:
    def broken() -> Iterator[bytes]:
        yield MARKER * 10_000
        raise OSError("backend connection reset")

    with pytest.raises(OSError):
        store.put("msg-1@node", Part("doc@test", "text/plain", broken))
    assert files(store, "*") == [] and files(store, ".*") == []


def test_a_crash_mid_put_leaves_no_payload_and_purge_removes_the_temporary(store: LocalDirectoryStore) -> None:
    script = textwrap.dedent(
        f"""
        import datetime
        import os
        from as4.parts import Part
        from as4.payload_store import LocalDirectoryStore

        def dying():
            yield b"x" * 100_000
            os._exit(17)  # the process dies mid-stream: no finally, no cleanup

        store = LocalDirectoryStore({str(store.directory)!r}, bytes(range(32)), clock=lambda: {T0!r})
        store.put("msg-crash@node", Part("doc@test", "text/plain", dying))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == 17, result.stderr.decode()
    (temporary,) = files(store, ".*.tmp")
    assert files(store) == []
    assert store.list_for("msg-crash@node") == []
    assert store.purge(datetime.now(UTC) - timedelta(hours=1)) == 0
    assert temporary.exists()  # recent: could be a put still in progress in another process
    old = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(temporary, (old, old))
    assert store.purge(datetime.now(UTC) - timedelta(days=1)) == 0
    assert not temporary.exists()


def test_concurrent_puts_do_not_collide(store: LocalDirectoryStore) -> None:
    start = threading.Barrier(8)

    def put_many(worker: int) -> list[tuple[str, bytes]]:
        start.wait()
        out = []
        for index in range(10):
            data = f"worker {worker} item {index} ".encode() * (index * 997 + 1)
            record = store.put(f"msg-{worker}@node", Part.from_bytes(f"{index}@test", "text/plain", data))
            out.append((record.payload_id, data))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [item for batch in pool.map(put_many, range(8)) for item in batch]
    assert len({payload_id for payload_id, _ in results}) == 80
    assert len(files(store)) == 80 and files(store, ".*.tmp") == []
    for payload_id, data in results:
        assert store.open(payload_id).read_all() == data
    assert all(len(store.list_for(f"msg-{worker}@node")) == 10 for worker in range(8))
