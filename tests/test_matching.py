"""The default matching follows meaning: each rule fails the right regressions, with a diff."""
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
    assert result.passed and result.score == 1.0 and result.rule is None


def test_best_phrase_wins():
    result = match(["goodbye", "press 1 for sales"], "press one for sales please")
    assert result.passed and result.phrase == "press 1 for sales"
    assert 0.8 < result.score < 1.0


def test_fuzzy_threshold_decides():
    heard = "who is your favourite programer now"
    assert match(["who is your favorite programmer?"], heard, threshold=0.8).passed
    result = match(["who is your favorite programmer?"], heard, threshold=0.99)
    assert not result.passed and result.rule == "score" and "[+now]" in result.diff


def test_wrong_text_fails():
    result = match(["press 1 for sales"], "our office is closed")
    assert not result.passed and result.score < 0.5


@pytest.mark.parametrize("expected, said, rule, detail, diff", [
    ("Press 2 for sales.", "Press 1 for sales.", "number", "expected 2, heard 1", "press [2→1] for sales"),
    ("Your balance is 125 dollars.", "Your balance is 152 dollars.", "number", "expected 125, heard 152",
     "your balance is [125→152] dollars"),
    ("We are open from 3 PM to 8 PM.", "We are open from 2 PM to 8 PM.", "number", "expected 3 8, heard 2 8",
     "we are open from [3→2] pm to 8 pm"),
    ("You can change your PIN online.", "You cannot change your PIN online.", "negation", "added: not",
     "you can [+not] change your pin online"),
    ("You cannot change your PIN online.", "You can change your PIN online.", "negation", "missing: not",
     "you can [-not] change your pin online"),
    ("Your account is active.", "Your account is inactive.", "negation", "active -> inactive",
     "your account is [active→inactive]"),
    ("Your order will arrive on Monday.", "Your order will arrive on Sunday.", "missing-word", "missing: monday",
     "your order will arrive on [monday→sunday]"),
    ("Thank you for calling Acme Bank.", "Thank you for calling Apex Bank.", "missing-word", "missing: acme",
     "thank you for calling [acme→apex] bank"),
    ("Press 1 for sales, press 2 for support.", "Press 2 for support, press 1 for sales.", "order",
     "numbers in another order: expected 1 2, heard 2 1", None),
    ("Say sales or support.", "Say support or sales.", "order", "heard out of order: sales, support",
     "say [sales→support] or [support→sales]"),
    ("A $25 fee has been applied.", "A $25 late fee has been applied.", "extra-word", "added: late",
     "a 25 dollars [+late] fee has been applied"),
    ("Press 1 to pay your bill.", "Press 1 to pay your bill in full.", "extra-word", "added: full",
     "press 1 to pay your bill [+in] [+full]"),
    ("This fare is refundable.", "This fare is non-refundable.", "negation", "refundable -> nonrefundable",
     "this fare is [refundable→nonrefundable]"),
])
def test_each_rule_names_the_regression_and_shows_the_diff(expected, said, rule, detail, diff):
    result = match([expected], said)
    assert (result.passed, result.rule, result.detail) == (False, rule, detail)
    assert diff is None or result.diff == diff


@pytest.mark.parametrize("expected, said", [
    ("Your balance is $125.", "your balance is one hundred twenty five dollars"),
    ("Your balance is 2,000 dollars.", "your balance is two thousand dollars"),
    ("Your balance is $1,250.50.", "your balance is one thousand two hundred fifty dollars and fifty cents"),
    ("Please enter your ten-digit account number.", "please enter your 10 digit account number"),
    ("We are open from 3 PM to 8 PM.", "we are open from three p.m. to eight p.m."),
    ("Your PIN is 1234.", "your pin is one two three four"),
    ("Call 1-800-555-0199.", "call one eight hundred five five five zero one nine nine"),
    ("The total is $5.", "the total is 5 dollars"),
    ("You can't change your PIN online.", "you cannot change your pin online"),
    ("Please leave a voicemail.", "please leave a voice mail"),
    ("Press 1 for sales.", "press one four sales"),
    ("Press 1 to continue.", "press 1 too continue"),
    ("Your order has been cancelled.", "your order has been canceled"),
    ("Welcome to the service centre.", "welcome to the service center"),
    ("It's open.", "its open"),
    ("Um, please hold.", "please hold"),
    ("Your call is important to us.", "your call is very important to us"),   # neutral extras
    ("To repeat, press star.", "to repeat press the star key"),
    ("Your package arrives Wednesday.", "your package arrives on wednesday"),
    ("Transfer to savings.", "transfer to your savings"),
    ("Your E-ZPass balance is low.", "your ez pass balance is low"),         # a boundary moved
    ("Visit acme.com/pay today.", "visit acme dot com slash pay today"),      # an address read out
    ("Visit www.acme-energy.com.", "visit w w w dot acme dash energy dot com"),
    ("Your confirmation code is X Y Z 4 7 2.", "your confirmation code is xyz 472"),
    ("For ATM locations, press 5.", "for a t m locations press five"),
    ("Your plan includes 10 GB of data.", "your plan includes ten gigabytes of data"),
    ("Para español, oprima nueve.", "para espanol oprima 9"),
    ("Your call is important to us.", "you're call is important to us"),
    ("Call 1-800-555-0142.", "call 1 eight hundred five 5 5 0 1 4 two"),
    ("The lobby is open 'til 6 PM.", "the lobby is open until six p.m."),    # not un-til
    ("Please have your Account No. 4471 ready.", "please have your account number 4471 ready"),
    ("Please have your Account No. 4471 ready.", "please have your account no. 4471 ready"),
    ("You are caller #3 in line.", "you are caller pound 3 in line"),
    ("You are caller #3 in line.", "you are caller number three in line"),
    ("Press # to skip this message.", "press pound two skip this message"),
])
def test_what_recognizers_do_still_passes(expected, said):
    result = match([expected], said)
    assert result.passed, (result.rule, result.diff)


@pytest.mark.parametrize("expected, said", [
    ("Press 1 to continue.", "press 12 continue"),         # a homophone is never a number
    ("Your PIN is 1234.", "your pin is one two four three"),
    ("It is later than you think.", "it is latter than you think"),   # real words, not spellings
    ("Hello, Maria.", "hello mario"),                       # names are strict
    ("Your order ships in March.", "your order ships in may"),
    ("Your account has been suspended.", "your account has been temporarily suspended"),
    ("Your code is X Y Z 4 7 2.", "your code is x y t 4 7 2"),          # spelled letters are strict
    ("Para español, oprima nueve.", "para espanol oprima ocho"),
    ("You have no new messages.", "you have number new messages"),   # "no" is a negation
    ("Please say your account number.", "please say your account no"),
])
def test_distinct_words_and_numbers_fail(expected, said):
    assert not match([expected], said).passed


def test_contains_judges_the_best_stretch_and_a_negation_just_before_it():
    menu = "Welcome to Acme. Press 1 for sales. Press 2 for support. Press 0 for an operator."
    assert match(["press 2 for support"], menu, mode="contains").passed
    changed = match(["press 2 for support"], menu.replace("Press 2", "Press 3"), mode="contains")
    assert not changed.passed and changed.rule == "number" and "[2→3]" in changed.diff
    negated = match(["press 1 for sales"], "please do not press 1 for sales", mode="contains")
    assert not negated.passed and negated.rule == "negation"


def test_a_list_passes_on_any_phrase_and_reports_the_closest_when_none_does():
    phrases = ["Good morning, thanks for calling.", "Good afternoon, thanks for calling."]
    assert match(phrases, "good afternoon thanks for calling").phrase == phrases[1]
    result = match(phrases, "good evening thanks for calling")
    assert not result.passed and result.rule == "missing-word" and "→evening]" in result.diff


def test_exact_contains_regex_any():
    assert match(["press 1"], "Press one.", mode="exact").passed
    exact = match(["press 1"], "please press 1", mode="exact")
    assert not exact.passed and exact.rule == "exact" and exact.diff == "[+please] press 1"
    assert match(["press 1"], "welcome, please press one now", mode="contains").passed
    assert not match(["press 9"], "welcome, please press one now", mode="contains").passed
    assert match([r"press \d for sales"], "Press two for sales", mode="regex").passed
    assert not match([r"^sales"], "press 2 for sales", mode="regex").passed
    assert match([r".*not a valid selection.*"], "That is not a valid selection.", mode="regex").passed
    assert match([], "anything", mode="any").passed
    assert not match([], "", mode="any").passed


def test_nothing_heard_never_passes():
    result = match(["x"], "")
    assert not result.passed and result.rule == "nothing-heard"


@pytest.mark.parametrize("mode", ["fuzzy", "contains"])
def test_a_phrase_without_words_never_passes(mode):
    result = match(["..."], "press 1 for sales", mode)
    assert not result.passed and result.detail == "the expected phrase has no words"


def test_any_text_is_judged_without_an_error():
    import random
    import string

    from app.simulator.recognizer import Recognizer
    alphabet = string.printable + "²³½٣$%#*&@.,:-'’ \u00a0éßñ\u200b０１"
    pieces = "one hundred and a point oh dollars cents p m o'clock second $5 3:30 1,000 2nd 5% 9-5 can't".split()
    rng = random.Random(9)
    for i in range(600):
        text = ("".join(rng.choice(alphabet) for _ in range(rng.randrange(40))) if i % 2 else
                " ".join(rng.choice(pieces) for _ in range(rng.randrange(12))))
        heard, _ = Recognizer("realistic", i, error_rate=1.0).transcribe(text, "k")
        for mode in ("fuzzy", "contains", "exact"):
            result = match([text or "x"], heard, mode)
            assert 0.0 <= result.score <= 1.0 and (result.passed or result.rule)
