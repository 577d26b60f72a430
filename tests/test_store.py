import dataclasses
import datetime
import functools
import json
import threading
import uuid

from hypothesis import given, settings, strategies as st

import app.results_file as results_file
import app.store as store_module
from app.results_file import SUMMARY_KEYS
from app.store import ResultStore


def doc(run_id, status="in-progress", start="2026-01-01T00:00:00"):
    return {"unique_id": run_id, "status": status, "startTimestamp": start, "results": []}


def test_save_replaces_by_unique_id(store):
    store.save(doc("a"))
    store.save(doc("a", "complete"))
    assert [d["status"] for d in store.runs()] == ["complete"]


def test_runs_newest_first_filtered_and_limited(store):
    store.save(doc("old", "failed", "2026-01-01"))
    store.save(doc("new", "complete", "2026-02-01"))
    assert [d["unique_id"] for d in store.runs()] == ["new", "old"]
    assert [d["unique_id"] for d in store.runs(status="failed")] == ["old"]
    assert len(store.runs(last=1)) == 1


def test_returned_documents_are_copies(store):
    store.save(doc("a"))
    store.get("a")["results"].append("oops")
    assert store.get("a")["results"] == []


def test_flush_writes_valid_json_and_reopen_reads_it(tmp_path):
    path = tmp_path / "db.json"
    first = ResultStore(path)
    first.save(doc("a", "complete"))
    first.close()
    assert json.loads(path.read_text())["_default"]["1"]["unique_id"] == "a"
    again = ResultStore(path)
    again.save(doc("b"))
    assert {d["unique_id"] for d in again.runs()} == {"a", "b"}
    again.close()


def test_no_temp_files_left_behind(tmp_path):
    store = ResultStore(tmp_path / "db.json")
    for i in range(20):
        store.save(doc(str(i)))
        store.flush()
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "db.json", "db.json.index", "db.json.journal", "db.json.lock", "db.json.state"]
    assert list((tmp_path / "db.json.journal").iterdir()) == []     # a closed store's is removed


def test_concurrent_writers_lose_nothing(store):
    def work(n):
        for i in range(50):
            store.save(doc(f"{n}-{i}"))
            store.save(doc(f"{n}-{i}", "complete"))
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.flush()
    on_disk = json.loads(store.path.read_text())["_default"].values()
    assert len(on_disk) == 400 and all(d["status"] == "complete" for d in on_disk)


def test_a_closing_store_marks_only_its_own_open_runs_interrupted(tmp_path):
    path = tmp_path / "db.json"
    other = ResultStore(path)                 # another process's store, still open
    other.save(doc("theirs", "in-progress"))
    other.flush()
    first = ResultStore(path)
    first.save(doc("left", "in-progress"))
    first.save(doc("done", "complete"))
    first.close()
    again = ResultStore(path)
    assert again.interrupt_unfinished("2026-11-22T00:00:00") == 0     # its owner is alive
    left = again.get("left")
    assert left["status"] == "interrupted" and left["endReason"] == "stopped before the run finished"
    assert again.get("done")["status"] == "complete"
    assert again.get("theirs")["status"] == "in-progress"
    other.save(doc("theirs", "complete"))
    other.close()
    again.close()
    table = json.loads(path.read_text())["_default"]
    assert {d["unique_id"]: d["status"] for d in table.values()} == {
        "theirs": "complete", "left": "interrupted", "done": "complete"}


def test_corrupt_file_is_kept_aside_not_lost(tmp_path):
    path = tmp_path / "db.json"
    path.write_text("{not json")
    store = ResultStore(path)
    assert store.runs() == []
    store.close()
    path.write_text("{also not json")                  # a second corrupt file: its own backup
    ResultStore(path).close()
    backups = sorted(tmp_path.glob("db.corrupt-*.json"))
    assert sorted(b.read_text() for b in backups) == ["{also not json", "{not json"]


# ---------------------------------------------------------------- the file format and its cost

def test_plain_tinydb_reads_the_file_and_new_ids_follow_tinydbs(tmp_path):
    from tinydb import TinyDB
    path = tmp_path / "db.json"
    store = ResultStore(path)
    store.save(doc("a", "complete"))
    store.save(doc("b", "failed"))
    store.save(doc("a", "complete", "2026-03-01"))
    store.close()
    plain = TinyDB(path)
    assert {d.doc_id: d["unique_id"] for d in plain.all()} == {1: "a", 2: "b"}
    assert plain.get(doc_id=1)["startTimestamp"] == "2026-03-01"
    plain.insert(doc("c"))              # TinyDB appends as id 3; so do we after reopening
    plain.close()
    again = ResultStore(path)
    again.save(doc("d"))
    again.close()
    table = json.loads(path.read_text())["_default"]
    assert {key: d["unique_id"] for key, d in table.items()} == {"1": "a", "2": "b", "3": "c", "4": "d"}


def test_reads_what_plain_tinydb_wrote_and_keeps_other_tables(tmp_path):
    from tinydb import TinyDB
    path = tmp_path / "db.json"
    plain = TinyDB(path, indent=2)      # indented, ASCII-escaped: TinyDB's own style
    plain.insert(doc("é-run", "in-progress"))
    plain.table("notes").insert({"text": "ünïcode ✓"})
    plain.close()
    store = ResultStore(path)
    assert store.get("é-run")["status"] == "in-progress"
    store.save(doc("new", "complete"))
    store.close()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["notes"] == {"1": {"text": "ünïcode ✓"}}
    assert {d["unique_id"] for d in data["_default"].values()} == {"é-run", "new"}


def test_unicode_and_odd_values_round_trip(store):
    text = "Grüße — 日本語 \u2028 \"quoted\" \\ back"
    store.save({**doc("u"), "actualResult": text, "n": 1.5, "none": None, "tuple": (1, 2)})
    got = store.get("u")
    assert got["actualResult"] == text and got["tuple"] == [1, 2]
    store.flush()
    assert json.loads(store.path.read_text(encoding="utf-8"))["_default"]["1"]["actualResult"] == text


def test_nan_and_infinity_are_stored_as_null_so_the_file_stays_strict_json(store):
    store.save({**doc("x"), "results": [{"confidence": float("nan"), "score": float("inf")}]})
    store.flush()

    def refuse(token):
        raise AssertionError(f"{token} in db.json")
    on_disk = json.loads(store.path.read_text(), parse_constant=refuse)
    assert on_disk["_default"]["1"]["results"] == [{"confidence": None, "score": None}]


_plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _plain, max_size=6))
def test_orjson_encoding_reads_back_as_jsons_did(document):
    """orjson (fast) and json (the fallback, and what the store used before) store the same
    values: big integers, NaN and infinities included."""
    assert json.loads(store_module._encode(document)) == json.loads(store_module._json_encode(document))


_summary_values = st.none() | st.booleans() | st.integers() | st.floats() | st.text()


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(SUMMARY_KEYS), _summary_values), st.text())
def test_an_index_line_reads_back_as_jsons_did_and_is_found_by_its_run_id(summary, unique_id):
    """orjson writes index lines; json did (and still does NaN, infinities and big integers)."""
    summary["unique_id"] = unique_id
    line = results_file._index_line("7", 10, 20, summary)
    old = json.dumps({"id": "7", "at": 10, "len": 20, "s": summary}, ensure_ascii=False).encode() + b"\n"
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.dumps(json.loads(line)) == json.dumps(json.loads(old))     # NaN == NaN here
    assert json.dumps(unique_id, ensure_ascii=False).encode() in line      # what find() looks for


def test_a_summary_keeps_the_plain_values_of_its_keys_only():
    document = {"unique_id": "x", "status": "complete", "suite": ["not", "plain"], "passedSteps": 2,
                "virtualSeconds": 1.5, "callSid": None, "mode": True, "results": [], "other": 1}
    assert results_file.summary_of(document) == {
        "unique_id": "x", "status": "complete", "passedSteps": 2, "virtualSeconds": 1.5,
        "callSid": None, "mode": True}


@dataclasses.dataclass
class _Step:
    n: int


def test_what_orjson_refuses_or_treats_its_own_way_is_stored_as_json_stored_it():
    odd = {"int keys": {1: "a", 2.5: "b", None: "c", True: "d"}, "big": 2 ** 70, "set": {1},
           "when": datetime.datetime(2026, 1, 2, 3, 4, 5), "dataclass": _Step(1),
           "uuid": uuid.UUID(int=7), "nan": [float("nan"), float("-inf")], "tuple": (1, (2,)),
           "deep": functools.reduce(lambda inner, _: [inner], range(300), [])}
    for key, value in odd.items():
        document = {"unique_id": "x", key: value}
        assert json.loads(store_module._encode(document)) == \
            json.loads(store_module._json_encode(document)), key


def test_a_file_of_the_wrong_shape_is_kept_aside_not_overwritten(tmp_path):
    path = tmp_path / "db.json"
    path.write_text('["not", "a", "tinydb", "file"]')
    store = ResultStore(path)
    store.save(doc("a"))
    store.close()
    [backup] = tmp_path.glob("db.corrupt-*.json")
    assert json.loads(backup.read_text()) == ["not", "a", "tinydb", "file"]
    assert [d["unique_id"] for d in json.loads(path.read_text())["_default"].values()] == ["a"]


def test_opening_and_reading_do_not_rewrite_the_file(tmp_path):
    path = tmp_path / "db.json"
    first = ResultStore(path)
    first.save(doc("a"))
    first.close()
    before = path.stat()
    reader = ResultStore(path)
    assert [d["unique_id"] for d in reader.runs(last=5)] == ["a"]
    reader.close()
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_save_after_close_still_reaches_the_disk(tmp_path):
    store = ResultStore(tmp_path / "db.json")
    store.close()
    store.save(doc("late", "complete"))        # a request still in flight at shutdown
    assert json.loads(store.path.read_text())["_default"]["1"]["status"] == "complete"


def journal_runs(store):
    """The run lines in a store's journal, as another process would read them after a kill."""
    lines = [json.loads(line) for line in store.journal.path.read_bytes().splitlines()]
    return [line["run"] for line in lines if "run" in line]


def test_a_final_save_returns_only_once_the_run_is_in_the_journal_and_synced(tmp_path):
    path = tmp_path / "db.json"
    store = ResultStore(path, flush_delay=30)         # the writer's timer would be too late
    try:
        store.save(doc("a", "in-progress"))
        assert json.loads(path.read_text())["_default"] == {}       # not finished: not appended
        synced = store.journal.synced
        store.save(doc("a", "complete"))
        assert store.journal.synced > synced                       # fsync'd before returning
        assert journal_runs(store)[-1]["status"] == "complete"
    finally:
        store.close()
    assert json.loads(path.read_text())["_default"]["1"]["status"] == "complete"


def test_finishing_saves_at_the_same_time_share_writes(tmp_path):
    import os
    store = ResultStore(tmp_path / "db.json", flush_delay=30)
    writes = []
    original = os.fsync
    os.fsync = lambda fd: (writes.append(fd), original(fd))
    threads = [threading.Thread(target=store.save, args=(doc(f"r{i}", "complete"),)) for i in range(40)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join(10)
    finally:
        os.fsync = original
    assert len(writes) < 40 and sum(r["status"] == "complete" for r in journal_runs(store)) == 40
    store.close()
    assert len(json.loads(store.path.read_text())["_default"]) == 40


def test_final_saves_without_fsync_become_durable_together_in_make_durable(tmp_path):
    """Group commit (offline runs): the journal holds the runs at once, one fsync covers them
    all, and only then does the store count them as kept."""
    store = ResultStore(tmp_path / "db.json", flush_delay=30)
    try:
        synced = store.journal.synced
        for i in range(5):
            store.save(doc(f"g{i}", "complete"), durable=False)
        assert store.journal.synced == synced and store.counts() == (0, 5)
        assert sum(r["status"] == "complete" for r in journal_runs(store)) == 5
        store.make_durable()
        assert store.journal.synced == store.journal.written and store.counts() == (5, 5)
        store.make_durable()                                        # nothing owed: no fsync
        assert store.journal.synced == store.journal.written
    finally:
        store.close()
    assert len(json.loads(store.path.read_text())["_default"]) == 5


def test_runs_orders_ties_as_stored_and_limits_without_reading_everything(store):
    for i in range(5):
        store.save(doc(f"same{i}", "complete", "2026-01-01"))
    store.save(doc("newest", "failed", "2026-06-01"))
    assert [d["unique_id"] for d in store.runs(last=3)] == ["newest", "same0", "same1"]
    assert [d["unique_id"] for d in store.runs()] == ["newest"] + [f"same{i}" for i in range(5)]
    assert [d["unique_id"] for d in store.runs(last=2, status="complete")] == ["same0", "same1"]


def test_a_save_costs_the_same_with_a_long_history(tmp_path):
    """O(1)-ish saves: timing with 20,000 runs stored against 10 (min of batches, generous)."""
    import time
    big = {"unique_id": "", "status": "complete", "startTimestamp": "2026-01-01",
           "results": [{"step": i, "actualResult": "hello and welcome " * 5} for i in range(5)]}
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"_default": {str(i + 1): {**big, "unique_id": f"h{i}"}
                                             for i in range(20000)}}))

    def cost(store):
        best = float("inf")
        for batch in range(5):
            started = time.perf_counter()
            for i in range(100):
                store.save({**big, "unique_id": f"new{batch}-{i}", "status": "in-progress"})
            best = min(best, time.perf_counter() - started)
        return best
    large = ResultStore(path, flush_delay=60)
    small = ResultStore(tmp_path / "small.json", flush_delay=60)
    try:
        assert cost(large) < 3 * cost(small) + 0.005
    finally:
        large.close()
        small.close()


def test_stale_temp_files_of_a_killed_writer_are_removed(tmp_path):
    import os
    leftover = tmp_path / ".db.json-abc123.tmp"
    leftover.write_text('{"_default": {"1": {"unique_id": "half')
    os.utime(leftover, (0, 0))
    fresh = tmp_path / ".db.json-live.tmp"            # may be another writer's, right now
    fresh.write_text("{")
    ResultStore(tmp_path / "db.json").close()
    assert not leftover.exists() and fresh.exists()


def test_summaries_list_runs_from_memory_like_runs_does(tmp_path):
    path = tmp_path / "db.json"
    first = ResultStore(path)
    first.save({**doc("old", "failed", "2026-01-01"), "suite": "s", "passedSteps": 1,
                "transcript": [{"t": 0}], "coverage": {"blocks": 3}})
    first.close()
    store = ResultStore(path)                               # from the file ...
    store.save({**doc("new", "complete", "2026-02-01"), "suite": "t", "ivrOutcome": "done"})
    summaries = store.summaries()                           # ... and from saves
    assert summaries == [
        {"unique_id": "new", "status": "complete", "startTimestamp": "2026-02-01", "suite": "t",
         "ivrOutcome": "done"},
        {"unique_id": "old", "status": "failed", "startTimestamp": "2026-01-01", "suite": "s",
         "passedSteps": 1}]
    assert [s["unique_id"] for s in store.summaries(last=1)] == ["new"]
    assert [s["unique_id"] for s in store.summaries(status="failed")] == ["old"]
    summaries[0]["status"] = "changed"                      # a copy
    assert store.summaries()[0]["status"] == "complete"
    store.close()


def test_a_long_running_journal_is_rotated_without_losing_or_repeating_runs(tmp_path, monkeypatch):
    import app.store as store_module
    monkeypatch.setattr(store_module, "JOURNAL_ROTATE_BYTES", 2000)
    path = tmp_path / "db.json"
    store = ResultStore(path, flush_delay=30)
    first = store.journal.path
    for i in range(30):
        store.save(doc(f"r{i}", "in-progress"))
        store.save(doc(f"r{i}", "complete"))
        store.flush()
    store.save(doc("open", "in-progress"))
    store.save(doc("r0", "failed"))                 # a run stored before the rotation, changed
    store.flush()
    assert store.journal.path != first and not first.exists()
    assert store.journal.path.stat().st_size < 4000
    store.close()
    table = json.loads(path.read_text())["_default"]
    by_id = {d["unique_id"]: (key, d["status"]) for key, d in table.items()}
    assert len(by_id) == len(table) == 31                       # each run under one id
    assert by_id["r0"] == ("1", "failed") and by_id["open"][1] == "interrupted"


def run_doc(i, status="complete"):
    return {**doc(f"r{i}", status, f"2026-01-{i % 28 + 1:02d}T00:00:{i % 60:02d}"), "suite": f"s{i % 3}",
            "transcript": [{"say": f"hello {i} " * 40}], "results": [{"step": 1, "status": "passed"}]}


def test_a_finished_run_leaves_memory_once_in_the_file_and_reads_back_the_same(tmp_path):
    """What a command keeps of a finished run once it is appended: where it is, not its JSON."""
    store = ResultStore(tmp_path / "db.json", flush_delay=30)
    try:
        docs = [run_doc(i, "complete" if i % 4 else "failed") for i in range(12)]
        store.save(doc("open", start="2026-01-05T12:00:00"))     # still in progress
        for document in docs:
            store.save(document)

        def reads():
            return (store.runs(), store.runs(last=3), store.runs(status="failed"),
                    store.summaries(), store.summaries(last=2, offset=1, status="complete"),
                    [store.get(d["unique_id"]) for d in docs], store.documents(["r3", "open", "r0"]))
        before = reads()
        store.flush()
        assert set(store._runs) == {"open"}                     # no text of an appended final run
        assert sorted(store._filed) == sorted(d["unique_id"] for d in docs)
        assert all(type(place) is int for place in store._filed.values())     # where, not what
        assert reads() == before
        assert [store.get(d["unique_id"]) for d in docs] == docs
        assert store.counts() == (13, 13)
    finally:
        store.close()


def test_a_run_saved_again_after_it_left_memory_keeps_its_doc_id(tmp_path):
    path = tmp_path / "db.json"
    store = ResultStore(path, flush_delay=30)
    for i in range(3):
        store.save(run_doc(i))
    store.flush()
    assert not store._runs
    store.save({**run_doc(1), "note": "annotated"})             # e.g. a late status callback
    assert store.get("r1")["note"] == "annotated" and store.counts()[1] == 3
    store.close()
    table = json.loads(path.read_text())["_default"]
    assert len(table) == 3 and table["2"] == {**run_doc(1), "note": "annotated"}


def test_a_stale_place_is_not_trusted_when_the_file_was_rewritten(tmp_path):
    """Someone rewrote db.json (TinyDB, a hand edit): a run is found through the index again."""
    from tinydb import TinyDB
    path = tmp_path / "db.json"
    store = ResultStore(path, flush_delay=30)
    try:
        for i in range(3):
            store.save(run_doc(i))
        store.flush()
        with TinyDB(path, indent=4) as db:                      # the same runs, other offsets
            db.insert({"unique_id": "theirs", "status": "complete"})
        assert [store.get(f"r{i}") for i in range(3)] == [run_doc(i) for i in range(3)]
        assert store.documents(["r2", "theirs"]) == [run_doc(2), {"unique_id": "theirs", "status": "complete"}]
    finally:
        store.close()


KILLED_AFTER_ROTATION = r'''
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import app.results_file as results_file
import app.store as store_module
from app.results_file import SUMMARY_KEYS
from app.store import ResultStore
store_module.JOURNAL_ROTATE_BYTES = 2000
store = ResultStore(sys.argv[2], flush_delay=30)
for i in range(30):
    store.save({"unique_id": "r%d" % i, "status": "complete", "startTimestamp": str(i), "pad": "x" * 200})
    store.flush()                                   # appended: each leaves memory; the journal rotates
store.save({"unique_id": "r0", "status": "failed", "startTimestamp": "0", "late": True})
os.kill(os.getpid(), signal.SIGKILL)                # before r0's change is appended
'''


def test_a_run_changed_after_it_left_memory_and_a_rotation_is_taken_over_under_its_doc_id(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    path = tmp_path / "db.json"
    root = str(Path(__file__).resolve().parent.parent)
    done = subprocess.run([sys.executable, "-c", KILLED_AFTER_ROTATION, root, str(path)], timeout=60)
    assert done.returncode == -9
    ResultStore(path).close()                       # takes the dead journal over
    table = json.loads(path.read_text())["_default"]
    by_id = {d["unique_id"]: (key, d["status"]) for key, d in table.items()}
    assert len(by_id) == len(table) == 30 and by_id["r0"] == ("1", "failed")
