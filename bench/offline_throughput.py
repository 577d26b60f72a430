"""Offline throughput: simulated calls per second, and how fast `python main.py` is end to end.

1. 1,000 calls of testSuite/testSalesCall.json against the default target (the sample Connect
   flow and Lex bot) through app.runner.OfflineRunner, with a results store in a temp dir,
   `--concurrency` calls at a time on one virtual clock, in one thread (so on one core).
   Prints calls/s, and the calls' virtual seconds against the wall time (the sum of every call's
   own duration, and the virtual clock's span, each divided by the wall time).
2. `python main.py` (every sample suite, default target, RESULTS_DB in a temp dir) as a fresh
   subprocess, `--repeat` times: wall time from spawn to exit, start-up included.

Run: python bench/offline_throughput.py [--calls 1000] [--concurrency 50] [--repeat 7] [--profile]
"""
import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, SAMPLE_SUITE, load, machine  # noqa: E402


def offline(calls, concurrency, profile=False):
    from app.runner import Job, OfflineRunner
    from app.store import ResultStore
    from app.suite import load_suite
    from app.targets import resolve_target
    suite = load_suite(str(SAMPLE_SUITE))
    target = resolve_target(suite_target=suite.target)
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "db.json")
        runner = OfflineRunner(store, concurrency=concurrency)
        jobs = [Job(suite, target) for _ in range(calls)]
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = runner.run(jobs)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - started
        store.close()
        size = (Path(tmp) / "db.json").stat().st_size
    statuses = {}
    for doc in result.documents:
        statuses[doc["status"]] = statuses.get(doc["status"], 0) + 1
    call_seconds = sum(doc.get("virtualSeconds") or 0 for doc in result.documents)
    return {"wall": wall, "calls": calls, "statuses": statuses, "call_seconds": call_seconds,
            "span": result.virtual_seconds, "db_bytes": size, "profiler": profiler}


def main_py(repeat):
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RESULTS_DB": str(Path(tmp) / "db.json"), "TWILIO_AUTH_TOKEN": "",
               "IVR_TARGET": ""}
        for _ in range(repeat):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env,
                                  capture_output=True, timeout=120)
            times.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"python main.py exited {done.returncode}: {done.stderr.decode()[-500:]}")
        imports = subprocess.run([sys.executable, "-X", "importtime", "-c", "import app.cli, app.runner"],
                                 cwd=ROOT, env=env, capture_output=True, text=True, timeout=60).stderr
    return times, imports


def slowest_imports(importtime_output, count=8):
    rows = []
    for line in importtime_output.splitlines():
        if line.startswith("import time:") and "|" in line and "self" not in line:
            _, cumulative, name = line.split("|")
            rows.append((int(cumulative), name.rstrip()))
    top = [row for row in rows if not row[1].startswith("    ")]   # top-level imports only
    return sorted(top, reverse=True)[:count]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7, help="runs of `python main.py`")
    parser.add_argument("--profile", action="store_true", help="cProfile the offline run")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"load before: {load()}")

    r = offline(args.calls, args.concurrency, args.profile)
    rate = r["calls"] / r["wall"]
    print(f"\noffline: {r['calls']} calls of {SAMPLE_SUITE.name}, concurrency {args.concurrency}, "
          f"one thread")
    print(f"  wall {r['wall']:.2f} s  ->  {rate:.0f} calls/s  (goal >= 200)")
    print(f"  statuses {r['statuses']}")
    print(f"  virtual: {r['call_seconds']:.0f} call-seconds ({r['call_seconds'] / r['wall']:.0f}x wall), "
          f"clock span {r['span']:.0f} s ({r['span'] / r['wall']:.0f}x wall)")
    print(f"  results file {r['db_bytes'] / 1e6:.1f} MB")
    if r["profiler"]:
        out = io.StringIO()
        stats = pstats.Stats(r["profiler"], stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
        print(out.getvalue())

    if args.repeat:
        times, imports = main_py(args.repeat)
        print(f"\n`python main.py` (5 sample suites, start-up included), {args.repeat} runs: "
              f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, "
              f"max {max(times):.2f} s  (goal < 2 s)")
        print("  slowest top-level imports (python -X importtime, cumulative ms): " + ", ".join(
            f"{name.strip()} {us / 1000:.0f}" for us, name in slowest_imports(imports)))
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
