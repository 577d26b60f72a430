"""Run results in `results/db.json`, in TinyDB's file format: thread-safe, atomic on disk, and
cheap as history grows.

The file is what TinyDB writes and reads, `{"_default": {"1": {...run...}, "2": ...}}`, so
`TinyDB("results/db.json").all()` (or any JSON reader) sees every run. TinyDB itself is not on
the write path: its Table rebuilds the whole table on every insert or update and its JSON
storage rewrites the whole file, so a save would cost O(runs in history). Here instead:

- each run is held in memory as its JSON text (bytes), with a small index: `unique_id` -> doc
  id, and per doc id its status, start time and summary (SUMMARY_KEYS). A save serializes that
  one document and swaps one dict entry under the lock: O(size of the run), whatever the history.
- a background writer replaces the file atomically (temp file, fsync, `os.replace`, fsync of
  the directory) at most every `flush_delay` seconds while runs change, and on `flush()` and
  `close()`. The snapshot is O(history) (the runs' texts joined, not re-serialized), but it
  runs off the request path, writes in chunks that release the GIL, and holds the lock only
  to copy the dict of texts. As the file grows the writer spaces out its snapshots (at most
  ~20% of its time writing, `max_flush_delay` at most), so a large history costs disk
  bandwidth, not request latency. A process killed mid-write leaves the previous complete file.
- `runs()` filters and orders on the index and parses only the runs it returns; `summaries()`
  lists runs without parsing any (what a list of every run needs).
- Durability: a run is on disk once a `flush()` that started after its save has returned.
  With `flush_on_finish=True`, the save that moves a run to a final status returns only after
  such a flush (saves that finish at the same time share one write), so whoever reported the
  run finished (the webhook's reply that ended it) did so after it was on disk.

Opening reads the file once, document by document (each run's text is kept as it was read, not
parsed and re-serialized); a file that is not valid JSON, or not TinyDB's shape, is moved aside
to `db.corrupt.json` and the store starts afresh.
"""
import atexit
import json
import logging
import math
import os
import re
import tempfile
import threading
import time
import weakref
from heapq import nlargest
from json.decoder import scanstring
from pathlib import Path

log = logging.getLogger(__name__)
TABLE = "_default"
UNFINISHED = ("queued", "in-progress")
# What a list of runs shows (see `summaries()`), kept in memory for every run.
SUMMARY_KEYS = ("unique_id", "status", "startTimestamp", "endTimeStamp", "suite", "file", "target",
                "mode", "callSid", "passedSteps", "totalSteps", "endReason", "ivrOutcome",
                "virtualSeconds", "invocation", "wallSeconds")
MAX_FLUSH_DELAY = 2.0          # seconds: the longest a change waits for the background writer
WRITER_DUTY = 0.2              # the writer spends at most about this share of its time writing
CHUNK_BYTES = 1 << 20          # written with the GIL released between chunks
DURABLE_WAIT_SECONDS = 30      # a flush_on_finish save never blocks longer than this
STALE_TEMP_SECONDS = 60

_WS = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()
_open_stores = weakref.WeakSet()


def _encode(document):
    """A document as compact JSON bytes. NaN and infinities become null: the file stays JSON."""
    try:
        text = json.dumps(document, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(document), ensure_ascii=False, default=str, allow_nan=False)
    return text.encode("utf-8")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def _entry(doc_id, text):
    """A document as it appears in the table, `"12": {...}`, and where its JSON starts."""
    key = json.dumps(doc_id).encode("utf-8") + b": "
    return key + text, len(key)


def _meta(document, offset):
    start = document.get("startTimestamp")
    summary = {key: document[key] for key in SUMMARY_KEYS
               if key in document and isinstance(document[key], (str, int, float, type(None)))}
    return document.get("status"), "" if start is None else str(start), offset, summary


def open_store(path):
    """The store a command runs with: runs a stopped process left open are marked interrupted."""
    from app.engine import iso
    store = ResultStore(path)
    store.interrupt_unfinished(iso(time.time()))
    return store


class ResultStore:
    """All runs, one document each, keyed by `unique_id`."""

    def __init__(self, path="results/db.json", flush_delay=0.2, flush_on_finish=False,
                 max_flush_delay=MAX_FLUSH_DELAY):
        self.path = Path(path)
        self.flush_delay = flush_delay
        self.max_flush_delay = max(flush_delay, max_flush_delay)
        self.flush_on_finish = flush_on_finish
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._write_lock = threading.Lock()
        self._docs = {}            # doc id (str) -> the run's table entry: b'"12": {...}'
        self._meta = {}            # doc id -> (status, startTimestamp, where its JSON starts,
                                   #            the run's summary)
        self._ids = {}             # unique_id -> doc id
        self._other_tables = {}    # any other TinyDB table in the file: name -> raw JSON bytes
        self._next_id = 1
        self._version = 0          # bumped by every change
        self._written = 0          # the version the file on disk holds
        self._waiting = 0          # flush_on_finish saves waiting for the writer
        self._last_write_seconds = 0.0
        self._stopped = False
        self._remove_stale_temp_files()
        self._load()
        self._writer = threading.Thread(target=self._write_loop, name="results-writer", daemon=True)
        self._writer.start()
        _open_stores.add(self)

    # ------------------------------------------------------------------ the public interface

    def save(self, document):
        """Insert or replace the run with this `unique_id`."""
        run_id = document["unique_id"]
        text = _encode(document)
        with self._lock:
            doc_id = self._ids.get(run_id)
            if doc_id is None:
                doc_id = self._ids[run_id] = str(self._next_id)
                self._next_id += 1
            before = self._meta[doc_id][0] if doc_id in self._meta else None
            self._docs[doc_id], offset = _entry(doc_id, text)
            self._meta[doc_id] = meta = _meta(document, offset)
            self._version += 1
            version = self._version
            if version == self._written + 1:    # the writer may be idle: wake it
                self._changed.notify_all()
        if self._stopped:                       # a late save (a request still in flight at
            try:                                # shutdown) has no writer left: write it now
                self.flush()
            except OSError:
                log.exception("could not write %s", self.path)
        elif self.flush_on_finish and meta[0] not in UNFINISHED and meta[0] != before:
            self._wait_written(version)

    def get(self, run_id):
        with self._lock:
            doc_id = self._ids.get(run_id)
            if doc_id is None:
                return None
            entry, offset = self._docs[doc_id], self._meta[doc_id][2]
        return json.loads(entry[offset:])

    def runs(self, last=None, status=None):
        """Runs newest first (by start time), optionally only those with `status`."""
        with self._lock:
            meta, docs = self._meta.copy(), self._docs.copy()
        return [json.loads(docs[doc_id][meta[doc_id][2]:]) for doc_id in _newest(meta, last, status)]

    def summaries(self, last=None, status=None):
        """Like `runs()`, but each run as only its SUMMARY_KEYS (the ones it has), from memory:
        no document is read, so listing every run stays cheap however long the history."""
        with self._lock:
            meta = self._meta.copy()
        return [dict(meta[doc_id][3]) for doc_id in _newest(meta, last, status)]

    def interrupt_unfinished(self, now_iso):
        """Mark runs a previous process left in progress as `interrupted`, with the time."""
        with self._lock:
            stale = [doc_id for doc_id, meta in self._meta.items() if meta[0] in UNFINISHED]
            for doc_id in stale:
                doc = json.loads(self._docs[doc_id][self._meta[doc_id][2]:])
                doc.update(status="interrupted", endTimeStamp=now_iso,
                           endReason="server stopped during the run")
                self._docs[doc_id], offset = _entry(doc_id, _encode(doc))
                self._meta[doc_id] = _meta(doc, offset)
            if stale:
                self._version += 1
        if stale:
            self.flush()
        return len(stale)

    def flush(self):
        """Write the current state to disk now (nothing to do when the file already holds it).
        When this returns, every save made before it was called is on disk."""
        with self._write_lock:
            with self._lock:
                version = self._version
                if version == self._written:
                    return
                entries, others = list(self._docs.values()), self._other_tables.copy()
            started = time.perf_counter()
            self._replace_file(entries, others)
            with self._lock:
                self._written = max(self._written, version)
                self._last_write_seconds = time.perf_counter() - started
                self._changed.notify_all()

    def close(self):
        """Stop the background writer and write what it has not written yet."""
        if not self._stopped:
            with self._lock:
                self._stopped = True
                self._changed.notify_all()
            self._writer.join(timeout=10)
            _open_stores.discard(self)
        self.flush()

    # ------------------------------------------------------------------ the file

    def _load(self):
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return
        try:
            text = text.decode("utf-8")        # the bytes are let go: a big file is held once
            if text.strip():
                self._index(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            self._docs, self._meta, self._ids, self._other_tables = {}, {}, {}, {}
            self._next_id = 1
            backup = self.path.with_suffix(".corrupt.json")
            os.replace(self.path, backup)
            log.error("%s is not a valid results file (%s); moved it to %s and started afresh",
                      self.path, exc, backup)

    def _index(self, text):
        """Read a TinyDB file one document at a time, keeping each document's text."""
        position = _expect(text, 0, "{")
        while True:
            position = _WS.match(text, position).end()
            if text.startswith("}", position):
                break
            name, position = _string(text, position)
            position = _expect(text, position, ":")
            position = _WS.match(text, position).end()
            if name == TABLE:
                position = self._index_table(text, position)
            else:
                value, end = _decoder.raw_decode(text, position)
                self._other_tables[name] = text[position:end].encode("utf-8")
                position = end
            position = _WS.match(text, position).end()
            if text.startswith(",", position):
                position += 1
            elif not text.startswith("}", position):
                raise ValueError(f"expected ',' or '}}' at character {position}")
        if text[position + 1:].strip():
            raise ValueError(f"extra data after character {position}")
        ids = [int(doc_id) for doc_id in self._docs if doc_id.isdigit()]
        self._next_id = max(ids, default=0) + 1

    def _index_table(self, text, position):
        position = _expect(text, position, "{")
        while True:
            position = _WS.match(text, position).end()
            if text.startswith("}", position):
                return position + 1
            doc_id, position = _string(text, position)
            position = _expect(text, position, ":")
            position = _WS.match(text, position).end()
            document, end = _decoder.raw_decode(text, position)
            if not isinstance(document, dict):
                raise ValueError(f"document {doc_id} is not an object")
            self._docs[doc_id], offset = _entry(doc_id, text[position:end].encode("utf-8"))
            self._meta[doc_id] = _meta(document, offset)
            if isinstance(document.get("unique_id"), (str, int)):
                self._ids[document["unique_id"]] = doc_id
            position = _WS.match(text, end).end()
            if text.startswith(",", position):
                position += 1
            elif not text.startswith("}", position):
                raise ValueError(f"expected ',' or '}}' at character {position}")

    def _replace_file(self, entries, others):
        """Write the snapshot to a temp file beside db.json, fsync it, and swap it in.

        The entries are joined a chunk at a time and each chunk written with the GIL released,
        so request threads never wait long behind a large snapshot."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}-", suffix=".tmp", dir=self.path.parent)
        try:
            _write_all(fd, b'{"' + TABLE.encode() + b'": {')
            average = sum(map(len, entries)) // len(entries) if entries else 1
            step = max(1, CHUNK_BYTES // max(1, average))
            for start in range(0, len(entries), step):
                if start:
                    _write_all(fd, b", ")
                _write_all(fd, b", ".join(entries[start:start + step]))
            tail = [b"}"]
            for name, text in others.items():
                tail += (b", ", json.dumps(name).encode("utf-8"), b": ", text)
            tail.append(b"}")
            _write_all(fd, b"".join(tail))
            os.fsync(fd)
            os.close(fd)
            fd = None
            os.replace(tmp, self.path)
            _fsync_directory(self.path.parent)
        except BaseException:
            if fd is not None:
                os.close(fd)
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def _remove_stale_temp_files(self):
        """Temp files a killed process left beside db.json (a live writer's are younger)."""
        try:
            leftovers = list(self.path.parent.glob(f".{self.path.name}-*.tmp"))
        except OSError:
            return
        for leftover in leftovers:
            try:
                if time.time() - leftover.stat().st_mtime > STALE_TEMP_SECONDS:
                    leftover.unlink()
            except OSError:
                pass

    # ------------------------------------------------------------------ the background writer

    def _write_loop(self):
        while True:
            with self._lock:
                while self._version == self._written and not self._stopped:
                    self._changed.wait()
                if self._stopped:
                    return
                # Coalesce: wait a while for more changes, less when a save waits for the disk.
                delay = min(max(self.flush_delay, self._last_write_seconds / WRITER_DUTY),
                            self.max_flush_delay)
                deadline = time.monotonic() + delay
                while not self._stopped and not self._waiting:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._changed.wait(left)
                if self._stopped:
                    return
            try:
                self.flush()
            except OSError:
                log.exception("could not write %s; will retry", self.path)
                time.sleep(min(1.0, self.max_flush_delay))

    def _wait_written(self, version):
        deadline = time.monotonic() + DURABLE_WAIT_SECONDS
        with self._lock:
            self._waiting += 1
            self._changed.notify_all()
            try:
                while self._written < version:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._stopped:
                        break
                    self._changed.wait(left)
            finally:
                self._waiting -= 1
        if self._written < version:
            if self._stopped:
                self.flush()
            else:
                log.error("a finished run is not on disk after %s s", DURABLE_WAIT_SECONDS)


def _newest(meta, last, status):
    """Doc ids newest first by start time (ties in the order stored), optionally one status."""
    chosen = ((item[1], doc_id) for doc_id, item in meta.items() if status is None or item[0] == status)
    order = lambda pair: pair[0]                              # noqa: E731
    chosen = nlargest(last, chosen, key=order) if last else sorted(chosen, key=order, reverse=True)
    return [doc_id for _, doc_id in chosen]


def _expect(text, position, char):
    position = _WS.match(text, position).end()
    if not text.startswith(char, position):
        raise ValueError(f"expected {char!r} at character {position}")
    return position + 1


def _string(text, position):
    if not text.startswith('"', position):
        raise ValueError(f"expected a key at character {position}")
    return scanstring(text, position + 1)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); harmless to skip where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@atexit.register
def _close_open_stores():
    for store in list(_open_stores):
        try:
            store.close()
        except Exception:                                       # noqa: BLE001 - exiting anyway
            log.exception("could not write %s at exit", store.path)
