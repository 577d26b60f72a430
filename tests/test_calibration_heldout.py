"""The held-out corpus, written apart from the calibration corpus and before reading the
matching's special cases, gives no wrong verdict: the rules generalize beyond the pairs they were
tuned on. Played at a few seeds here; bench/matching_calibration.py --corpus plays all 20."""
import pytest

from app.meaning import RULES
from tests.calibration import HELDOUT, load_pairs, verdicts

PAIRS = load_pairs(HELDOUT)
SEEDS = range(5)


def test_the_held_out_corpus_is_large_and_has_no_duplicates():
    kinds = [pair.kind for pair in PAIRS]
    assert len(PAIRS) >= 150 and kinds.count("regression") >= 60 and kinds.count("rephrasing") >= 60
    assert len({(pair.expect, pair.said) for pair in PAIRS}) == len(PAIRS)


def test_it_was_written_apart_from_the_calibration_corpus():
    calibration = {(pair.expect, pair.said) for pair in load_pairs()}
    assert not calibration & {(pair.expect, pair.said) for pair in PAIRS}


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.kind}-{i}" for i, p in enumerate(PAIRS)])
def test_held_out_pair_gives_its_verdict(pair):
    wrong = [(seed, heard, result.rule, result.diff) for seed, heard, result in verdicts(pair, SEEDS)
             if result.passed != pair.must_pass]
    assert not wrong, f"{pair}: {wrong[:3]}"


def test_held_out_regressions_fail_with_a_named_rule():
    for pair in (p for p in PAIRS if not p.must_pass):
        (_, _, result), = verdicts(pair, seeds=[0])
        assert result.rule in RULES and result.diff and result.detail, pair
