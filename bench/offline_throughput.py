"""Offline throughput on what users run: three mixes of suites, at 1 and N worker processes.

Mixes (every suite against its own target, as `python main.py` resolves it):
- sample: every testSuite/*.json, repeated (what `python main.py` runs);
- long:   the suites of four steps or more (menu retries, the bot asking again), on the sample
          flow and on its legacy export;
- lex:    the suites that talk to the Lex bot (salesFavoriteProgrammer, salesNotUnderstood,
          testSalesCall), with the realistic recognizer.

Each row runs in a fresh subprocess (so peak memory is that row's): `--calls` calls through
app.runner.OfflineRunner (concurrency 50 per worker, results in a temp ResultStore), and prints
- calls/s: calls over wall time;
- calls per CPU-second: calls over the CPU time of the process and its workers. On a shared
  machine wall time includes waiting for a core; CPU time is what one core spends per call;
- simulated seconds per wall second: the calls' own virtual durations, summed, over wall time;
- peak RSS of the process (VmHWM) and of its largest worker.
`--wire` rows play the sample mix through the full webhook round trip, for comparison. Then
`python main.py` (the 5 sample suites) end to end, `--repeat` times.

`--against REV` also plays the sample mix, one worker, with the code of commit REV (a temporary
git worktree), alternating with this checkout `--pairs` times: this VM's speed moves by up to
2x from one hour to the next, so a speed-up is only measured against a reference run beside it.
REV 8968ee1 is the code when issue 13 was filed.

Run: python bench/offline_throughput.py [--calls 2000] [--workers N] [--repeat 3] [--profile]
                                         [--against 8968ee1 --pairs 3]
"""
import argparse
import cProfile
import inspect
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, load, machine, peak_rss_mb_of  # noqa: E402

LEGACY_FLOW = "aws-connect-contact-flows/legacy/SalesIVR.json"
LEX_SUITES = ("salesFavoriteProgrammer.json", "salesNotUnderstood.json", "testSalesCall.json")


def mix_jobs(mix, calls, root=ROOT):
    """The jobs of a mix, its suites repeated in order up to `calls`."""
    from app.runner import Job
    from app.suite import load_suites
    from app.targets import parse_target, resolve_target
    suites, errors = load_suites([str(root / "testSuite")])
    if errors:
        raise SystemExit(f"broken sample suites: {errors}")
    if mix == "sample":
        base = [Job(s, resolve_target(suite_target=s.target, base=root)) for s in suites]
    elif mix == "long":
        long_suites = [s for s in suites if len(s.steps) >= 4]
        base = [Job(s, resolve_target(suite_target=s.target, base=root)) for s in long_suites]
        base += [Job(s, parse_target(LEGACY_FLOW, "aws-lex-bot", base=root)) for s in long_suites]
    elif mix == "lex":
        base = [Job(s, resolve_target(suite_target=s.target, base=root)) for s in suites
                if Path(s.path).name in LEX_SUITES]
    else:
        raise SystemExit(f"unknown mix {mix}")
    return (base * (calls // len(base) + 1))[:calls]


def main_thread_sched():
    """(seconds on a CPU, seconds waiting for one) of this thread, from /proc (Linux): wall time
    minus both is the time it was blocked (I/O, fsync, waiting for workers), whatever the load."""
    try:
        on_cpu, waiting, _slices = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat").read_text().split()
    except OSError:
        return 0.0, 0.0
    return int(on_cpu) / 1e9, int(waiting) / 1e9


def child(mix, calls, workers, wire, profile, root=ROOT):
    """Runs in the subprocess: prints one JSON line of figures. `root` is the checkout whose
    code plays the calls (an older commit's, for --against: it may lack workers and wire)."""
    sys.path.insert(0, str(root))
    from app.runner import OfflineRunner
    from app.store import ResultStore
    os.chdir(root)
    jobs = mix_jobs(mix, calls, root)
    accepted = inspect.signature(OfflineRunner).parameters
    options = {key: value for key, value in (("workers", workers), ("wire", wire))
               if key in accepted or value not in (1, False)}
    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "db.json")
        runner = OfflineRunner(store, concurrency=50, **options)
        profiler = cProfile.Profile() if profile else None
        cpu, wall, sched = time.process_time(), time.perf_counter(), main_thread_sched()
        if profiler:
            profiler.enable()
        result = runner.run(jobs)
        if profiler:
            profiler.disable()
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        on_cpu, waiting = (after - before for after, before in zip(main_thread_sched(), sched))
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        store.close()
        db_bytes = (Path(tmp) / "db.json").stat().st_size
    statuses = {}
    summaries = getattr(result, "summaries", None) or getattr(result, "documents", [])  # older code
    for summary in summaries:
        statuses[summary["status"]] = statuses.get(summary["status"], 0) + 1
    figures = {"mix": mix, "calls": calls, "workers": workers, "wire": wire, "wall": wall,
               "cpu": cpu + children.ru_utime + children.ru_stime, "statuses": statuses,
               "parent_cpu": cpu, "workers_cpu": children.ru_utime + children.ru_stime,
               "calls_here": getattr(result, "calls_here", calls),
               "main_on_cpu": on_cpu, "main_waiting_for_cpu": waiting,
               "call_seconds": sum(s.get("virtualSeconds") or 0 for s in summaries),
               "peak_mb": peak_rss_mb_of("self") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "worker_peak_mb": children.ru_maxrss / 1024, "db_mb": db_bytes / 1e6}
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    print(json.dumps(figures))


def measure(mix, calls, workers, wire=False, profile=False, root=None):
    command = [sys.executable, __file__, "--child", mix, str(calls), str(workers)]
    command += ["--wire"] * wire + ["--profile"] * profile + ["--root", str(root)] * bool(root)
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    if profile:
        print(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(r, one=None):
    rate = r["calls"] / r["wall"]
    scaling = f"  {rate / (one['calls'] / one['wall']):.2f}x one worker" if one else ""
    worker = ""
    if r["workers"] > 1:
        worker = (f", largest worker {r['worker_peak_mb']:.0f} MB; CPU ms per call: parent "
                  f"{1000 * r['parent_cpu'] / r['calls']:.2f}, workers {1000 * r['workers_cpu'] / r['calls']:.2f}")
    return (f"  {r['mix']:<6} {'wire' if r['wire'] else 'fast'}  workers {r['workers']}:  "
            f"{rate:6.0f} calls/s{scaling}   {r['calls'] / r['cpu']:6.0f} calls per CPU-second   "
            f"{r['call_seconds'] / r['wall']:7.0f} simulated s per wall s   peak {r['peak_mb']:.0f} MB"
            f"{worker}   {r['statuses']}")


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
    return times


def against(rev, calls, pairs):
    """The sample mix, one worker: this checkout and commit `rev`, alternately, `pairs` times."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "reference"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), rev], cwd=ROOT,
                       check=True)
        try:
            print(f"\nsample mix, 1 worker, {calls} calls, alternating with commit {rev}:")
            ratios = []
            for number in range(pairs):
                here = measure("sample", calls, 1)
                there = measure("sample", calls, 1, root=tree)
                here_rate, there_rate = here["calls"] / here["cpu"], there["calls"] / there["cpu"]
                ratios.append(here_rate / there_rate)
                print(f"  pair {number + 1}: this checkout {here_rate:6.0f}, {rev} {there_rate:6.0f} "
                      f"calls per CPU-second: {ratios[-1]:.2f}x   load {load()}", flush=True)
            print(f"  median {statistics.median(ratios):.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x)")
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--mixes", default="sample,long,lex")
    parser.add_argument("--repeat", type=int, default=3, help="runs of `python main.py`")
    parser.add_argument("--profile", action="store_true", help="cProfile the sample mix, one worker")
    parser.add_argument("--against", metavar="REV", help="also measure commit REV, alternating")
    parser.add_argument("--pairs", type=int, default=3, help="alternating runs with --against")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    parser.add_argument("--wire", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mix, calls, workers = args.child
        return child(mix, int(calls), int(workers), args.wire, args.profile, args.root)
    print(f"machine: {machine()}")
    print(f"load before: {load()}")
    print(f"\n{args.calls} calls per row, concurrency 50 per worker:")
    for mix in args.mixes.split(","):
        one = measure(mix, args.calls, 1, profile=args.profile and mix == "sample")
        print(row(one), flush=True)
        if args.workers > 1:
            print(row(measure(mix, args.calls, args.workers), one), flush=True)
        if mix == "sample":
            print(row(measure(mix, args.calls, 1, wire=True)), flush=True)
        print(f"  load now: {load()}", flush=True)
    if args.against:
        against(args.against, args.calls, args.pairs)
    if args.repeat:
        times = main_py(args.repeat)
        print(f"\n`python main.py` (5 sample suites, start-up included), {args.repeat} runs: "
              f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
