"""Crash safety: SIGKILL in the middle of many writes never leaves a broken results file, never
loses a run reported finished, and the next process takes the dead one's journal over: its open
runs become `interrupted`, its finished ones are appended.

"Reported finished", precisely: a run whose final save returned (the save fsyncs the journal
line first), or a `flush()` after it returned. Only then may a process tell anyone the run is
finished; the writer below prints "finished RUN" at exactly that point. A run the file was
*seen* to hold as finished stays finished too: the file only ever moves forward.
"""
import json
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from app.store import ResultStore
from bench._util import HttpCall, Server, read_db, suite_answers, suite_copies

ROOT = Path(__file__).resolve().parent.parent
NOW = "2030-01-01T00:00:00.000+00:00"
OPEN_AT_ONCE = 3            # the writer keeps this many runs in progress at any time

WRITER = r'''
import sys
sys.path.insert(0, sys.argv[1])
from app.store import ResultStore

path, mode, first = sys.argv[2], sys.argv[3], int(sys.argv[4])
store = ResultStore(path, flush_delay=0.0)
store.interrupt_unfinished("%s")
print("ready", flush=True)
pad = "x" * 20000                       # big runs: every write takes a while, kills land in it
open_runs = []
for i in range(first, first + 100000):
    run = {"unique_id": "run%%07d" %% i, "status": "in-progress", "startTimestamp": str(i),
           "results": [], "pad": pad}
    store.save(run)
    open_runs.append(run)
    if len(open_runs) > %d:
        done = open_runs.pop(0)
        store.save({**done, "status": "complete", "endTimeStamp": "end",
                    "results": [{"step": 1, "status": "passed"}]})
        if mode == "flush":
            store.flush()
        # One write() per line (stdout may be unbuffered: print would write the parts one by one,
        # and a kill between them would leave half a line in the pipe).
        sys.stdout.write("finished " + done["unique_id"] + "\n")
        sys.stdout.flush()
''' % (NOW, OPEN_AT_ONCE)


def strict_json(path):
    def refuse(token):
        raise ValueError(f"{token} is not JSON")
    return json.loads(Path(path).read_text(encoding="utf-8"), parse_constant=refuse)


def kill_in_the_middle(script, db, mode, first, finished_before_kill, rng):
    """Start the writer, let it report some runs finished, SIGKILL it at a random moment;
    returns every run it reported finished (including lines still in the pipe)."""
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT), str(db), mode, str(first)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reported = []
    timer = threading.Timer(30, proc.kill)          # bound: never wait forever on the child
    timer.start()
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        while len(reported) < finished_before_kill:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            reported.append(line.split()[1])
        time.sleep(rng.uniform(0, 0.03))             # somewhere inside the next writes
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate(timeout=10)
    finally:
        timer.cancel()
    # Only whole lines count: a line the kill cut short (no newline) was never a report.
    whole_lines = rest.split("\n")[:-1]
    reported += [line.split()[1] for line in whole_lines if line.startswith("finished ")]
    assert proc.returncode == -signal.SIGKILL
    return reported


@pytest.mark.parametrize("mode", ["flush", "journal"])
def test_sigkill_mid_write_keeps_the_file_whole_and_every_reported_run(tmp_path, mode):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    db = tmp_path / "results" / "db.json"
    rng = random.Random(mode)
    reported, first, interrupted = [], 0, 0
    for round_number in range(4):
        reported += kill_in_the_middle(script, db, mode, first, rng.randint(5, 40), rng)
        # A kill inside an append's write() can cut the file's tail (the kernel stops a large
        # write between pages on SIGKILL); the committed state says where it ends, and the next
        # start (here: a store opened as the CLI opens it) repairs it and takes the journal over.
        store = ResultStore(db)
        marked = store.interrupt_unfinished(NOW)
        store.close()
        table = strict_json(db)["_default"]
        runs = {doc["unique_id"]: doc for doc in table.values()}
        assert len(runs) == len(table)                      # no run stored twice
        missing = [run for run in reported if runs.get(run, {}).get("status") != "complete"]
        assert not missing, f"round {round_number}: reported finished but not on disk: {missing[:5]}"
        left_open = sorted(run for run, doc in runs.items()
                           if doc["status"] == "interrupted" and doc["endTimeStamp"] == NOW
                           and run[3:].isdigit() and int(run[3:]) >= first)
        assert 1 <= marked == len(left_open) <= OPEN_AT_ONCE + 1
        assert all(runs[run]["endReason"] == "server stopped during the run" for run in left_open)
        assert not [run for run, doc in runs.items() if doc["status"] == "in-progress"]
        interrupted += len(left_open)
        first = max(int(run[3:]) for run in runs) + 1
    # The writer always holds runs open, so the kills must have left some: otherwise the
    # "marked interrupted" checks above never ran.
    assert interrupted > 0, "no kill left a run in progress on disk"
    assert list((db.parent / "db.json.journal").iterdir()) == []      # every journal taken over


def test_sigkill_of_serve_under_load(tmp_path):
    """serve killed while calls are in full swing: the file stays whole, every run a reader
    saw finished is still finished, and the next `serve` marks the open runs interrupted."""
    token = "crash-token-0123456789abcdef"
    suites = suite_copies(tmp_path / "suites", 600)
    db = tmp_path / "results" / "db.json"
    server = Server(db, suites, token=token)
    stop = threading.Event()
    answer = suite_answers()

    def caller(n):
        for i in range(1000):
            if stop.is_set():
                return
            try:
                HttpCall(server.port, f"CA{n:04d}{i:028d}", answer, token=token, timeout=5,
                         think=lambda: time.sleep(0.03)).run()
            except Exception:                               # noqa: BLE001 - the server died
                return
    threads = [threading.Thread(target=caller, args=(n,), daemon=True) for n in range(20)]
    for thread in threads:
        thread.start()
    seen_complete, reads, torn = set(), 0, 0
    deadline = time.monotonic() + 1.5
    try:
        while time.monotonic() < deadline:
            if db.exists():
                try:
                    table = strict_json(db)["_default"]
                except ValueError:
                    # An append rewrites the closing "}}" in place: a reader that does not take
                    # the lock can catch those microseconds. Reading again gives the whole file.
                    torn += 1
                    time.sleep(0.005)
                    table = strict_json(db)["_default"]
                reads += 1
                seen_complete |= {d["unique_id"] for d in table.values() if d["status"] == "complete"}
            time.sleep(0.02)
    finally:
        killed_at = time.time()
        server.stop(signal.SIGKILL)
        stop.set()
    for thread in threads:
        thread.join(10)
    assert reads and seen_complete and torn <= reads // 10, server.output()
    strict_json(db)                                         # whole after the kill
    journal = [json.loads(line) for path in (db.parent / "db.json.journal").glob("*.jsonl")
               for line in path.read_bytes().splitlines() if line.endswith(b"}")]
    runs = {}
    for line in journal:
        if "run" in line:
            runs[line["run"]["unique_id"]] = line["run"]
    assert len(runs) == 600                                 # every queued suite, in the journal
    left_open = {run for run, doc in runs.items() if doc["status"] in ("queued", "in-progress")}
    assert any(runs[run]["status"] == "in-progress" for run in left_open)   # killed mid-call

    empty = tmp_path / "no-suites"
    empty.mkdir()
    again = Server(db, empty, token=token)                  # the CLI's open_store runs at start
    again.stop(signal.SIGINT)
    restarted_by = time.time()
    after = {doc["unique_id"]: doc for doc in read_db(db).values()}
    assert len(after) == len(read_db(db)) == 600            # every run once
    assert all(after[run]["status"] == "complete" for run in seen_complete)
    assert {run for run, doc in after.items() if doc["status"] == "interrupted"} == left_open
    for run in left_open:                                   # "interrupted" with the restart's time
        stamp = datetime.fromisoformat(after[run]["endTimeStamp"])
        assert stamp.tzinfo is not None, after[run]["endTimeStamp"]
        assert killed_at - 1 <= stamp.timestamp() <= restarted_by + 1, \
            (after[run]["endTimeStamp"], killed_at, restarted_by)
    assert all(after[run] == runs[run] for run in runs if run not in left_open)


ROTATING_WRITER = r'''
import os, signal, sys
sys.path.insert(0, sys.argv[1])
import app.store as store_module
store_module.JOURNAL_ROTATE_BYTES = 1500
store = store_module.ResultStore(sys.argv[2], flush_delay=60)
for i in range(20):
    store.save({"unique_id": f"r{i}", "status": "in-progress", "startTimestamp": str(i)})
    store.save({"unique_id": f"r{i}", "status": "complete", "startTimestamp": str(i)})
    store.flush()                                   # the journal rotates along the way
store.save({"unique_id": "r0", "status": "failed", "startTimestamp": "0"})   # after a rotation
store.save({"unique_id": "open", "status": "in-progress", "startTimestamp": "99"})
os.kill(os.getpid(), signal.SIGKILL)
'''


def test_a_killed_process_with_a_rotated_journal_is_taken_over_under_the_same_ids(tmp_path):
    script = tmp_path / "rotating.py"
    script.write_text(ROTATING_WRITER)
    db = tmp_path / "db.json"
    done = subprocess.run([sys.executable, str(script), str(ROOT), str(db)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    [journal] = (tmp_path / "db.json.journal").glob("*.jsonl")      # the old one was dropped
    assert b'{"ids": {' in journal.read_bytes()                       # it is a rotated journal
    before = read_db(db)
    assert before["1"]["unique_id"] == "r0" and before["1"]["status"] == "complete"
    store = ResultStore(db)
    assert store.interrupt_unfinished(NOW) == 1
    store.close()
    table = read_db(db)
    by_run = {doc["unique_id"]: (key, doc["status"]) for key, doc in table.items()}
    assert len(by_run) == len(table) == 21                          # each run once
    assert by_run["r0"] == ("1", "failed")                          # its id, its last change
    assert by_run["open"][1] == "interrupted"
    assert all(status == "complete" for run, (_, status) in by_run.items() if run not in ("r0", "open"))
