"""Built-in slot types resolve as the Lex V1/V2 built-in slot type guides describe."""
from datetime import date

import pytest

from app.matching import normalize
from app.simulator.lex.builtins import Context, resolve_builtin

WEDNESDAY = date(2020, 11, 25)          # the date the Lex guides use in their examples
V1, V2 = Context(WEDNESDAY, "V1"), Context(WEDNESDAY, "V2")


def value(kind, said, context=V2, free_text=False):
    return resolve_builtin(kind, normalize(said).split(), context, free_text)


@pytest.mark.parametrize("said, number", [
    ("one two three four", "1234"), ("twenty five", "25"), ("1234", "1234"),
    ("one hundred and five", "105"), ("two thousand twenty", "2020"),
    ("twelve thirty four", "1234"), ("zero seven", "07"), ("oh seven", "07"),
])
def test_number(said, number):
    assert value("AMAZON.NUMBER", said) == number


def test_not_a_number():
    assert value("AMAZON.NUMBER", "balance") is None
    assert value("AMAZON.NUMBER", "five apples") is None


@pytest.mark.parametrize("said, iso", [
    ("today", "2020-11-25"), ("now", "2020-11-25"), ("tomorrow", "2020-11-26"),
    ("day after tomorrow", "2020-11-27"), ("friday", "2020-11-27"),
    ("wednesday", "2020-11-25"), ("next wednesday", "2020-12-02"), ("next monday", "2020-11-30"),
    ("november twenty fifth", "2020-11-25"), ("december third", "2020-12-03"),
    ("the third of december", "2020-12-03"), ("dec 3rd", "2020-12-03"),
    ("november twentieth", "2021-11-20"),               # on or after the current date
    ("march 3rd 2022", "2022-03-03"), ("in three days", "2020-11-28"),
    ("next month", "2020-12-31"), ("next year", "2021-12-31"), ("the 30th", "2020-11-30"),
])
def test_date_on_or_after_the_call_date(said, iso):
    assert value("AMAZON.DATE", said) == iso


def test_week_month_and_year_differ_between_v1_and_v2_as_documented():
    # V1: a week is its first day; V2: a future week is the last day of the current week.
    assert value("AMAZON.DATE", "next week", V1) == "2020-11-30"
    assert value("AMAZON.DATE", "next week", V2) == "2020-11-29"
    assert value("AMAZON.DATE", "last week", V2) == "2020-11-16"
    assert value("AMAZON.DATE", "this month", V2) == "2020-11-01"
    assert value("AMAZON.DATE", "this month", V1) == "2020-11-30"


def test_not_a_date():
    for said in ("reservation", "15", "next thing", "the moon"):
        assert value("AMAZON.DATE", said) is None, said


@pytest.mark.parametrize("said, hhmm", [
    ("three thirty pm", "15:30"), ("3:30 PM", "15:30"), ("three thirty", "03:30"),
    ("ten a m", "10:00"), ("noon", "12:00"), ("midnight", "00:00"), ("half past four", "04:30"),
    ("quarter to five pm", "16:45"), ("seven in the evening", "19:00"),
    ("twelve am", "00:00"), ("fifteen forty five", "15:45"), ("in the morning", "MO"),
    ("afternoon", "AF"),
])
def test_time(said, hhmm):
    assert value("AMAZON.TIME", said) == hhmm


@pytest.mark.parametrize("said, iso", [
    ("ten minutes", "PT10M"), ("five hours", "PT5H"), ("three days", "P3D"),
    ("two days and five hours", "P2DT5H"), ("half an hour", "PT30M"), ("a week", "P1W"),
    ("forty five seconds", "PT45S"),
])
def test_duration(said, iso):
    assert value("AMAZON.DURATION", said) == iso


def test_names_come_from_name_like_words_not_any_word():
    assert value("AMAZON.FirstName".upper(), "john") == "John"
    assert value("AMAZON.FIRSTNAME", "jonh") is None         # too short to guess a typo
    assert value("AMAZON.FIRSTNAME", "margarett") == "Margaret"
    for word in ("reservation", "boston", "balance", "tomorrow"):
        assert value("AMAZON.FIRSTNAME", word) is None, word
    assert value("AMAZON.LASTNAME", "garcia") == "Garcia"
    assert value("AMAZON.LASTNAME", "reservation") is None


def test_places():
    assert value("AMAZON.CITY", "boston") == "Boston"
    assert value("AMAZON.CITY", "new york") == "New York"
    assert value("AMAZON.US_CITY", "london") is None
    assert value("AMAZON.CITY", "reservation") is None
    assert value("AMAZON.STATE", "north carolina") == "North Carolina"
    assert value("AMAZON.COUNTRY", "japan") == "Japan"


def test_alphanumeric_takes_spelled_runs_and_in_free_text_only_codes():
    assert value("AMAZON.ALPHANUMERIC", "j f k") == "JFK"
    assert value("AMAZON.ALPHANUMERIC", "a b 1 2 3") == "AB123"
    assert value("AMAZON.ALPHANUMERIC", "abc123") == "ABC123"
    assert value("AMAZON.ALPHANUMERIC", "smith") == "smith"                 # asked for it
    assert value("AMAZON.ALPHANUMERIC", "smith", free_text=True) is None    # said in passing


def test_phone_email_confirmation_postcodes():
    assert value("AMAZON.PHONENUMBER", "five five five one two three four five six seven") \
        == "5551234567"
    assert value("AMAZON.PHONENUMBER", "twelve") is None
    assert value("AMAZON.EMAILADDRESS", "jo dot smith at example dot com") == "jo.smith@example.com"
    assert value("AMAZON.EMAILADDRESS", "jo smith") is None
    assert value("AMAZON.CONFIRMATION", "yeah") == "Yes"
    assert value("AMAZON.CONFIRMATION", "nope") == "No"
    assert value("AMAZON.CONFIRMATION", "I don't know") == "Don't know"
    assert value("AMAZON.POSTALCODE", "nine oh two one oh") == "90210"
    assert value("AMAZON.UKPOSTALCODE", "sw1a 1aa") == "SW1A1AA"


def test_a_type_without_a_resolver_takes_one_word_only_when_asked():
    assert value("AMAZON.GENRE", "jazz") == "jazz"
    assert value("AMAZON.GENRE", "jazz", free_text=True) is None
    assert value("AMAZON.GENRE", "smooth jazz") is None


def test_a_type_without_a_resolver_takes_a_word_of_digits_too():
    """A catalog type (AMAZON.MusicVideo, used by a public bot for an age) takes "35"."""
    assert value("AMAZON.MUSICVIDEO", "35") == "35"
    assert value("AMAZON.MUSICVIDEO", "35", free_text=True) is None
