"""The matching calibration: how often the default matching gets a verdict wrong.

Plays every pair of tests/fixtures/calibration_corpus.json (or `--corpus FILE`, such as the
held-out tests/fixtures/calibration_heldout.json) through the realistic recognizer at
seeds 0-19 and prints the confusion matrix (false passes: a regression the matching let
through; false failures: a rephrasing it rejected), the rules that caught the regressions, and
any wrong verdicts. The goal is zero of each.

    python bench/matching_calibration.py [--seeds 20] [--corpus FILE] [--all]
"""
import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.calibration import CORPUS, load_pairs, verdicts  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=CORPUS,
                        help="a corpus file in the calibration format (default: %(default)s)")
    parser.add_argument("--all", action="store_true", help="print every wrong verdict, not the first 20")
    args = parser.parse_args()
    pairs = load_pairs(args.corpus)
    started = time.perf_counter()
    counts, rules, wrong = Counter(), Counter(), []
    for pair in pairs:
        for seed, heard, result in verdicts(pair, range(args.seeds)):
            counts[(pair.kind, result.passed)] += 1
            if not result.passed and not pair.must_pass and seed == 0:
                rules[result.rule] += 1
            if result.passed != pair.must_pass:
                wrong.append((pair, seed, heard, result))
    seconds = time.perf_counter() - started
    regressions = sum(p.kind == "regression" for p in pairs)
    print(f"{regressions} regressions + {len(pairs) - regressions} rephrasings, seeds 0-{args.seeds - 1}, "
          f"{sum(counts.values())} verdicts in {seconds:.1f} s")
    print()
    print(f"{'':22}{'verdict pass':>14}{'verdict fail':>14}")
    print(f"{'rephrasing (must pass)':22}{counts[('rephrasing', True)]:>14}{counts[('rephrasing', False)]:>14}")
    print(f"{'regression (must fail)':22}{counts[('regression', True)]:>14}{counts[('regression', False)]:>14}")
    print()
    print(f"false passes: {counts[('regression', True)]}   false failures: {counts[('rephrasing', False)]}")
    print("rules that caught the regressions (seed 0): "
          + ", ".join(f"{rule} {n}" for rule, n in rules.most_common()))
    print(f"corpus: {args.corpus}")
    for pair, seed, heard, result in (wrong if args.all else wrong[:20]):
        print(f"WRONG seed {seed}: {pair} -> heard {heard!r}: {result.rule or 'passed'} {result.diff}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
