"""Run results: this process's runs, its journal, and the shared results file they end up in.

Many processes (`run`, `serve`, the pytest plugin) may share one `results/db.json`. Each keeps:

- its own runs in memory (the run's JSON text and summary) until they are final and appended to
  the shared file: `save()` costs O(size of the run), whatever the history. A run appended final
  leaves memory; only where its JSON is in db.json stays (`_filed`: offset and length in one
  int, about 50 bytes a run), so a command's memory does not grow with its number of runs and
  reading one back is one `read`;
- its own journal, `db.json.journal/<pid>-<token>.jsonl`, one line per save, held under an
  exclusive `flock` for the life of the process. Every save is written there before `save()`
  returns (so it survives a SIGKILL); a save that moves a run to a final status is also fsync'd
  first (so it survives a power cut): whoever prints or answers a run's verdict after `save()`
  does so with the run on disk. Saves that finish at the same time share one fsync, and a
  caller that finishes many runs (offline runs) may save them with `durable=False` and call
  `make_durable()` once before reporting them (group commit).
- a background writer that appends its finished runs to the shared file (app/results_file.py,
  under the file's lock) once they have been quiet for `flush_delay` seconds; `flush()` appends
  every changed run now, `close()` marks the runs still open `interrupted` and appends them.

A process marks only its own runs interrupted. The runs of a process that died (its journal's
lock is free) are taken over by the next process that appends: its open runs are marked
`interrupted`, the finished ones not yet in the file are appended, and its journal is removed.
Each append first writes an "intent" line (doc ids and where in the index they go) to the
journal it comes from, so a takeover can tell whether a killed process's last append committed.

Reading (`runs()`, `summaries()`, `get()`) merges this process's runs still in memory with the
file's index read from its tail (where its appended runs are, like every other process's): the
latest runs cost the same with 50,000 earlier runs as with 10.
"""
import atexit
import fcntl
import json
import logging
import math
import os
import secrets
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

import orjson

from app.errors import StorageError
from app.results_file import ResultsFile, fsync_directory, storage_error, summary_of

log = logging.getLogger(__name__)
UNFINISHED = ("queued", "in-progress")
INTERRUPTED_REASON = "server stopped during the run"
STALE_TEMP_SECONDS = 60
RETRY_SECONDS = 1.0
JOURNAL_ROTATE_BYTES = 64 * 1024 * 1024   # a long-running serve starts a fresh journal past this
PLACE_BITS = 40                           # a run's place in db.json: offset << 40 | length
PLACE_MASK = (1 << PLACE_BITS) - 1
_open_stores = weakref.WeakSet()


# What json.dumps(..., ensure_ascii=False, default=str, allow_nan=False) builds on every call,
# built once: the fallback for what orjson refuses (below).
_TO_JSON = json.JSONEncoder(ensure_ascii=False, default=str, allow_nan=False).encode
# orjson hands dataclasses and datetimes to `default` (str), as json does; NaN and infinities it
# writes as null, as _finite does.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME


def _encode(document):
    """A document as compact JSON bytes. NaN and infinities become null: the file stays JSON.

    orjson writes it about ten times faster than json (a tenth of an offline call's CPU went
    here), without spaces after `,` and `:`: every JSON reader reads the same values. What
    orjson refuses (keys that are not strings, integers past 64 bits, nesting past 254 levels)
    is written by json, as before."""
    try:
        return orjson.dumps(document, default=str, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:
        return _json_encode(document)


def _json_encode(document):
    """The document as json writes it (", " and ": "), NaN and infinities as null."""
    try:
        text = _TO_JSON(document)
    except ValueError:
        text = _TO_JSON(_finite(document))
    return text.encode("utf-8")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def now_iso():
    from app.engine import iso
    return iso(time.time())


def open_store(path):
    """The store a command runs with: the runs of processes that died are closed first."""
    store = ResultStore(path)
    store.interrupt_unfinished(now_iso())
    return store


class _Run:
    """One of this process's runs: its latest text, and what of it is on disk where."""
    __slots__ = ("text", "summary", "version", "durable", "doc_id", "stored", "changed_at")

    def __init__(self):
        self.version = self.durable = self.stored = 0
        self.doc_id, self.changed_at = None, 0.0


class Journal:
    """This process's append-only journal, locked for as long as the process lives."""

    def __init__(self, directory):
        self.path = Path(directory) / f"{os.getpid()}-{secrets.token_hex(4)}.jsonl"
        try:
            Path(directory).mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except OSError as exc:
            raise storage_error(self.path, exc, "create") from None
        fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self.written = self.synced = 0      # line numbers
        self.size = 0                       # bytes
        # A first line, fsync'd: a full disk or a read-only folder shows now, not after the calls.
        self.write({"open": {"pid": os.getpid(), "at": now_iso()}}, sync=True)
        fsync_directory(self.path.parent)

    def write(self, entry, sync=False):
        """Append one line; returns its line number."""
        return self._append(lambda number: json.dumps(entry, ensure_ascii=False).encode() + b"\n",
                            sync)

    def write_run(self, text):
        """Append a version of a run (its JSON text); the line number is its version."""
        return self._append(lambda number: b'{"v":%d,"run":%s}\n' % (number, text), False)

    def _append(self, make_line, sync):
        with self._lock:
            line = make_line(self.written + 1)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(self.fd, view):]
            except OSError as exc:
                raise storage_error(self.path, exc) from None
            self.written += 1
            self.size += len(line)
            number = self.written
        if sync:
            self.sync(number)
        return number

    def sync(self, number):
        """fsync, unless a fsync that started after line `number` was written already did."""
        with self._sync_lock:
            if self.synced >= number:
                return
            target = self.written
            try:
                os.fsync(self.fd)
            except OSError as exc:
                raise storage_error(self.path, exc) from None
            self.synced = target

    def remove(self):
        try:
            os.unlink(self.path)
        except OSError:
            pass


def read_journal(fd):
    """Every whole line of a journal (a line cut short by a kill is left out)."""
    chunks = []
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        chunks.append(chunk)
    entries = []
    for line in b"".join(chunks).split(b"\n"):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


class ResultStore:
    """Runs keyed by `unique_id`: this process's in memory and in its journal, all in the file."""

    def __init__(self, path="results/db.json", flush_delay=0.2, flush_on_finish=False,
                 readonly=False):
        self.path = Path(path)
        self.file = ResultsFile(self.path)
        self.flush_delay = flush_delay
        # Final saves are always durable (fsync'd journal line) before `save()` returns; the flag
        # is kept for callers written for the earlier store.
        self.flush_on_finish = flush_on_finish
        self.failure = None                 # the last StorageError, until a write succeeds
        self.interrupted = 0                # runs of dead processes this store closed
        self.stored_elsewhere = 0           # this command's runs its worker processes stored
        self._runs = {}                     # unique_id -> _Run: not final, or not in the file yet
        self._filed = {}                    # unique_id -> offset << PLACE_BITS | length, the others
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._merge_lock = threading.Lock()
        self._dirty = False
        self._stopped = False
        self._paused = False                # the writer is stopped for a while (writer_paused)
        self._refuse_late = False
        self._not_durable = []              # (run, version) of final saves not fsync'd yet
        self._remove_stale_temp_files()
        try:
            with self.file.locked():        # checks, repairs or indexes the file once, now
                pass
        except StorageError:
            if not readonly or self.file.read_state() is None:
                raise                       # a reader of a read-only folder reads without it
        self.journal = None if readonly else Journal(self.file.journal_dir)
        self._writer = None
        if not readonly:
            self._start_writer()
        _open_stores.add(self)

    def _start_writer(self):
        self._writer = threading.Thread(target=self._write_loop, name="results-writer", daemon=True)
        self._writer.start()

    @contextmanager
    def writer_paused(self):
        """No thread of this store runs inside the block, and no append is under way: for
        forking worker processes, which must not inherit a lock (or the results file's lock
        fd) that another thread holds. The writer starts again after it."""
        if self._writer is None:
            yield
            return
        with self._lock:
            self._paused = True
            self._changed.notify_all()
        self._writer.join()                 # it finishes an append under way, then stops
        try:
            with self._merge_lock:          # so does an append from any other thread
                yield
        finally:
            with self._lock:
                self._paused = False
                stopped = self._stopped
            if not stopped:
                self._start_writer()

    # ------------------------------------------------------------------ writing

    def save(self, document, _late_flush=True, durable=True):
        """Insert or replace the run with this `unique_id`. Returns once the save is in the
        journal, fsync'd when the run reaches a final status. Raises StorageError if it cannot
        be written (the run stays in memory; `failure` says why).

        `durable=False` skips that fsync (group commit): the caller must call `make_durable()`
        before it reports the run finished. Offline runs end hundreds of times per second; one
        fsync for a batch of them costs what one costs for each."""
        run_id = document["unique_id"]
        text, summary = _encode(document), summary_of(document)
        status = document.get("status")
        with self._lock:
            if self._refuse_late and _late_flush:
                raise StorageError(f"cannot write {self.path}: this process is stopping")
            run = self._runs.get(run_id)
            before = None if run is None else run.summary.get("status")
            if run is None:
                # Filled in before it is registered: a signal handler that closes the store
                # mid-save must never meet a run without its text and summary.
                run = _Run()
                run.text, run.summary, run.changed_at = text, summary, time.monotonic()
                if self._filed.pop(run_id, None) is not None:   # saved again after it left
                    record = self.file.find(run_id)                # memory: the same doc id
                    run.doc_id = record["id"] if record else None
                    if run.doc_id:
                        self._journal_ids({run_id: run.doc_id})
                self._runs[run_id] = run
            else:
                run.text, run.summary, run.changed_at = text, summary, time.monotonic()
            final = status not in UNFINISHED
            if self.journal is not None:
                try:
                    run.version = self.journal.write_run(text)
                except StorageError as exc:
                    self._fail(exc)
                    raise
                self.failure = None
            else:
                run.version += 1
            version = run.version
            if final:
                self._dirty = True
                self._changed.notify_all()
        if self.journal is not None and final and status != before and not durable:
            with self._lock:
                self._not_durable.append((run, version))
        elif self.journal is not None and final and status != before:
            try:
                self.journal.sync(version)
            except StorageError as exc:
                self._fail(exc)
                raise
            with self._lock:
                run.durable = max(run.durable, version)
        if (self._stopped and _late_flush) or self.journal is None:
            self.flush()                    # a late save (a request in flight at shutdown)

    def _journal_ids(self, ids):
        """Note doc ids in the journal, so a takeover appends these runs under the same ids."""
        if self.journal is None:
            return
        try:
            self.journal.write({"ids": ids})
        except StorageError as exc:
            self._fail(exc)
            raise

    def make_durable(self):
        """fsync the journal once for every final save made with `durable=False` so far: after
        this returns, those runs may be reported finished."""
        with self._lock:
            pending, self._not_durable = self._not_durable, []
        if not pending or self.journal is None:
            return
        try:
            self.journal.sync(max(version for _run, version in pending))
        except StorageError as exc:
            with self._lock:
                self._not_durable[:0] = pending     # still owed: the next call tries again
            self._fail(exc)
            raise
        with self._lock:
            for run, version in pending:
                run.durable = max(run.durable, version)

    def flush(self):
        """Append every run changed since its last append to the shared file now."""
        self._merge(lambda run: True)

    def interrupt_unfinished(self, now=None):
        """Close the runs of processes that died (their journals' locks are free): open ones
        are marked interrupted. Returns how many were marked."""
        before = self.interrupted
        self._merge(lambda run: False, now or now_iso())
        return self.interrupted - before

    def close(self, late_saves=True):
        """Stop the writer, mark this process's open runs interrupted and append everything.
        A storage failure is kept in `failure` (not raised): the journal stays for the next
        process to take over. A save after this is written at once (a request in flight at
        shutdown), or with `late_saves=False` refused (StorageError): for a process that stops
        while another of its threads still plays calls, so that no run it starts stays open."""
        if self.journal is None and not self._runs:            # a reader: nothing to write
            self._stopped = True
            _open_stores.discard(self)
            return
        if not self._stopped:
            with self._lock:
                self._stopped, self._refuse_late = True, not late_saves
                self._changed.notify_all()
            if self._writer is not None:
                self._writer.join(timeout=10)
            _open_stores.discard(self)
            try:
                self._interrupt_own()
                self.flush()
            except StorageError as exc:
                self._fail(exc)
                return
            if self.journal is not None:
                self.journal.remove()
            return
        try:
            self.flush()
        except StorageError as exc:
            self._fail(exc)

    def _interrupt_own(self):
        now = now_iso()
        with self._lock:
            open_runs = [json.loads(run.text) for run in self._runs.values()
                         if run.summary.get("status") in UNFINISHED]
        for doc in open_runs:
            doc.update(status="interrupted", endTimeStamp=now,
                       endReason="stopped before the run finished")
            self.save(doc, _late_flush=False)       # one flush for them all, next

    # ------------------------------------------------------------------ what a command reports

    def counts(self):
        """(runs of this command on disk, runs of this command): what a command says it kept.
        Its workers' runs count once they came back (stored durably, app/parallel.py)."""
        with self._lock:
            kept = sum(1 for run in self._runs.values()
                       if run.stored >= run.version or run.durable >= run.version)
            done = len(self._filed) + self.stored_elsewhere
            return kept + done, len(self._runs) + done

    def health(self):
        """None when the last write succeeded, else the StorageError's message."""
        return str(self.failure) if self.failure else None

    def _fail(self, exc):
        self.failure = exc
        log.error("%s", exc)

    # ------------------------------------------------------------------ reading

    def get(self, run_id):
        return self.documents([run_id])[0]

    def documents(self, run_ids):
        """The documents of `run_ids`, in that order (None for one not stored): this process's
        from memory or from where it appended them, any other's (a worker's) found in one scan
        of the index from its tail."""
        found = {}
        for run_id in run_ids:
            with self._lock:
                run, filed = self._runs.get(run_id), self._filed.get(run_id)
            if run is not None:
                found[run_id] = json.loads(run.text)
            elif filed is not None:
                found[run_id] = self._read_filed(run_id, filed)
        found.update(self._from_index([run_id for run_id in run_ids if found.get(run_id) is None]))
        return [found.get(run_id) for run_id in run_ids]

    def _from_index(self, run_ids):
        """{run id: document} of those of `run_ids` the file's index knows. An index that no
        longer matches db.json (someone rewrote it) is rebuilt under the lock, then read again."""
        if not run_ids:
            return {}
        if len(run_ids) == 1:
            record = self.file.find(run_ids[0])
            records = {run_ids[0]: record} if record else {}
        else:
            records = self.file.find_many(run_ids)
        found = {}
        for run_id, record in records.items():
            document = self._read_record(run_id, record)
            if document is None:
                return self._reindexed(run_ids)
            found[run_id] = document
        return found

    def _reindexed(self, run_ids):
        try:
            with self.file.locked():        # notices the rewrite and indexes db.json again
                pass
        except StorageError:
            return {}
        records = self.file.find_many(run_ids)
        return {run_id: document for run_id, record in records.items()
                if (document := self._read_record(run_id, record))}

    def _read_filed(self, run_id, filed):
        """A run this process appended, read where it put it; None if db.json has changed under
        it (someone rewrote the file: then the index says where it is now)."""
        return _checked(run_id, lambda: self.file.read_at(filed >> PLACE_BITS, filed & PLACE_MASK))

    def _read_record(self, run_id, record):
        """The run an index record points at; None if the index no longer matches db.json."""
        return _checked(run_id, lambda: self.file.read(record))

    def runs(self, last=None, status=None):
        """Runs newest first (by start time), optionally only those with `status`."""
        return [self._document(item) for item in self._latest(last, status)]

    def summaries(self, last=None, status=None, offset=0, match=None):
        """Like `runs()`, each run as its SUMMARY_KEYS only, read from the index (no document
        is parsed); `offset` skips the newest ones, `match(summary)` filters."""
        items = self._latest(None if last is None else offset + last, status, match)
        return [dict(summary) for summary, _ in items[offset:]]

    def total(self):
        """How many runs the file and this process hold (from the state: no reading)."""
        state = self.file.read_state() or {"next_id": 1}
        with self._lock:
            return state["next_id"] - 1 + sum(1 for run in self._runs.values() if run.doc_id is None)

    def _latest(self, last, status=None, match=None):
        def wanted(summary):
            return (status is None or summary.get("status") == status) and (match is None or match(summary))
        with self._lock:
            own = [(run.summary, run) for run in self._runs.values() if wanted(run.summary)]
            own_ids = set(self._runs)
        records = self.file.latest(last, status, own_ids, match)
        items = [(record["s"], record) for record in reversed(records)] + own
        items.sort(key=lambda item: str(item[0].get("startTimestamp") or ""), reverse=True)
        return items if last is None else items[:last]

    def _document(self, item):
        summary, source = item
        if isinstance(source, _Run):
            return json.loads(source.text)
        return self.file.read(source)

    # ------------------------------------------------------------------ appending to the file

    def _merge(self, chosen, now=None):
        """Under the file's lock: take over dead processes' journals, then append this
        process's `chosen` runs that changed since their last append."""
        with self._merge_lock:
            with self._lock:
                picked = [(run_id, run, run.version, run.text, dict(run.summary))
                          for run_id, run in self._runs.items()
                          if run.version != run.stored and chosen(run)]
            try:
                with self.file.locked() as batch:
                    self._take_over_dead_journals(batch, now or now_iso())
                    if picked:
                        self._append(batch, picked)
                if self.journal is not None and self.journal.size > JOURNAL_ROTATE_BYTES \
                        and not self._stopped:
                    self._rotate()
            except StorageError as exc:
                self._fail(exc)
                raise
            self.failure = None

    def _rotate(self):
        """Start a fresh journal holding what the file does not have yet (open runs, changes
        not appended) and the doc ids of every run, then drop the old one: the journal of a
        server that runs for weeks stays small. Killed midway, both journals are taken over
        (the same runs under the same ids: nothing lost, at worst appended twice)."""
        with self._lock:
            old, new = self.journal, Journal(self.file.journal_dir)
            ids = {run_id: run.doc_id for run_id, run in self._runs.items() if run.doc_id}
            new.write({"ids": ids})
            for run in self._runs.values():
                if run.version != run.stored or run.summary.get("status") in UNFINISHED:
                    run.version, run.stored = new.write_run(run.text), 0
                else:
                    run.version = run.stored = 0
                run.durable = run.version
            new.sync(new.written)
            self.journal = new
        old.remove()
        os.close(old.fd)

    def _append(self, batch, picked):
        ids = {run_id: run.doc_id or batch.new_id() for run_id, run, *_ in picked}
        intent = {run_id: [ids[run_id], version] for run_id, _, version, _, _ in picked}
        if self.journal is not None:
            self.journal.write({"intent": intent, "index_at": batch.state["index_length"]}, sync=True)
        places = batch.commit([(ids[run_id], text, summary) for run_id, _, _, text, summary in picked])
        with self._lock:
            for (run_id, run, version, _, _), (at, length) in zip(picked, places):
                run.doc_id, run.stored = ids[run_id], max(run.stored, version)
                if run.stored >= run.version and run.summary.get("status") not in UNFINISHED \
                        and self._runs.get(run_id) is run:
                    del self._runs[run_id]          # final and in the file: it leaves memory
                    self._filed[run_id] = at << PLACE_BITS | length

    def _take_over_dead_journals(self, batch, now):
        try:
            paths = sorted(self.file.journal_dir.glob("*.jsonl"))
        except OSError:
            return
        for path in paths:
            if self.journal is not None and path == self.journal.path:
                continue
            try:
                fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)                # alive: its owner holds the lock
                continue
            try:
                self._take_over(batch, fd, path, now)
            finally:
                os.close(fd)

    def _take_over(self, batch, fd, path, now):
        runs, ids, stored = {}, {}, {}
        for entry in read_journal(fd):
            run = entry.get("run")
            if isinstance(run, dict) and isinstance(entry.get("v"), int) and "unique_id" in run:
                runs[run["unique_id"]] = (entry["v"], run)
            elif isinstance(entry.get("ids"), dict):       # a rotated journal's first lines
                ids.update({run_id: doc_id for run_id, doc_id in entry["ids"].items()
                            if str(doc_id).isdigit() and int(doc_id) < batch.state["next_id"]})
            elif isinstance(entry.get("intent"), dict) and entry["intent"]:
                intent = {run_id: value for run_id, value in entry["intent"].items()
                          if isinstance(value, list) and len(value) == 2}
                # An id the file has handed out is this run's, committed or not (a writer killed
                # after its append was kept whole); an id past next_id was never handed out.
                ids.update({run_id: value[0] for run_id, value in intent.items()
                            if str(value[0]).isdigit() and int(value[0]) < batch.state["next_id"]})
                if intent and _committed(batch, intent, entry.get("index_at")):
                    stored.update({run_id: value[1] for run_id, value in intent.items()})
        entries, intent = [], {}
        for run_id, (version, doc) in runs.items():
            if doc.get("status") in UNFINISHED:
                doc.update(status="interrupted", endTimeStamp=now, endReason=INTERRUPTED_REASON)
                self.interrupted += 1
            elif stored.get(run_id, 0) >= version:
                continue
            doc_id = ids.get(run_id) or batch.new_id()
            intent[run_id] = [doc_id, version]
            entries.append((doc_id, _encode(doc), summary_of(doc)))
        if entries:
            line = json.dumps({"intent": intent, "index_at": batch.state["index_length"]}).encode()
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            except OSError as exc:
                raise storage_error(path, exc) from None
            batch.commit(entries)
        log.info("took over %s: %d run(s) stored", path.name, len(entries))
        try:
            os.unlink(path)
        except OSError:
            pass

    # ------------------------------------------------------------------ the background writer

    def _write_loop(self):
        """Append finished runs once they have been quiet for `flush_delay` (a run is often
        annotated right after its verdict: one append instead of two)."""
        while True:
            with self._lock:
                while not self._dirty and not self._stopped and not self._paused:
                    self._changed.wait()
                if self._stopped or self._paused:
                    return
                self._dirty = False
                self._changed.wait(self.flush_delay)
                if self._stopped or self._paused:
                    self._dirty = True      # not appended yet: the next writer (or close) does
                    return
            quiet_since = time.monotonic() - self.flush_delay
            try:
                self._merge(lambda run: run.summary.get("status") not in UNFINISHED
                            and run.changed_at <= quiet_since)
            except StorageError:
                time.sleep(RETRY_SECONDS)
            with self._lock:
                if any(run.version != run.stored and run.summary.get("status") not in UNFINISHED
                       for run in self._runs.values()):
                    self._dirty = True

    def _remove_stale_temp_files(self):
        """Temp files a killed process left beside db.json (a live writer's are younger)."""
        try:
            leftovers = list(self.path.parent.glob(f".{self.path.name}*.tmp"))
        except OSError:
            return
        for leftover in leftovers:
            try:
                if time.time() - leftover.stat().st_mtime > STALE_TEMP_SECONDS:
                    leftover.unlink()
            except OSError:
                pass


def _checked(run_id, read):
    """read(), if it gives run `run_id`'s document; None if it fails or gives anything else."""
    try:
        document = read()
    except (OSError, ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) and document.get("unique_id") == run_id else None


def _committed(batch, intent, index_at):
    """Whether an append announced by `intent` reached the index (a killed writer's may not)."""
    if not isinstance(index_at, int) or index_at < 0:
        return False
    run_id, value = next(iter(intent.items()))
    record = batch.index_line_at(index_at) or {}
    return record.get("id") == value[0] and record.get("s", {}).get("unique_id") == run_id


def forget_inherited_stores():
    """In a forked process: let go of the parent's stores without touching their files. Their
    journal fds are closed (the journal's lock stays the parent's: it belongs to the open file,
    which the parent still holds), and nothing of theirs is written at exit."""
    for store in list(_open_stores):
        if store.journal is not None:
            try:
                os.close(store.journal.fd)
            except OSError:
                pass
        _open_stores.discard(store)


@atexit.register
def _close_open_stores():
    for store in list(_open_stores):
        try:
            store.close()
        except Exception:                                       # noqa: BLE001 - exiting anyway
            log.exception("could not write %s at exit", store.path)
