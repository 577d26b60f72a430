"""The results file every process shares: `results/db.json` in TinyDB's format, grown by appending.

`TinyDB("results/db.json").all()` (or any JSON reader) sees every run. Beside it live three small
files this module owns:

- `db.json.lock`: an advisory lock (`fcntl.flock`). A process appends to db.json only while it
  holds it, so any number of processes can share one file without losing each other's runs.
- `db.json.index`: one JSON line per entry appended (doc id, where its JSON is in db.json, how
  long, and its summary), so the latest runs are read from the index's tail, whatever the history.
- `db.json.state`: what is committed: db.json's length, the index's length, the next doc id and a
  fingerprint of db.json. It is replaced atomically (temp, fsync, rename): the commit point.

Appending a batch rewrites only the closing `}}`: `, "18": {...}, "19": {...}}}` is written over it
in one `pwrite`, fsync'd, then the index lines, then the new state. A process killed in between
leaves bytes past the committed length; the next lock holder cuts them off and writes `}}` back,
so the file on disk is the last committed one again. A run updated after it was appended is
appended again under the same doc id: JSON readers (and TinyDB) keep the last value of a key.

A file someone else wrote (TinyDB, an older version of this tool, a hand edit) is noticed by its
fingerprint and indexed once ("rebuilt"); a file that is not valid JSON, or not TinyDB's shape,
is moved aside to a timestamped `db.corrupt-*.json` (backups never overwrite each other) and the
store starts afresh.
"""
import fcntl
import json
import logging
import math
import os
import re
import stat
import tempfile
import time
import zlib
from contextlib import contextmanager
from json.decoder import scanstring
from pathlib import Path

import orjson

from app.errors import StorageError

log = logging.getLogger(__name__)
TABLE = "_default"
EMPTY_FILE = b'{"_default": {}}'
# What a list of runs shows, kept in the index for every run.
SUMMARY_KEYS = ("unique_id", "status", "startTimestamp", "endTimeStamp", "suite", "file", "target",
                "mode", "callSid", "passedSteps", "totalSteps", "endReason", "ivrOutcome",
                "virtualSeconds", "invocation", "wallSeconds")
FINGERPRINT_BYTES = 1 << 16
TAIL_BLOCK = 1 << 16
_WS = re.compile(r"[ \t\n\r]*")
_decoder = json.JSONDecoder()


PLAIN = (str, int, float, bool, type(None))


def summary_of(document):
    """The run's SUMMARY_KEYS that hold plain values (a stored document may have any shape).
    A loop, not a comprehension that looks each value up twice: made on every save."""
    summary = {}
    for key in SUMMARY_KEYS:
        if key in document:
            value = document[key]
            if isinstance(value, PLAIN):
                summary[key] = value
    return summary


def storage_error(path, exc, doing="write"):
    """A StorageError naming the path and the cause (No space left on device, Read-only ...)."""
    cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return StorageError(f"cannot {doing} {path}: {cause}")


def check_regular(path, missing_ok=True):
    """Refuse a directory, FIFO, socket or device where a results file should be (a FIFO would
    block the first read forever)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if missing_ok:
            return
        raise
    except OSError as exc:
        raise storage_error(path, exc, "read") from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else \
            "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise StorageError(f"cannot use {path}: it is {kind}, not a results file")


class ResultsFile:
    """db.json and its index, state and lock: appends under the lock, reads without it."""

    def __init__(self, path):
        self.path = Path(path)
        name = self.path.name
        self.index_path = self.path.with_name(name + ".index")
        self.state_path = self.path.with_name(name + ".state")
        self.lock_path = self.path.with_name(name + ".lock")
        self.journal_dir = self.path.with_name(name + ".journal")

    # ------------------------------------------------------------------ writing

    @contextmanager
    def locked(self):
        """Hold the lock; yields a Batch on the committed (repaired if need be) state."""
        for path in (self.path, self.index_path, self.state_path, self.lock_path):
            check_regular(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            raise storage_error(self.lock_path, exc, "create") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield Batch(self, self._committed_state())
        finally:
            os.close(fd)            # releases the lock

    def _committed_state(self):
        """The state, after cutting off what a killed writer left past it; rebuilt when db.json
        or the index is not what the state says (a file written by someone else)."""
        state = self.read_state()
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return self._start_afresh()
        if state is None or st.st_ino != state["ino"] or st.st_size < state["length"]:
            return self.rebuild()
        if (st.st_size, st.st_mtime_ns) != (state["size"], state["mtime_ns"]):
            if self._fingerprint(state["length"]) != state["fingerprint"] or self._whole_tail(state):
                return self.rebuild()              # rewritten, or grown by someone (TinyDB)
            self._cut_back(state)                  # a writer killed mid-append: undo its bytes
        try:
            index_size = os.stat(self.index_path).st_size
        except FileNotFoundError:
            index_size = -1
        if index_size < state["index_length"]:
            return self.rebuild()
        if index_size > state["index_length"]:
            _guard(self.index_path, "write", os.truncate, self.index_path, state["index_length"])
        return state

    def _whole_tail(self, state):
        """Whether what follows the committed part is whole entries and the closing `}}` (TinyDB
        inserting, or a writer killed after its append but before its commit: both are kept)."""
        with open(self.path, "rb") as file:
            file.seek(state["length"] - 2)
            tail = file.read()
        try:
            text = tail.decode("utf-8")
            position = 0
            if state["pairs"]:
                position = _WS.match(text, position).end()
                if not text.startswith(",", position):
                    return False
                position += 1
            table, rest = {}, "{" + text[position:]
            end = _parse_table(rest, 0, table)
            return bool(table) and rest[end:].strip() == "}"
        except (ValueError, RecursionError, UnicodeDecodeError):
            return False

    def _cut_back(self, state):
        def cut():
            fd = os.open(self.path, os.O_WRONLY)
            try:
                os.ftruncate(fd, state["length"] - 2)
                os.pwrite(fd, b"}}", state["length"] - 2)
                os.fsync(fd)
                st = os.fstat(fd)
            finally:
                os.close(fd)
            return st
        st = _guard(self.path, "write", cut)
        state.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
        self.write_state(state)

    def _fingerprint(self, length):
        """A checksum of the committed file's last entries (before the closing `}}`): a file
        rewritten by someone else almost surely differs there, one we were appending to not."""
        with open(self.path, "rb") as file:
            file.seek(max(0, length - 2 - FINGERPRINT_BYTES))
            return f"{zlib.crc32(file.read(min(length - 2, FINGERPRINT_BYTES))):08x}"

    def _start_afresh(self):
        _guard(self.path, "write", _write_atomically, self.path, [EMPTY_FILE])
        _guard(self.index_path, "write", _write_atomically, self.index_path, [])
        return self._new_state(len(EMPTY_FILE), 0, 1, 0)

    def _new_state(self, length, index_length, next_id, pairs):
        st = os.stat(self.path)
        state = {"length": length, "index_length": index_length, "next_id": next_id, "pairs": pairs,
                 "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
                 "fingerprint": self._fingerprint(length)}
        self.write_state(state)
        return state

    def write_state(self, state):
        data = json.dumps(state).encode()
        _guard(self.state_path, "write", _write_atomically, self.state_path, [data])

    def read_state(self):
        try:
            with open(self.state_path, "rb") as file:
                state = json.loads(file.read(1 << 16))
            keys = ("length", "index_length", "next_id", "pairs", "ino", "size", "mtime_ns")
            if all(isinstance(state.get(key), int) for key in keys) and \
                    isinstance(state.get("fingerprint"), str):
                return state
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring %s (%s); db.json will be indexed again", self.state_path, exc)
        return None

    def rebuild(self):
        """Index a db.json this module did not write last (read once, document by document) and
        write it back in our layout (other tables first, `_default` last, so it can be appended)."""
        try:
            text = self.path.read_bytes().decode("utf-8")
            others, entries = parse_tinydb(text) if text.strip() else ([], [])
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            backup = self.back_up_corrupt()
            log.error("%s is not a valid results file (%s); moved it to %s and started afresh",
                      self.path, exc, backup)
            return self._start_afresh()
        except OSError as exc:
            raise storage_error(self.path, exc, "read") from None
        del text
        head = b"{" + b"".join(json.dumps(name).encode() + b": " + raw + b", " for name, raw in others)
        head += b'"' + TABLE.encode() + b'": {'
        parts, index, position = [head], [], len(head)
        for number, (doc_id, raw, summary) in enumerate(entries):
            key = (b", " if number else b"") + json.dumps(doc_id).encode() + b": "
            parts += (key, raw)
            index.append(_index_line(doc_id, position + len(key), len(raw), summary))
            position += len(key) + len(raw)
        parts.append(b"}}")
        _guard(self.path, "write", _write_atomically, self.path, parts)
        _guard(self.index_path, "write", _write_atomically, self.index_path, index)
        ids = [int(doc_id) for doc_id, _, _ in entries if doc_id.isdigit()]
        return self._new_state(position + 2, sum(map(len, index)), max(ids, default=0) + 1,
                               len(entries))

    def back_up_corrupt(self):
        """Move db.json to db.corrupt-<UTC time>[-n].json, never over an earlier backup."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        for attempt in range(1000):
            suffix = f"-{attempt}" if attempt else ""
            backup = self.path.with_name(f"{self.path.stem}.corrupt-{stamp}{suffix}.json")
            try:
                os.link(self.path, backup)             # fails if the name is taken
            except FileExistsError:
                continue
            except OSError as exc:
                raise storage_error(backup, exc, "create") from None
            _guard(self.path, "write", os.unlink, self.path)
            return backup
        raise StorageError(f"cannot back up {self.path}: too many backups named {stamp}")

    # ------------------------------------------------------------------ reading (no lock)

    def latest(self, want=None, status=None, skip=(), match=None):
        """Index records newest first (by when stored), one per doc id, at most `want`, only
        `status` if given (and `match(summary)`), none whose unique_id is in `skip`. Reads the
        index from its tail."""
        state = self.read_state()
        if state is None:
            return []
        seen, found = set(), []
        for record in self._records_backwards(state["index_length"]):
            if record["id"] in seen:
                continue
            seen.add(record["id"])
            summary = record["s"]
            if summary.get("unique_id") in skip or (status and summary.get("status") != status) \
                    or (match is not None and not match(summary)):
                continue
            found.append(record)
            if want and len(found) >= want:
                break
        return found

    def find(self, unique_id):
        """The newest index record of this run, or None (a scan of the index, from its tail)."""
        needle = json.dumps(unique_id, ensure_ascii=False).encode()
        state = self.read_state()
        if state is None:
            return None
        for record in self._records_backwards(state["index_length"], needle):
            if record["s"].get("unique_id") == unique_id:
                return record
        return None

    def find_many(self, unique_ids):
        """{unique_id: newest index record} for those of `unique_ids` the index holds: one scan
        from its tail, which stops once all are found (a command's own runs are the newest)."""
        wanted, found = set(unique_ids), {}
        state = self.read_state()
        if state is None or not wanted:
            return found
        for record in self._records_backwards(state["index_length"]):
            unique_id = record["s"].get("unique_id")
            if unique_id in wanted and unique_id not in found:
                found[unique_id] = record
                if len(found) == len(wanted):
                    break
        return found

    def read(self, record):
        """The document an index record points at, parsed."""
        return self.read_at(record["at"], record["len"])

    def read_at(self, at, length):
        """The document stored at byte `at`, `length` bytes long, parsed."""
        with open(self.path, "rb") as file:
            file.seek(at)
            return json.loads(file.read(length))

    def _records_backwards(self, end, needle=None):
        try:
            file = open(self.index_path, "rb")
        except FileNotFoundError:
            return
        with file:
            rest = b""
            while end > 0:
                start = max(0, end - TAIL_BLOCK)
                file.seek(start)
                block = file.read(end - start) + rest
                end = start
                lines = block.split(b"\n")
                rest = lines.pop(0) if start else b""
                for line in reversed(lines):
                    if line and (needle is None or needle in line):
                        yield json.loads(line)
            if rest and (needle is None or needle in rest):
                yield json.loads(rest)


class Batch:
    """One locked append: new doc ids, then `commit(entries)`."""

    def __init__(self, results, state):
        self.results, self.state = results, state

    def new_id(self):
        doc_id = str(self.state["next_id"])
        self.state["next_id"] += 1
        return doc_id

    def index_line_at(self, offset):
        """The committed index record at byte `offset`, or None (used to tell whether a killed
        writer's append was committed)."""
        if offset >= self.state["index_length"]:
            return None
        with open(self.results.index_path, "rb") as file:
            file.seek(offset)
            line = file.readline()
        try:
            return json.loads(line)
        except ValueError:
            return None

    def commit(self, entries):
        """Append [(doc id, JSON bytes, summary)] to db.json and the index, then the new state.
        Returns where each entry's JSON now is in db.json: [(offset, length)]."""
        if not entries:
            return []
        results, state = self.results, dict(self.state)
        position = state["length"] - 2                   # where the closing `}}` is
        parts, index, places = [], [], []
        for doc_id, raw, summary in entries:
            key = (b", " if state["pairs"] else b"") + json.dumps(doc_id).encode() + b": "
            parts += (key, raw)
            places.append((position + len(key), len(raw)))
            index.append(_index_line(doc_id, position + len(key), len(raw), summary))
            position += len(key) + len(raw)
            state["pairs"] += 1
        parts.append(b"}}")
        data = b"".join(parts)

        def append_db():
            fd = os.open(results.path, os.O_WRONLY)
            try:
                _pwrite_all(fd, data, state["length"] - 2)
                os.fsync(fd)
                return os.fstat(fd)
            finally:
                os.close(fd)

        def append_index():
            fd = os.open(results.index_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                _pwrite_all(fd, b"".join(index), None)
                os.fsync(fd)
            finally:
                os.close(fd)
        st = _guard(results.path, "write", append_db)
        _guard(results.index_path, "write", append_index)
        state.update(length=position + 2, index_length=state["index_length"] + sum(map(len, index)),
                     size=st.st_size, mtime_ns=st.st_mtime_ns)
        state["fingerprint"] = results._fingerprint(state["length"])
        results.write_state(state)
        self.state = state
        return places


# ---------------------------------------------------------------------- helpers

def _index_line(doc_id, at, length, summary):
    """One index line. orjson writes it (a sixth of json's cost, once per run appended), unless
    a value is NaN or infinite (json writes NaN, orjson null) or one orjson refuses (an integer
    past 64 bits): json writes those, as before. Strings are written the same by both."""
    record = {"id": doc_id, "at": at, "len": length, "s": summary}
    if not any(isinstance(value, float) and not math.isfinite(value) for value in summary.values()):
        try:
            return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


def _guard(path, doing, function, *args):
    """Run a file operation; an OSError becomes a StorageError naming the path and cause."""
    try:
        return function(*args)
    except OSError as exc:
        raise storage_error(path, exc, doing) from None


def _pwrite_all(fd, data, offset):
    view = memoryview(data)
    while view:
        written = os.write(fd, view) if offset is None else os.pwrite(fd, view, offset)
        view = view[written:]
        if offset is not None:
            offset += written


def _write_atomically(path, parts):
    """Write `parts` to a temp file beside `path`, fsync it, rename it over `path`, fsync the
    folder: readers see the old file or the new one, never half of one."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)                # as a plain open() would make it (mkstemp: 0600)
        for part in parts:
            _pwrite_all(fd, part, None)
        os.fsync(fd)
        os.close(fd)
        fd = None
        os.replace(tmp, path)
        fsync_directory(path.parent)
    except BaseException:
        if fd is not None:
            os.close(fd)
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def fsync_directory(directory):
    """Make a rename or a new file itself durable (POSIX)."""
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


# ---------------------------------------------------------------------- reading TinyDB's format

def parse_tinydb(text):
    """A TinyDB file read one document at a time: ([(table name, raw JSON bytes)] of other
    tables, [(doc id, raw JSON bytes, summary)] of `_default`, the last of a repeated id)."""
    others, table = [], {}
    position = _expect(text, 0, "{")
    while True:
        position = _WS.match(text, position).end()
        if text.startswith("}", position):
            break
        name, position = _string(text, position)
        position = _WS.match(text, _expect(text, position, ":")).end()
        if name == TABLE:
            position = _parse_table(text, position, table)
        else:
            _, end = _decoder.raw_decode(text, position)
            others.append((name, text[position:end].encode("utf-8")))
            position = end
        position = _after_item(text, position)
    if text[position + 1:].strip():
        raise ValueError(f"extra data after character {position}")
    return others, [(doc_id, raw, summary) for doc_id, (raw, summary) in table.items()]


def _parse_table(text, position, table):
    position = _expect(text, position, "{")
    while True:
        position = _WS.match(text, position).end()
        if text.startswith("}", position):
            return position + 1
        doc_id, position = _string(text, position)
        position = _WS.match(text, _expect(text, position, ":")).end()
        document, end = _decoder.raw_decode(text, position)
        if not isinstance(document, dict):
            raise ValueError(f"document {doc_id} is not an object")
        table.pop(doc_id, None)                    # a repeated id: the last one counts, at the end
        table[doc_id] = (text[position:end].encode("utf-8"), summary_of(document))
        position = _after_item(text, end)
        if text.startswith("}", position):
            return position + 1


def _after_item(text, position):
    position = _WS.match(text, position).end()
    if text.startswith(",", position):
        return position + 1
    if not text.startswith("}", position):
        raise ValueError(f"expected ',' or '}}' at character {position}")
    return position


def _expect(text, position, char):
    position = _WS.match(text, position).end()
    if not text.startswith(char, position):
        raise ValueError(f"expected {char!r} at character {position}")
    return position + 1


def _string(text, position):
    if not text.startswith('"', position):
        raise ValueError(f"expected a key at character {position}")
    return scanstring(text, position + 1)
