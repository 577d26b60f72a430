"""Suite generation speed: wall time of `generate()` (exploration, set cover, naming; no writing,
no verification) on flows users generate for.

- tests/fixtures/generate/AcmeMenu.json with AcmeHelper_Export.json: a DTMF menu of five keys and
  a Lex bot of four intents (plus a Lambda whose answer is compared and an hours check);
- the sample flow with its bot, in the flow language and the older export format.

Prints, per flow: calls placed, suites kept, branches reached, and the median / min wall time and
the median CPU time (what a shared machine disturbs least) of `--repeat` runs in this process (after one warm-up), with the load average before and after,
since the machine may be shared. The goal for the five-key / four-intent flow is under 1 s.

Run: python bench/generate_speed.py [--repeat 5]
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import ROOT, machine  # noqa: E402

FLOWS = [
    ("five-key menu + four-intent bot", "tests/fixtures/generate/AcmeMenu.json",
     "tests/fixtures/generate/AcmeHelper_Export.json"),
    ("sample flow + bot", "aws-connect-contact-flows/SalesIVR.json", "aws-lex-bot"),
    ("legacy sample + bot", "aws-connect-contact-flows/legacy/SalesIVR.json", "aws-lex-bot"),
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.chdir(ROOT)
    from app.generate.pipeline import generate
    from app.targets import parse_target
    print(machine())
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for label, flow, bot in FLOWS:
        target = parse_target(flow, bot)
        gen = generate(target)          # warm-up: imports, first Flask app
        times, cpu = [], []
        for _ in range(args.repeat):
            started, started_cpu = time.perf_counter(), time.process_time()
            gen = generate(target)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        print(f"{label:34} {gen.calls:4d} calls  {len(gen.suites):3d} suites  "
              f"{len(gen.reached):3d} branches  wall median {statistics.median(times):.3f} s "
              f"(min {min(times):.3f} s)  CPU median {statistics.median(cpu):.3f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
