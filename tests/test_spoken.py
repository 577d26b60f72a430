import pytest

from app.spoken import heard_words, normalize, words


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
    ("Para español, oprima nueve.", "para espanol oprima 9"),     # accents; Spanish digits
    ("This fare is non-refundable.", "this fare is nonrefundable"),
    ("non refundable", "nonrefundable"),
    ("Thank you for calling AT&amp;T.", "thank you for calling at and t"),
    ('<speak>Enter your <sub alias="Social Security number">SSN</sub>.</speak>',
     "enter your social security number"),
    ("Call +1 415 555 0123", "call plus 1 415 555 0123"),
    ("ends in oh oh seven", "ends in 0 0 7"),                    # "oh" in digits read one by one
    ("zip nine oh two one oh", "zip 9 0 2 1 0"),
    ("oh 5 minutes", "oh 5 minutes"),                            # two words: not a digit string
    ("a hundred and 1 point five degrees", "101.5 degrees"),    # a number's end written in digits
    ("two thousand and 5", "2005"),
    ("press 100 and 1", "press 100 and 1"),
    ("one point five million dollars", "1500000 dollars"),      # decimals read digit by digit
    ("nineteen point nine nine percent", "19.99 percent"),
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


def heard(text):
    return " ".join(word.text for word in heard_words(text))


@pytest.mark.parametrize("raw, expected", [
    ("For ATM locations", "for atm locations"),
    ("for a t m locations", "for atm locations"),                # letters read one by one
    ("Your code is X Y Z 4 7 2.", "your code is xyz 4 7 2"),
    ("plan a for a new account", "plan a for a new account"),    # a single letter stays
    ("Visit www.acme-energy.com/pay.", "visit www dot acme dash energy dot com slash pay"),
    ("help@acme.com", "help at acme dot com"),
    ("go to acme dot com forward slash help", "go to acme dot com slash help"),
    ("Pay by card, e.g. Visa.", "pay by card for example visa"),
    ("Today's high is 72°F.", "todays high is 72 degrees fahrenheit"),
    ("Your Medicare ID is 1EG4-TE5-MK72.", "your medicare id is 1 eg 4 te 5 mk 72"),

    ("one e g four t e five m k seven two", "1 eg 4 te 5 mk 7 2"),
    ("U.S. and 9 a.m. and 2.5 lbs", "us and 9 am and 2.5 lbs"),  # not addresses
])
def test_a_transcript_renders_letters_and_addresses_as_read_aloud(raw, expected):
    assert heard(raw) == expected


def test_spelled_letters_are_one_strict_word_but_words_keeps_them_apart():
    assert [(w.text, w.strict) for w in heard_words("k 7 m q 2")] == [("k", False), ("7", True),
                                                                      ("mq", True), ("2", True)]
    assert normalize("j f k at acme.com") == "j f k at acme com"   # Lex and regex read letters


def test_ssml_is_read_as_text_to_speech_says_it():
    from app.spoken import strip_markup
    assert strip_markup("<speak>AT&amp;T <SUB ALIAS='doctor'>Dr.</SUB> Smith</speak>") == "AT&T doctor Smith"
    assert strip_markup('<speak>Press <say-as interpret-as="digits">1</say-as>.</speak>') == "Press 1 ."
def test_a_scale_ordinal_alone_is_a_word_not_a_number():
    """Found by test_lex's hypothesis test: "millionth" alone made normalize() raise."""
    from app.spoken import normalize
    assert normalize("MILLIONTH") == "millionth"
    assert normalize("the hundredth time") == "the hundredth time"
    assert normalize("the one millionth caller") == "the 1000000th caller"


def test_long_texts_are_read_but_not_remembered():
    """A webhook may post a 64 kB transcript; 4,096 of them must not stay in memory."""
    from app import spoken
    long_text = "press one for sales " * 200
    assert len(long_text) > spoken.REMEMBERED_CHARS
    assert spoken.words(long_text)[1].text == "1"
    size = spoken.words.cache_info().currsize
    spoken.words(long_text + "now")
    assert spoken.words.cache_info().currsize == size
    spoken.words("press two for support, now remembered")
    assert spoken.words.cache_info().currsize in (size + 1, 4096)
