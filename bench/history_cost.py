"""History does not slow anything down: what a command costs with 10 and with 50,000 earlier runs.

For each history size, a results file of real-shaped runs (bench/_util.write_history) is indexed
once (the first open of a file written by something else: one O(history) pass, reported), then:
- `python main.py run -q` on the sample suites: wall time and peak RSS (os.wait4's ru_maxrss);
- `python main.py results`: wall time and peak RSS;
- in-process: opening the store, one save, `runs(last=20)`.

Run: python bench/history_cost.py [--runs 10 50000]
"""
import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, load, machine, sample_documents, write_history  # noqa: E402


LAUNCHER = """
import os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
"""


def command(*args):
    """(seconds, peak RSS MiB, exit code) of `python main.py ARGS`, launched from a small fresh
    process (Linux carries ru_maxrss over a fork: this one holds the history it wrote)."""
    done = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "main.py", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    seconds, rss, code = done.stdout.split()
    return float(seconds), float(rss), int(code)


def in_process(db):
    from app.store import ResultStore
    started = time.perf_counter()
    store = ResultStore(db)
    opened = time.perf_counter() - started
    started = time.perf_counter()
    store.save({"unique_id": "bench-save", "status": "complete", "startTimestamp": "2030-01-01"})
    saved = time.perf_counter() - started
    started = time.perf_counter()
    latest = store.runs(last=20)
    listed = time.perf_counter() - started
    store.close()
    return opened, saved, listed, len(latest)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, nargs="+", default=[10, 50000])
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load before: {load()}")
    templates = sample_documents()
    baseline = command("--help")
    print(f"python main.py --help (imports only): {baseline[0]:.2f} s, peak RSS {baseline[1]:.0f} MB")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.runs:
            db = Path(tmp) / f"h{count}" / "db.json"
            size = write_history(db, count, templates)
            started = time.perf_counter()
            from app.store import ResultStore
            ResultStore(db).close()
            print(f"\n{count} earlier runs ({size / 1e6:.1f} MB): indexed once in "
                  f"{time.perf_counter() - started:.2f} s")
            for name, cmd in (("run -q (samples)", ("run", "-q", "--no-color", "--db", str(db))),
                              ("results", ("results", "--db", str(db)))):
                seconds, rss, code = command(*cmd)
                print(f"  python main.py {name:<17} {seconds:5.2f} s  peak RSS {rss:4.0f} MB  exit {code}")
            opened, saved, listed, n = in_process(db)
            print(f"  in-process: open {opened * 1000:.1f} ms, one save {saved * 1000:.2f} ms, "
                  f"runs(last=20) {listed * 1000:.1f} ms ({n} runs)")
    print(f"\nload after: {load()}")


if __name__ == "__main__":
    main()
