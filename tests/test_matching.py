import pytest

from app.matching import match, normalize


@pytest.mark.parametrize("raw, expected", [
    ("Press ONE for sales!", "press 1 for sales"),
    ("  Hello,\tand   welcome. ", "hello and welcome"),
    ("twenty one pilots", "21 pilots"),
    ("<speak>Hi <break time='1s'/> there</speak>", "hi there"),
    ("Don't press zero", "do not press 0"),
])
def test_normalize(raw, expected):
    assert normalize(raw) == expected


def test_number_words_equal_digits():
    result = match(["press one for sales"], "Press 1 for sales.")
    assert result.passed and result.score == 1.0


def test_best_phrase_wins():
    result = match(["goodbye", "press 1 for sales"], "press one for sales please")
    assert result.phrase == "press 1 for sales"
    assert 0.8 < result.score < 1.0


def test_fuzzy_threshold_decides():
    heard = "who is your favourite programer today"
    assert match(["who is your favorite programmer?"], heard, threshold=0.8).passed
    assert not match(["who is your favorite programmer?"], heard, threshold=0.99).passed


def test_wrong_text_fails():
    result = match(["press 1 for sales"], "our office is closed")
    assert not result.passed and result.score < 0.5


def test_exact_contains_regex_any():
    assert match(["press 1"], "Press one.", mode="exact").passed
    assert not match(["press 1"], "please press 1", mode="exact").passed
    assert match(["press 1"], "welcome, please press one now", mode="contains").passed
    assert not match(["press 9"], "welcome, please press one now", mode="contains", threshold=0.95).passed
    assert match([r"press \d for sales"], "Press two for sales", mode="regex").passed
    assert not match([r"^sales"], "press 2 for sales", mode="regex").passed
    assert match([], "anything", mode="any").passed
    assert not match([], "", mode="any").passed


def test_nothing_heard_never_passes():
    assert not match(["x"], "").passed
