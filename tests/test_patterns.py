import threading

import pytest

from app.errors import SuiteError
from app.matching import match
from app.patterns import UnsafePattern, check_pattern, search
from app.suite import parse_suite

LONG = "a" * 200_000 + "b"


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*b", r"(\w+\s?)+$", r"^(\s*\w+)*$", r"(a|b+)+"])
def test_nested_repetition_is_rejected(pattern):
    with pytest.raises(UnsafePattern, match="repeats a repetition"):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=press)press", r"(?<!not )valid"])
def test_what_re2_cannot_run_is_rejected(pattern):
    with pytest.raises(UnsafePattern, match="linear time"):
        check_pattern(pattern)


@pytest.mark.parametrize("pattern", [r".*not a valid selection.*", r"press \d for (sales|support)",
                                     r"(\d+,)*\d+", r"^hello"])
def test_ordinary_patterns_pass(pattern):
    check_pattern(pattern)


def test_validate_names_file_step_and_field():
    with pytest.raises(SuiteError, match=r'^x\.json: step 2: "expect": regular expression .*\(a\+\)\+'):
        parse_suite([{"expect": "hi"}, {"expect": [r"(a+)+$"], "match": "regex"}], "x.json")


def finishes(fn, seconds=5):
    """Run fn in a thread; whether it returned within `seconds` (a hang never does)."""
    done = threading.Event()
    threading.Thread(target=lambda: (fn(), done.set()), daemon=True).start()
    return done.wait(seconds)


def test_backtracking_patterns_run_in_linear_time_at_match_time():
    # Validation would reject these, but a stored run or a webhook judges whatever it is given.
    assert finishes(lambda: search(r"(a+)+$", LONG + "!"))
    assert finishes(lambda: search(r"(a|aa)*c", LONG))
    assert finishes(lambda: match([r"(a+)+$"], "a " * 50_000 + "b", mode="regex"))
    assert search(r"(a+)+$", "aaa") and not search(r"(a)\1", "aa")


def test_a_webhook_judging_an_exponential_for_backtracking_pattern_answers(runs, phone, store):
    # (a|aa)*c passes validation (no nested repetition) but backtracks exponentially in `re`.
    suite = parse_suite([{"expect": [r"(a|aa)*c"], "match": "regex", "timeout": 3}], "slow.json")
    run_id = runs.create(suite)
    call = phone(["a" * 30_000], run_id=run_id)
    assert finishes(call.run, seconds=10)
    (result,) = store.get(run_id)["results"]
    assert result["status"] == "failed" and result["rule"] == "regex"
