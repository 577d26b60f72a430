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


def test_markup_with_a_bracket_inside_a_quoted_attribute_is_stripped_whole():
    """A public flow (c3-amazon-connect) ships SSML whose attribute values are template tokens,
    `volume="<<speakingVolume>>"`: the caller hears the sentence, not the tail of the tag."""
    from app.spoken import strip_markup
    from app.simulator.ssml import spoken_seconds
    ssml = ('<speak><prosody volume="<<speakingVolume>>" rate="<<speakingRate>>">'
            'There are no completed transactions.</prosody></speak>')
    assert strip_markup(ssml) == "There are no completed transactions."
    assert strip_markup('<speak>Hi<break time="2s"/>there</speak>') == "Hi there"
    assert spoken_seconds('<speak>one<break time="2s"/>two</speak>') == spoken_seconds("one two") + 2
    assert spoken_seconds(ssml) == spoken_seconds("There are no completed transactions.")
