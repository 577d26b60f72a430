"""The calibration corpora (tests/fixtures/calibration_corpus.json and the held-out
calibration_heldout.json) and how each pair is judged.

A pair is what a suite expects and what the IVR actually says. The IVR's words go through the
realistic recognizer at a seed, as in an offline run, and the default matching (fuzzy, or the
pair's `match`, no threshold) judges the transcript. Regressions must fail and rephrasings must
pass at every seed. Shared by tests/test_calibration.py, tests/test_calibration_heldout.py and
bench/matching_calibration.py.
"""
import json
from dataclasses import dataclass
from pathlib import Path

from app.matching import match
from app.simulator.recognizer import Recognizer

CORPUS = Path(__file__).parent / "fixtures" / "calibration_corpus.json"
# Written apart from CORPUS, before reading the matching's special cases: a check against
# fitting the rules to the corpus they were calibrated on.
HELDOUT = Path(__file__).parent / "fixtures" / "calibration_heldout.json"
SEEDS = range(20)


@dataclass(frozen=True)
class Pair:
    kind: str            # "regression" (must fail) or "rephrasing" (must pass)
    expect: tuple
    said: str
    match: str = "fuzzy"

    @property
    def must_pass(self):
        return self.kind == "rephrasing"

    def __str__(self):
        return f"{' | '.join(self.expect)} / {self.said}"


def load_pairs(path=CORPUS):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    pairs = []
    for kind, key in (("regression", "regressions"), ("rephrasing", "rephrasings")):
        for raw in data[key]:
            expect = raw["expect"] if isinstance(raw["expect"], list) else [raw["expect"]]
            pairs.append(Pair(kind, tuple(expect), raw["said"], raw.get("match", "fuzzy")))
    return pairs


def verdicts(pair, seeds=SEEDS):
    """(seed, transcript, MatchResult) for each seed: what the caller heard and the verdict."""
    out = []
    for seed in seeds:
        heard, _ = Recognizer("realistic", seed).transcribe(pair.said, key="calibration")
        out.append((seed, heard, match(list(pair.expect), heard, pair.match)))
    return out
