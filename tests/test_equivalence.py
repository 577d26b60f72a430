import pytest

from app.equivalence import joins, same


@pytest.mark.parametrize("expected, heard", [
    ("for", "4"), ("to", "2"), ("to", "too"), ("hear", "here"), ("account", "accounts"),
    ("cancelled", "canceled"), ("favourite", "favorite"), ("centre", "center"),
    ("organise", "organize"), ("dr", "doctor"), ("ok", "okay"),
    ("gb", "gigabytes"), ("lbs", "pounds"), ("mins", "minutes"),   # units text-to-speech reads out
    ("pharmacy", "pharmacies"), ("pharmacys", "pharmacies"),          # "pharmacy's" / "pharmacies"
    ("ste", "suite"), ("co", "company"), ("thru", "through"), ("til", "until"),
    ("pound", "number"),                                           # "#3": "number 3"
])
def test_what_a_recognizer_writes_for_the_same_word(expected, heard):
    assert same(expected, heard)


@pytest.mark.parametrize("expected, heard", [
    ("monday", "sunday"), ("acme", "apex"), ("later", "latter"), ("desert", "dessert"),
    ("2", "to"), ("quite", "quiet"), ("form", "from"), ("price", "prize"), ("bought", "brought"),
    ("no", "number"), ("number", "no"),                            # a negation is never the number sign
])
def test_different_words_are_never_the_same(expected, heard):
    assert not same(expected, heard)


def test_strict_words_only_match_as_spelled():
    assert same("acme", "acme", strict=True) and not same("johnson", "jonson", strict=True)
    assert same("pharmacys", "pharmacies", strict=True)       # one sound, written two ways
    assert not same("days", "dies") and not same("acme", "acmes", strict=True)


def test_compounds_and_run_together_contractions():
    assert joins(("voicemail",), ("voice", "mail")) and joins(("log", "in"), ("login",))
    assert joins(("it", "is"), ("its",)) and joins(("thank", "you"), ("thanks",))
    assert not joins(("voicemail",), ("voice", "male"))


def test_a_contraction_heard_for_its_homophone():
    """"you're" for "your", "they're" for "their"/"there": one sound, written either way."""
    assert joins(("your",), ("you", "are")) and joins(("you", "are"), ("your",))
    assert joins(("their",), ("they", "are")) and joins(("there",), ("they", "are"))
    assert not joins(("your",), ("you", "were")) and not joins(("year",), ("you", "are"))
