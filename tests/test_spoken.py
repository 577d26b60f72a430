import pytest

from app.spoken import normalize, words


@pytest.mark.parametrize("raw, expected", [
    ("Your balance is $1,250.50.", "your balance is 1250.5 dollars"),
    ("one thousand two hundred fifty dollars and fifty cents", "1250.5 dollars"),
    ("fifty cents", "0.5 dollars"),
    ("$5.00", "5 dollars"),
    ("5.5%", "5.5 percent"),
    ("five point five percent", "5.5 percent"),
    ("We open at 9 a.m. and close at 5:00 PM", "we open at 9 am and close at 5 pm"),
    ("three o'clock", "3"),
    ("It's 3:30", "it is 3 30"),
    ("the second of March, one second", "the 2nd of march 1 second"),
    ("Press # or *", "press pound or star"),
    ("I'm sure we're ok, don't worry", "i am sure we are ok do not worry"),
    ("nineteen oh five", "19 0 5"),
    ("Uh, please hold", "please hold"),
])
def test_one_form_for_what_can_be_said_two_ways(raw, expected):
    assert normalize(raw) == expected


def test_strict_words_are_numbers_days_months_and_names():
    strict = {w.text for w in words("Thank you for calling Acme Bank on Monday, March 3. I will help.") if w.strict}
    assert strict == {"acme", "bank", "monday", "march", "3"}
    assert [w.text for w in words("PRESS ONE FOR SALES") if w.strict] == ["1"]   # all capitals: no names


def test_a_scale_ordinal_alone_is_a_word_not_a_number():
    """Found by test_lex's hypothesis test: "millionth" alone made normalize() raise."""
    from app.spoken import normalize
    assert normalize("MILLIONTH") == "millionth"
    assert normalize("the hundredth time") == "the hundredth time"
    assert normalize("the one millionth caller") == "the 1000000th caller"
