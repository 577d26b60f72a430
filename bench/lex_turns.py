"""How long the offline Lex takes per turn and per bot load, on the public bots of the corpus.

Every paraphrase of tests/fixtures/real/lex/paraphrases.json is played as the first turn of a
new session, a few rounds over, and the per-turn latencies are printed by bot (p50, p99), with
the load time of each export and the paraphrase hit rate.

    python bench/lex_turns.py [--rounds N] [--corpus FOLDER]

FOLDER (default tests/fixtures/real/lex) holds the exports and their paraphrases.json, such as
the listed bots bench/corpus_listed.py copies out.
"""
import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path

from _util import ROOT, load, machine, ms, percentile

from app.simulator.lex import LexBot  # noqa: E402

CORPUS = ROOT / "tests" / "fixtures" / "real" / "lex"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    options = parser.parse_args()
    rounds, corpus = options.rounds, options.corpus
    print(machine(), f"load {load()}")
    cases = json.loads((corpus / "paraphrases.json").read_text())
    every, hits, total = [], 0, 0
    print(f"{'bot':<48} {'load ms':>8} {'turn p50':>9} {'turn p99':>9}")
    for name in sorted(n for n in cases if not n.startswith("_")):
        started = time.perf_counter()
        bot = LexBot.load(corpus / name)
        bot.model
        loaded = time.perf_counter() - started
        times = []
        for _ in range(rounds):
            for said, want in cases[name]:
                session = bot.new_session(today=date(2026, 3, 4))
                started = time.perf_counter()
                reply = session.turn(said)
                times.append(time.perf_counter() - started)
                got = None if reply.intent in (None, "FallbackIntent") else reply.intent
                hits, total = hits + (got == want), total + 1
        every += times
        print(f"{name[:48]:<48} {ms(loaded):>8} {ms(percentile(times, 50)):>9} "
              f"{ms(percentile(times, 99)):>9}")
    print(f"all turns: p50 {ms(percentile(every, 50))} ms, p99 {ms(percentile(every, 99))} ms; "
          f"paraphrase hit rate {hits / total:.0%} ({hits // rounds}/{total // rounds})")
    print(f"load {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
