"""Real processes, real signals: a run whose verdict was printed or answered is on disk.

- `run` stopped by SIGTERM or Ctrl-C (SIGINT) mid-run: exits 143 or 130, says how many runs it
  kept, and every run whose verdict it printed is stored complete; the rest are interrupted.
- `serve` killed with SIGKILL right after it answered a call's final <Hangup/>: that run is
  complete in the file once the next process has taken the dead one's journal over.
"""
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.store import ResultStore
from bench._util import HttpCall, Server, read_db, suite_answers, suite_copies

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "signals-token-0123456789abcdef"


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_run_stopped_mid_run_keeps_every_printed_verdict(tmp_path, sig, code):
    suites = suite_copies(tmp_path / "suites", 1000)   # long enough to be stopped mid-run
    db = tmp_path / "results" / "db.json"
    proc = subprocess.Popen([sys.executable, "main.py", "run", str(suites), "-q", "--no-color",
                             "--workers", "1", "--db", str(db)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    timer = threading.Timer(60, proc.kill)
    timer.start()
    printed = []
    try:
        while len(printed) < 15:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith("PASS "):                  # a verdict, as it is printed
                printed.append(line.split()[1])
        proc.send_signal(sig)
        rest, err = proc.communicate(timeout=30)
    finally:
        timer.cancel()
    printed += [line.split()[1] for line in rest.splitlines() if line.startswith("PASS ")]
    assert proc.returncode == code, err
    assert "Traceback" not in err
    stopped = [line for line in err.splitlines() if line.startswith("stopped by")]
    assert len(stopped) == 1 and "run(s) of this command stored" in stopped[0], err
    table = read_db(db)
    by_suite = {doc["suite"]: doc for doc in table.values()}
    assert len(by_suite) == len(table) <= 1000                       # each run once
    assert all(by_suite[name]["status"] == "complete" for name in printed)
    assert {doc["status"] for doc in table.values()} <= {"complete", "interrupted"}
    assert any(doc["status"] == "interrupted" for doc in table.values())    # it was mid-run
    kept = int(stopped[0].split(": ")[1].split(" of ")[0])
    assert kept == len(table)


def test_serve_killed_right_after_a_final_reply_keeps_that_run(tmp_path):
    """Five trials: the call's last /gather answers <Hangup/>, SIGKILL lands at once (no
    /status, nothing else), and the run is complete after the next process starts."""
    db = tmp_path / "results" / "db.json"
    survived = 0
    for trial in range(5):
        suites = suite_copies(tmp_path / f"suites{trial}", 1)
        server = Server(db, suites, token=TOKEN)
        call = HttpCall(server.port, f"CA{trial:032d}", suite_answers(), token=TOKEN)
        try:
            status, body = call.post("/voice")
            while "<Hangup" not in body:
                action = body.split('action="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
                step = int(action.split("step=", 1)[1].split("&", 1)[0])
                status, body = call.post(action, {"SpeechResult": suite_answers()(step),
                                                  "Confidence": "0.9"})
                assert status == 200
        finally:
            server.stop(signal.SIGKILL)                 # right after the final reply
            call.close()
        store = ResultStore(db)                         # the next process takes over
        store.interrupt_unfinished()
        store.close()
        runs = [doc for doc in read_db(db).values() if doc.get("callSid") == call.call_sid]
        assert len(runs) == 1 and runs[0]["status"] == "complete", runs
        survived += 1
    assert survived == 5


@pytest.mark.parametrize("sig, code, group", [(signal.SIGINT, 130, True), (signal.SIGTERM, 143, False)])
def test_run_with_workers_stopped_mid_run_keeps_every_printed_verdict(tmp_path, sig, code, group):
    """Two processes (`--workers 2`): Ctrl-C reaches the process group (as from a terminal),
    SIGTERM only the command. Either way every printed verdict is stored complete, each run
    once, nothing is left open, every process closed its journal and the worker is gone."""
    suites = suite_copies(tmp_path / "suites", 3000)
    db = tmp_path / "results" / "db.json"
    proc = subprocess.Popen([sys.executable, "main.py", "run", str(suites), "-q", "--no-color",
                             "--workers", "2", "--db", str(db)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    timer = threading.Timer(90, proc.kill)
    timer.start()
    printed = []
    try:
        while len(printed) < 200:
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            if line.startswith("PASS "):
                printed.append(line.split()[1])
        children = [int(pid) for pid in
                    Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        os.killpg(proc.pid, sig) if group else proc.send_signal(sig)
        rest, err = proc.communicate(timeout=60)
    finally:
        timer.cancel()
    printed += [line.split()[1] for line in rest.splitlines() if line.startswith("PASS ")]
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if line.startswith("stopped by")], err
    table = read_db(db)
    by_suite = {doc["suite"]: doc for doc in table.values()}
    assert len(by_suite) == len(table) <= 3000                       # each run once
    assert all(by_suite[name]["status"] == "complete" for name in printed)
    assert {doc["status"] for doc in table.values()} <= {"complete", "interrupted"}
    assert list((db.parent / "db.json.journal").iterdir()) == []
    assert all(not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
               for pid in children)
