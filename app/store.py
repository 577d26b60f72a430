"""Run results in TinyDB (`results/db.json`): thread-safe, atomic on disk, cheap as history grows.

TinyDB is not thread-safe and its JSON storage rewrites the whole file on every write, which a
threaded webhook server can neither share nor afford. So every TinyDB call here holds one lock,
and the storage keeps the documents in memory: a write only marks them dirty, and a background
writer replaces the file atomically (temp file, fsync, `os.replace`) at most every
`flush_delay` seconds, and on `flush()`/`close()`. A process killed mid-write leaves the previous
complete file, never half of one.
"""
import atexit
import copy
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from tinydb import Query, TinyDB
from tinydb.storages import Storage

log = logging.getLogger(__name__)
TABLE = "_default"


class AtomicJSONStorage(Storage):
    """TinyDB storage held in memory and written to disk by whole-file atomic replacement."""

    def __init__(self, path, on_write=None):
        self.path = Path(path)
        self.on_write = on_write or (lambda: None)
        self._data = self._load()

    def _load(self):
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            backup = self.path.with_suffix(".corrupt.json")
            os.replace(self.path, backup)
            log.error("%s was not valid JSON; moved it to %s and started afresh", self.path, backup)
            return {}
        return data if isinstance(data, dict) else {}

    def read(self):
        return self._data

    def write(self, data):
        self._data = data
        self.on_write()

    def snapshot(self):
        """The data as JSON text; call it under the store's lock."""
        return json.dumps(self._data, ensure_ascii=False, default=str)

    def replace_file(self, text):
        """Write `text` to a temp file beside db.json, then swap it in atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".db-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


class ResultStore:
    """All runs, one document each, keyed by `unique_id`."""

    def __init__(self, path="results/db.json", flush_delay=0.2):
        self.path = Path(path)
        self.flush_delay = flush_delay
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._dirty = threading.Event()
        self._stopped = False
        self._db = TinyDB(str(self.path), storage=AtomicJSONStorage, on_write=self._dirty.set)
        self._table = self._db.table(TABLE)
        self._ids = {doc.get("unique_id"): doc.doc_id for doc in self._table.all()}
        self._writer = threading.Thread(target=self._write_loop, name="results-writer", daemon=True)
        self._writer.start()
        atexit.register(self.close)

    def save(self, document):
        """Insert or replace the run with this `unique_id`."""
        document = copy.deepcopy(document)
        with self._lock:
            doc_id = self._ids.get(document["unique_id"])
            if doc_id is None:
                self._ids[document["unique_id"]] = self._table.insert(document)
            else:
                self._table.update(lambda stored: (stored.clear(), stored.update(document)),
                                   doc_ids=[doc_id])

    def get(self, run_id):
        with self._lock:
            doc_id = self._ids.get(run_id)
            doc = self._table.get(doc_id=doc_id) if doc_id is not None else None
            return copy.deepcopy(dict(doc)) if doc else None

    def runs(self, last=None, status=None):
        """Runs newest first (by start time), optionally only those with `status`."""
        with self._lock:
            docs = self._table.search(Query().status == status) if status else self._table.all()
            docs = [copy.deepcopy(dict(doc)) for doc in docs]
        docs.sort(key=lambda doc: doc.get("startTimestamp") or "", reverse=True)
        return docs[:last] if last else docs

    def interrupt_unfinished(self, now_iso):
        """Mark runs a previous process left in progress as `interrupted`, with the time."""
        with self._lock:
            stale = self._table.search(Query().status.one_of(["queued", "in-progress"]))
            for doc in stale:
                self._table.update({"status": "interrupted", "endTimeStamp": now_iso,
                                    "endReason": "server stopped during the run"},
                                   doc_ids=[doc.doc_id])
        if stale:
            self.flush()
        return len(stale)

    def flush(self):
        """Write the current state to disk now."""
        with self._write_lock:
            with self._lock:
                self._dirty.clear()
                text = self._db.storage.snapshot()
            self._db.storage.replace_file(text)

    def close(self):
        if not self._stopped:
            self._stopped = True
            self._dirty.set()
            self._writer.join(timeout=5)
            self.flush()

    def _write_loop(self):
        while not self._stopped:
            self._dirty.wait()
            if self._stopped:
                return
            threading.Event().wait(self.flush_delay)
            try:
                self.flush()
            except OSError:
                log.exception("could not write %s; will retry", self.path)
