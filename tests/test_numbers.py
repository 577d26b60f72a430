import pytest

from app.numbers import number_words, read_number


@pytest.mark.parametrize("said, value, used, ordinal", [
    ("one hundred twenty five dollars", 125, 4, False),
    ("a hundred and five", 105, 4, False),
    ("two thousand", 2000, 2, False),
    ("twelve hundred", 1200, 2, False),
    ("one million two hundred thousand", 1_200_000, 5, False),
    ("one two three", 1, 1, False),                # digits read one by one
    ("eight hundred five five five", 800, 2, False),
    ("eight hundred five 5 5", 800, 2, False),      # a recognizer mixing words and digits
    ("eight hundred five dollars", 805, 3, False),
    ("twenty first", 21, 2, True),
    ("three hundred and first", 301, 4, True),
    ("zero zero", 0, 1, False),
])
def test_read_number_reads_what_english_allows(said, value, used, ordinal):
    assert read_number(said.split(), 0) == (value, used, ordinal)


def test_words_that_are_not_numbers():
    assert read_number(["hundred"], 0) is None and read_number(["press"], 0) is None
    assert read_number(["a", "new", "message"], 0) is None


@pytest.mark.parametrize("value", [0, 7, 19, 20, 45, 100, 125, 2000, 10_001, 1_234_567])
def test_number_words_round_trip(value):
    assert read_number(number_words(value).split(), 0)[0] == value
