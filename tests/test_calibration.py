"""Every calibration pair gives the right verdict at each of 20 seeds of the realistic noise."""
import pytest

from tests.calibration import load_pairs, verdicts

PAIRS = load_pairs()


def test_the_corpus_is_large_enough_and_varied():
    kinds = [pair.kind for pair in PAIRS]
    assert kinds.count("regression") >= 40 and kinds.count("rephrasing") >= 40
    assert len({(pair.expect, pair.said) for pair in PAIRS}) == len(PAIRS)


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.kind}-{i}" for i, p in enumerate(PAIRS)])
def test_pair_gives_its_verdict_at_every_seed(pair):
    wrong = [(seed, heard, result.rule, result.diff) for seed, heard, result in verdicts(pair)
             if result.passed != pair.must_pass]
    assert not wrong, f"{pair}: {wrong[:3]}"


def test_regressions_fail_with_a_named_rule_and_a_diff():
    for pair in (p for p in PAIRS if not p.must_pass):
        (_, _, result), = verdicts(pair, seeds=[0])
        assert result.rule in ("number", "negation", "order", "missing-word", "extra-word", "score"), pair
        assert result.diff and result.detail, pair
