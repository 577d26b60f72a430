"""Worker scaling: the sample mix at 1 and N workers, in alternation, several rounds per call count.

On a machine other work shares, one pair of runs says little: the load moves between them. So
each round runs 1 worker then N workers (alternating which goes first), each in a fresh
subprocess (bench/offline_throughput.py's child: real results store, concurrency 50 per
process), and prints per round the load average, both wall rates and their ratio, and the CPU
per call of the parent process and of its workers (which depends less on the load), the share
of calls the parent played itself, and a CPU-bound estimate of the scaling on free cores: one
worker's CPU time over the busiest process's (the parent's, or a worker's on average), since
the processes share the calls out until the last chunk and finish together. The medians per
call count close the output. Third, from the main thread's /proc schedstat: its wall time
minus the time it waited for a core (on a CPU, or blocked on I/O, fsync or the workers): what
its wall time would be with a core always free for it.

Run: python bench/worker_scaling.py [--calls 2000,5000,10000] [--workers N] [--rounds 3]
"""
import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import load, machine  # noqa: E402
from offline_throughput import measure  # noqa: E402


def rate(r):
    return r["calls"] / r["wall"]


def cpu_ms(r, key):
    return 1000 * r[key] / r["calls"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", default="2000,5000,10000")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mix", default="sample")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"{args.mix} mix, 1 vs {args.workers} workers, {args.rounds} alternating rounds per call count")
    medians = {}
    for calls in [int(c) for c in args.calls.split(",")]:
        ratios, estimates, free_ratios = [], [], []
        for round_number in range(args.rounds):
            before = load()
            order = (1, args.workers) if round_number % 2 == 0 else (args.workers, 1)
            runs = {workers: measure(args.mix, calls, workers) for workers in order}
            one, many = runs[1], runs[args.workers]
            ratios.append(rate(many) / rate(one))
            here = many["calls_here"]
            busiest = max(many["parent_cpu"], many["workers_cpu"] / max(1, args.workers - 1))
            estimates.append(one["cpu"] / busiest)
            free = {w: r["wall"] - r["main_waiting_for_cpu"] for w, r in runs.items()}
            free_ratios.append(free[1] / free[args.workers])
            print(f"{calls:6d} calls  main thread on CPU + blocked (wall minus waiting for a core): "
                  f"1 worker {free[1]:.2f} s, {args.workers} workers {free[args.workers]:.2f} s "
                  f"= {free_ratios[-1]:.2f}x (blocked: {free[1] - one['main_on_cpu']:.2f} s, "
                  f"{free[args.workers] - many['main_on_cpu']:.2f} s)")
            print(f"{calls:6d} calls  load {before}:  1 worker {rate(one):5.0f} calls/s "
                  f"({cpu_ms(one, 'cpu'):.2f} ms CPU/call);  {args.workers} workers {rate(many):5.0f} "
                  f"calls/s = {ratios[-1]:.2f}x;  CPU ms/call: parent {cpu_ms(many, 'parent_cpu'):.2f} "
                  f"(played {here / calls:.0%}), workers {cpu_ms(many, 'workers_cpu'):.2f}, total "
                  f"{cpu_ms(many, 'cpu'):.2f}; CPU-bound estimate on free cores {estimates[-1]:.2f}x = "
                  f"{one['cpu'] / many['cpu']:.2f} (1 worker's CPU over all {args.workers}') x "
                  f"{many['cpu'] / busiest:.2f} (all's over the busiest's)  "
                  f"{many['statuses']}", flush=True)
        medians[calls] = (statistics.median(ratios), statistics.median(estimates),
                          statistics.median(free_ratios))
    print("median scaling (wall; CPU-bound estimate; main threads' wall minus waiting for a core): " +
          ", ".join(f"{c} calls {m:.2f}x; {e:.2f}x; {f:.2f}x" for c, (m, e, f) in medians.items()))
    print(f"load after: {load()}")


if __name__ == "__main__":
    main()
