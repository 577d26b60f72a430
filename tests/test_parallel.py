"""--workers: suites spread over processes give the store, the output and the verdicts of one."""
import json
import sys
import threading
import time
from pathlib import Path

from app.parallel import run_parallel
from app.report import ConsoleReporter
from app.runner import Job, OfflineRunner
from app.store import ResultStore
from app.suite import load_suites, parse_suite
from app.targets import resolve_target

ROOT = Path(__file__).resolve().parent.parent
WALL_CLOCK_KEYS = ("unique_id", "callSid", "startTimestamp", "endTimeStamp", "wallSeconds")
WALL_CLOCK_STEP_KEYS = ("listenStartedAt", "judgedAt")


def mixed_jobs():
    """The samples, the failing examples and a suite that stalls at the call-length limit."""
    suites, errors = load_suites(["testSuite", "examples/failing"])
    assert not errors
    silent = parse_suite([{"expect": "x", "match": "any", "then": None, "timeout": 3}] * 3, "silent.json")
    return [Job(s, resolve_target(suite_target=s.target)) for s in suites + [silent]] * 6


def play(tmp_path, name, jobs, workers):
    lines = []
    reporter = ConsoleReporter(echo=lines.append, color=False, verbose=True)
    store = ResultStore(tmp_path / f"{name}.json")
    runner = OfflineRunner(store, reporter=reporter, concurrency=3, workers=workers)
    try:
        result = run_parallel(runner, jobs, min_jobs_per_worker=1) if workers > 1 else runner.run(jobs)
    finally:
        store.close()
    table = json.loads((tmp_path / f"{name}.json").read_text())["_default"]
    stored = [table[key] for key in sorted(table, key=int)]
    return result, stored, lines


def comparable(doc):
    """A stored run without what depends on the wall clock or on random ids."""
    doc = {key: value for key, value in doc.items() if key not in WALL_CLOCK_KEYS}
    doc["results"] = [{k: v for k, v in step.items() if k not in WALL_CLOCK_STEP_KEYS}
                      for step in doc["results"]]
    return doc


def test_two_workers_store_and_print_what_one_process_does(tmp_path):
    jobs = mixed_jobs()
    one, one_stored, one_lines = play(tmp_path, "one", jobs, workers=1)
    two, two_stored, two_lines = play(tmp_path, "two", jobs, workers=2)
    assert len(one_stored) == len(two_stored) == len(jobs)
    # the store numbers runs as its writer appends them (wall-clock timing): compare as sets
    assert sorted(json.dumps(comparable(d), sort_keys=True) for d in one_stored) == \
        sorted(json.dumps(comparable(d), sort_keys=True) for d in two_stored)
    assert one_lines == two_lines and len(one_lines) > 10 * len(jobs)
    assert [s["status"] for s in one.summaries] == [s["status"] for s in two.summaries]
    assert {s["status"] for s in two.summaries} == {"complete", "failed"}
    assert [s["file"] for s in two.summaries] == [job.suite.path for job in jobs]   # suite order
    assert sorted(s["unique_id"] for s in two.summaries) == sorted(d["unique_id"] for d in two_stored)
    assert {p: c.summary() for p, c in one.coverage.items()} == {p: c.summary() for p, c in two.coverage.items()}
    stored_by_id = {d["unique_id"]: d for d in two_stored}    # workers append as they finish
    assert two.documents == [stored_by_id[s["unique_id"]] for s in two.summaries]


def test_a_small_run_stays_in_one_process(tmp_path):
    suites, _ = load_suites(["testSuite"])
    store = ResultStore(tmp_path / "db.json")
    runner = OfflineRunner(store, workers=8)
    result = runner.run([Job(s, resolve_target(suite_target=s.target)) for s in suites])
    store.close()
    assert [s["status"] for s in result.summaries] == ["complete"] * len(suites)
    assert result.virtual_seconds == runner.clock.now > 0       # played on this process's clock


def test_output_follows_the_suites_not_the_order_calls_end(tmp_path):
    suites, _ = load_suites(["testSuite"])
    long_first = sorted(suites, key=lambda s: -len(s.steps))
    jobs = [Job(s, resolve_target(suite_target=s.target)) for s in long_first]
    _result, stored, lines = play(tmp_path, "order", jobs, workers=1)
    headers = [line for line in lines if line.startswith("── ")]
    assert [next(s.path for s in long_first if f"({s.path})" in h) for h in headers] == [s.path for s in long_first]
    assert [d["file"] for d in stored] == [s.path for s in long_first]
    ends = [d["virtualSeconds"] for d in stored]
    assert ends != sorted(ends)          # the calls did not end in suite order


def test_a_target_that_cannot_load_is_an_error_run_in_a_worker_too(tmp_path):
    from app.targets import parse_target
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"Version": "2019-10-30", "StartAction": "a", "Actions": [
        {"Identifier": "a", "Type": "MessageParticipant", "Parameters": {"Text": "Hi."},
         "Transitions": {"NextAction": "no-such-block"}}]}))        # a dangling transition
    good = mixed_jobs()[:4]
    jobs = good[:2] + [Job(good[0].suite, parse_target(str(flow)))] + good[2:]
    result, stored, lines = play(tmp_path, "broken", jobs, workers=2)
    by_id = {d["unique_id"]: d for d in stored}             # processes append as they finish
    stored = [by_id[s["unique_id"]] for s in result.summaries]
    assert [d["status"] for d in stored][2] == "error" and "no-such-block" in stored[2]["endReason"]
    assert [s["status"] for s in result.summaries] == [d["status"] for d in stored]
    assert sum(line.startswith(("PASS ", "FAIL ")) for line in lines) == len(jobs)


def test_every_process_stores_its_runs_in_the_one_file_and_leaves_no_journal(tmp_path):
    jobs = mixed_jobs()
    result, stored, _lines = play(tmp_path, "shared", jobs, workers=2)
    assert sorted(d["unique_id"] for d in stored) == sorted(s["unique_id"] for s in result.summaries)
    assert {d["status"] for d in stored} <= {"complete", "failed"}      # none left open
    assert list((tmp_path / "shared.json.journal").iterdir()) == []     # every process closed


PARENT = r'''
import os, sys
sys.path.insert(0, sys.argv[1])
os.chdir(sys.argv[1])
from app.parallel import run_parallel
from app.report import ConsoleReporter
from app.runner import Job, OfflineRunner
from app.store import open_store
from app.suite import load_suites
from app.targets import resolve_target
suites, _ = load_suites(["testSuite"])
jobs = [Job(s, resolve_target(suite_target=s.target)) for s in suites] * 4000   # never done in time
reporter = ConsoleReporter(echo=lambda text, style=None: print(text, flush=True), color=False, quiet=True)
runner = OfflineRunner(open_store(sys.argv[2]), reporter=reporter, concurrency=10, workers=2)
run_parallel(runner, jobs, min_jobs_per_worker=1)
'''


def _children(pid):
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _alive(pid):
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_a_killed_parent_loses_no_reported_run_and_its_workers_store_theirs_and_exit(tmp_path):
    """SIGKILL the parent mid-run: its workers notice, mark the runs in their hands interrupted,
    store them and exit; the next process takes the parent's journal over. Every verdict the
    parent printed is a finished run in the file, and no run is left open."""
    import signal
    import subprocess
    import sys
    import time
    path = tmp_path / "db.json"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(ROOT), str(path)],
                              stdout=subprocess.PIPE, text=True)
    printed = []
    for line in parent.stdout:
        printed.append(line)
        if len(printed) >= 300:
            break
    workers = _children(parent.pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]                 # no orphan left behind
    survivor = ResultStore(path)        # the parent's journal: taken over by a worker or here
    survivor.interrupt_unfinished()
    survivor.close()
    table = json.loads(path.read_text())["_default"].values()
    statuses = [d["status"] for d in table]
    assert set(statuses) <= {"complete", "interrupted"} and "interrupted" in statuses, \
        (len(statuses), len(printed))
    passed = sum(line.startswith("PASS ") for line in printed)
    assert passed >= 290 and statuses.count("complete") >= passed
    assert list((tmp_path / "db.json.journal").iterdir()) == []


def test_workers_are_forked_only_while_no_other_thread_runs(tmp_path):
    """A fork copies the lock a running thread holds, held forever: with a thread of our own
    alive (a progress display's, say) the workers are spawned, and the runs are the same."""
    jobs = mixed_jobs()[:24]
    quiet = threading.active_count() == 1       # other tests' stores may leave threads running
    forked, alone, alone_lines = play(tmp_path, "forked", jobs, workers=2)
    stop = threading.Event()
    busy = threading.Thread(target=stop.wait, daemon=True)
    busy.start()
    try:
        spawned, with_thread, thread_lines = play(tmp_path, "spawned", jobs, workers=2)
    finally:
        stop.set()
    assert forked.worker_start == ("fork" if sys.platform.startswith("linux") and quiet else "spawn")
    assert spawned.worker_start == "spawn"
    assert sorted(json.dumps(comparable(d), sort_keys=True) for d in alone) == \
        sorted(json.dumps(comparable(d), sort_keys=True) for d in with_thread)
    assert alone_lines == thread_lines


def test_pausing_the_writer_for_a_fork_loses_no_append(tmp_path):
    """writer_paused stops the store's writer thread and starts a new one after: runs saved
    before and inside the pause are all appended."""
    store = ResultStore(tmp_path / "db.json", flush_delay=0.01)
    document = {"unique_id": "r1", "status": "complete", "startTimestamp": "2026-01-01T00:00:00Z"}
    store.save(document)
    with store.writer_paused():
        assert not store._writer.is_alive()
        store.save({**document, "unique_id": "r2"})
    deadline = time.monotonic() + 10          # the new writer appends it, unasked
    while time.monotonic() < deadline:
        table = json.loads((tmp_path / "db.json").read_text())["_default"]
        if len(table) == 2:
            break
        time.sleep(0.01)
    assert sorted(doc["unique_id"] for doc in table.values()) == ["r1", "r2"]
    assert store._writer.is_alive()
    store.close()
