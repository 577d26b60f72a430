"""200 calls at once, offline and over HTTP against `serve`: afterwards exactly the runs and step
results expected, none lost, none duplicated, every run closed.

The HTTP test plays each call the way Twilio does (bench/_util.HttpCall): POST /voice, a signed
/gather per step with the SpeechResult the step expects, then the "completed" status callback.
Every thread, request and wait is bounded.
"""
import signal
import threading

import pytest

from app.runner import Job, OfflineRunner
from app.store import ResultStore
from app.suite import load_suites
from app.targets import resolve_target
from bench._util import HttpCall, Server, read_db, suite_answers, suite_copies

CALLS = 200
TOKEN = "concurrency-token-0123456789abcdef"


def sample_jobs(count):
    suites, errors = load_suites(["testSuite"])
    assert not errors and suites
    return [Job(suites[i % len(suites)], resolve_target(suite_target=suites[i % len(suites)].target))
            for i in range(count)]


def assert_closed_and_whole(doc):
    """A finished run: complete, one result per step, steps 1..n once each, an end time."""
    assert doc["status"] == "complete", doc
    assert [r["step"] for r in doc["results"]] == list(range(1, doc["totalSteps"] + 1))
    assert all(r["status"] == "passed" for r in doc["results"])
    assert doc["endTimeStamp"] and doc["currentStep"] is None


def test_200_offline_calls_at_once_lose_nothing(tmp_path):
    store = ResultStore(tmp_path / "db.json", flush_delay=0.01)
    result = OfflineRunner(store, concurrency=CALLS).run(sample_jobs(CALLS))
    store.close()
    table = read_db(store.path)
    assert len(table) == CALLS
    assert {d["unique_id"] for d in table.values()} == {d["unique_id"] for d in result.documents}
    assert len({d["callSid"] for d in table.values()}) == CALLS
    for doc in table.values():
        assert_closed_and_whole(doc)


def test_200_offline_calls_from_four_threads_sharing_one_store(tmp_path):
    """Four runners (their own clocks and apps) writing the same store at the same time."""
    store = ResultStore(tmp_path / "db.json", flush_delay=0.005)
    documents, errors = [], []

    def work():
        try:
            documents.extend(OfflineRunner(store, concurrency=50).run(sample_jobs(CALLS // 4)).documents)
        except Exception as exc:                     # noqa: BLE001 - reported by the assert
            errors.append(exc)
    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    store.close()
    assert not errors and not any(t.is_alive() for t in threads)
    table = read_db(store.path)
    assert len(table) == CALLS == len(documents)
    assert sorted(table, key=int) == [str(i) for i in range(1, CALLS + 1)]     # no id reused
    for doc in table.values():
        assert_closed_and_whole(doc)


class RetryingCall(HttpCall):
    """A call whose every /gather is sent twice, as Twilio retries a request it got no answer
    to: the second must get the same TwiML and must not record the step again."""

    def post(self, path, extra=None):
        first = super().post(path, extra)
        if not path.startswith("/gather"):
            return first
        second = super().post(path, extra)
        assert second == first, (first, second)
        return second


def play_at_once(port, count, call_class=HttpCall):
    """`count` calls started together, one thread each; returns (calls, errors)."""
    barrier = threading.Barrier(count)
    answer = suite_answers()
    calls = [(RetryingCall if i % 10 == 0 else call_class)(
        port, f"CA{i:032x}", answer, token=TOKEN, timeout=30) for i in range(count)]
    errors = []

    def play(call):
        try:
            barrier.wait(timeout=30)
            call.run()
        except Exception as exc:                     # noqa: BLE001 - reported by the assert
            errors.append(f"{call.call_sid}: {exc!r}")
    threads = [threading.Thread(target=play, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert not any(thread.is_alive() for thread in threads), "calls still running after 90 s"
    return calls, errors


def test_200_calls_at_once_over_http_against_serve(tmp_path):
    suites = suite_copies(tmp_path / "suites", CALLS)
    db = tmp_path / "results" / "db.json"
    server = Server(db, suites, token=TOKEN)
    try:
        calls, errors = play_at_once(server.port, CALLS)
    finally:
        code = server.stop(signal.SIGINT)            # SIGINT: serve closes its store (see below)
    assert not errors, errors[:5]
    assert code == 130, server.output()                  # Ctrl-C: 130, with every run stored
    assert all(status == 200 for call in calls for status in call.statuses)
    table = read_db(db)
    assert len(table) == CALLS                              # one run per queued suite
    assert len({d["unique_id"] for d in table.values()}) == CALLS
    assert {d["callSid"] for d in table.values()} == {call.call_sid for call in calls}
    for doc in table.values():
        assert_closed_and_whole(doc)
        assert doc["mode"] == "serve"


def test_serve_writes_every_finished_run_when_stopped_with_sigterm(tmp_path):
    """SIGTERM is how a service manager (systemd, docker stop, Kubernetes) stops a server.

    `serve` keeps changes in memory up to flush_delay; on SIGTERM it must close its store
    (the default SIGTERM action kills Python without `finally` or atexit)."""
    suites = suite_copies(tmp_path / "suites", 3)
    db = tmp_path / "results" / "db.json"
    server = Server(db, suites, token=TOKEN)
    try:
        calls, errors = play_at_once(server.port, 1)
    finally:
        server.stop(signal.SIGTERM)
    assert not errors
    table = read_db(db) if db.exists() else {}
    assert sorted(d["status"] for d in table.values()) == ["complete", "interrupted", "interrupted"]
    assert {d["endReason"] for d in table.values() if d["status"] == "interrupted"} == {
        "stopped before the run finished"}


# ---------------------------------------------------------------- many processes, one file

PROCESS_WRITER = r'''
import sys, time
sys.path.insert(0, sys.argv[1])
from app.store import open_store
path, name, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
store = open_store(path)
print("ready", flush=True)
sys.stdin.readline()                               # all start together
for i in range(count):
    run = {"unique_id": f"{name}-{i}", "status": "in-progress", "startTimestamp": f"{i:06d}",
           "results": [], "writer": name}
    store.save(run)
    store.save({**run, "status": "complete", "results": [{"step": 1, "status": "passed"}]})
    if i % 25 == 0:
        store.flush()
        store.runs(last=5)                         # reading while others write
store.close()
'''


@pytest.mark.parametrize("writers", [2, 4, 8])
def test_processes_sharing_one_results_file_lose_nothing(tmp_path, writers):
    """2, 4 and 8 processes write one db.json at once: every run of every process is in it,
    once, complete, and plain TinyDB reads it."""
    import subprocess
    import sys
    from pathlib import Path

    from tinydb import TinyDB
    root = Path(__file__).resolve().parent.parent
    script = tmp_path / "writer.py"
    script.write_text(PROCESS_WRITER)
    db = tmp_path / "results" / "db.json"
    per_writer = 120
    procs = [subprocess.Popen([sys.executable, str(script), str(root), str(db), f"w{n}",
                               str(per_writer)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for n in range(writers)]
    for proc in procs:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    table = read_db(db)
    ids = {doc["unique_id"] for doc in table.values()}
    assert ids == {f"w{n}-{i}" for n in range(writers) for i in range(per_writer)}
    assert len(table) == writers * per_writer                       # each once
    assert all(doc["status"] == "complete" for doc in table.values())
    plain = TinyDB(db)
    assert len(plain.all()) == writers * per_writer
    plain.close()
    assert list((db.parent / "db.json.journal").iterdir()) == []


def test_two_cli_runs_and_serve_share_one_file(tmp_path):
    """Two `python main.py run` at once, beside a `serve` with calls: no run lost or marked
    interrupted by another process."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    db = tmp_path / "results" / "db.json"
    suites = suite_copies(tmp_path / "suites", 20)
    server = Server(db, suites, token=TOKEN)
    try:
        runs = [subprocess.Popen([sys.executable, "main.py", "run", "-q", "--no-color", "--db", str(db)],
                                 cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)]
        calls, errors = play_at_once(server.port, 20)
        outputs = [proc.communicate(timeout=120) for proc in runs]
    finally:
        code = server.stop(signal.SIGTERM)
    assert not errors, errors[:3]
    assert [proc.returncode for proc in runs] == [0, 0], outputs
    assert code == 143
    table = read_db(db)
    by_mode = {}
    for doc in table.values():
        by_mode.setdefault(doc["mode"], []).append(doc["status"])
    samples = len(list((root / "testSuite").glob("*.json")))
    assert sorted(by_mode["offline"]) == ["complete"] * 2 * samples
    assert sorted(by_mode["serve"]) == ["complete"] * 20
