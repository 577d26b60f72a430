"""Memory: peak RSS of a process that (1) runs 1,000 and 10,000 offline calls of the sample mix
(every testSuite/*.json), with the results store and with a store that keeps nothing (the
runner's own memory), (2) opens a results db of 10,000 runs (and lists the last 20, as
`python main.py results` does), each measured in a fresh subprocess (VmHWM, resource.getrusage's
ru_maxrss where there is no /proc), against the same process with only the imports.
For scale, (3) the same db opened with plain TinyDB (`TinyDB(path).all()`).

Run: python bench/memory.py [--calls 1000,10000] [--runs 10000]
"""
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import (ROOT, load, machine, peak_rss_mb_of, sample_documents,  # noqa: E402
                   write_history)


def peak_mb():
    """This process's peak RSS in MiB. Linux carries ru_maxrss across exec from the process that
    spawned us (this script's parent holds a 50 MB db in memory), so VmHWM, which starts afresh
    at exec, is preferred; getrusage elsewhere."""
    return peak_rss_mb_of("self") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(mode, arg, path):
    """Runs in the subprocess: prints one JSON line of figures."""
    from app.runner import Job, OfflineRunner
    from app.store import ResultStore
    from app.targets import resolve_target
    from tinydb import TinyDB
    figures = {"imports_mb": peak_mb()}
    started = time.perf_counter()
    if mode in ("offline", "runner"):
        from app.parallel import NoStore
        from app.suite import load_suites
        suites, _ = load_suites([str(ROOT / "testSuite")])
        jobs = [Job(s, resolve_target(suite_target=s.target, base=ROOT)) for s in suites]
        store = ResultStore(path) if mode == "offline" else NoStore()
        result = OfflineRunner(store, concurrency=50).run((jobs * int(arg))[:int(arg)])
        if mode == "offline":
            store.close()
        figures["complete"] = sum(s["status"] == "complete" for s in result.summaries)
    elif mode == "open":
        store = ResultStore(path)
        figures["open_s"] = time.perf_counter() - started
        figures["listed"] = len(store.runs(last=20))
        store.close()
    elif mode == "tinydb":
        db = TinyDB(path)
        figures["listed"] = len(db.all())
        figures["open_s"] = time.perf_counter() - started
        db.close()
    figures["seconds"] = time.perf_counter() - started
    figures["peak_mb"] = peak_mb()
    print(json.dumps(figures))


def measure(mode, arg, path):
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(arg), str(path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode:
        raise SystemExit(done.stderr[-1000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="1000,10000", help="comma-separated call counts")
    parser.add_argument("--runs", type=int, default=10000)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    print(f"machine: {machine()}")
    print(f"load before: {load()}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print()
        peaks = {}
        for calls in [int(c) for c in args.calls.split(",")]:
            r = measure("offline", calls, tmp / f"offline{calls}.json")
            peaks[calls] = r["peak_mb"]
            print(f"{calls} offline calls of the sample mix ({r['complete']} complete, {r['seconds']:.1f} s): "
                  f"peak RSS {r['peak_mb']:.0f} MB (imports alone {r['imports_mb']:.0f} MB), "
                  f"results file {(tmp / f'offline{calls}.json').stat().st_size / 1e6:.1f} MB", flush=True)
            r = measure("runner", calls, tmp / "unused.json")
            print(f"  the same with a store that keeps nothing (the runner's own memory): "
                  f"peak RSS {r['peak_mb']:.0f} MB", flush=True)
        if len(peaks) > 1:
            low, high = min(peaks), max(peaks)
            print(f"whole process, {high} calls over {low}: {peaks[high] / peaks[low]:.2f}x peak RSS")
        size = write_history(tmp / "history.json", args.runs, sample_documents())
        r = measure("open", 0, tmp / "history.json")
        print(f"open a db of {args.runs} runs ({size / 1e6:.0f} MB) and list the last {r['listed']}: "
              f"peak RSS {r['peak_mb']:.0f} MB (imports alone {r['imports_mb']:.0f} MB), "
              f"open {r['open_s']:.2f} s")
        r = measure("tinydb", 0, tmp / "history.json")
        print(f"the same db with plain TinyDB(path).all(): peak RSS {r['peak_mb']:.0f} MB, "
              f"{r['open_s']:.2f} s")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
