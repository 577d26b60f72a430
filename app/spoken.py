"""Spoken text as comparable words: one spelling for each thing a person can say.

A prompt is written ("Your balance is $1,250.50. We're open 9 a.m.-5 p.m.") and a transcript is
heard ("your balance is one thousand two hundred fifty dollars and fifty cents we are open 9 am
5 pm"). `words` turns both into the same list: lower case, no punctuation, contractions
expanded, numbers of any size as digits, money, percentages, times and ordinals in one form,
disfluencies ("um", "uh") gone. Each word also says whether it must be heard exactly (`strict`):
numbers, days, months and proper nouns (capitalized inside a sentence, like "Acme").
"""
import html
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache, wraps

from app.numbers import (NUMBER_WORDS, ORDINAL_WORDS, SCALE_ORDINALS, SCALES, is_digit_name, is_number_word,
                         ordinal_suffix, read_number)

DAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday today tomorrow "
                 "yesterday weekend weekday".split())
MONTHS = frozenset("january february march april may june july august september october "
                   "november december".split())
_DIGIT_WORDS = frozenset("zero one two three four five six seven eight nine".split())
DISFLUENCIES = frozenset("um umm uh uhh uhm er erm ah hmm mm mhm".split())

# A tag, its quoted attribute values read whole: XML allows ">" (and templating tools leave
# "<<name>>") inside quotes, and the tag ends only at a ">" outside them.
_TAG = re.compile(r"""<[^\s<>"'](?:"[^"]*"|'[^']*'|[^>"'])*>""")
# The digit words of the Spanish line nearly every US IVR has ("para español, oprima nueve"): a
# Spanish recognizer writes them as digits, an English one as the word.
_SPANISH_DIGITS = {word: str(value) for value, word in enumerate(
    "cero uno dos tres cuatro cinco seis siete ocho nueve diez".split())}

# A web or e-mail address ("www.acme-energy.com/pay"): its dots, dashes and slashes are read
# aloud ("acme dash energy dot com slash pay"); recognizers write them either way.
_ADDRESS = re.compile(r"\b(?:[a-z0-9][a-z0-9-]*\.)+[a-z]{2,}\b(?:/[\w\-./]*\w)?", re.I)
_ADDRESS_MARKS = str.maketrans({".": " dot ", "-": " dash ", "/": " slash "})
# What text-to-speech says for marks and Latin abbreviations a transcript writes out.
# Each is (a character the text must hold for the pattern to apply, pattern, as said).
_READ_ALOUD = [(".", _ADDRESS, lambda found: found.group(0).translate(_ADDRESS_MARKS)),
               # the number sign before a number is said "number": "caller #3", "Account No. 3"
               ("#", re.compile(r"#\s?(?=\d)"), " number "),
               (".", re.compile(r"\bno\.\s?(?=\d)", re.I), " number "),
               ("", re.compile(r"\bforward\s+slash\b", re.I), "slash"),
               (".", re.compile(r"\be\.\s?g\.", re.I), " for example "),
               (".", re.compile(r"\bi\.\s?e\.", re.I), " that is "),
               (".", re.compile(r"\betc\.", re.I), " et cetera "), (".", re.compile(r"\bvs\.", re.I), " versus "),
               ("°", re.compile(r"\s?°\s?F\b"), " degrees fahrenheit "),
               ("°", re.compile(r"\s?°\s?C\b"), " degrees celsius "), ("°", re.compile(r"\s?°"), " degrees "),
               # a code's letters and digits, said one after the other: "MK72" is "m k 7 2"
               ("", re.compile(r"(?<=[^\W\d_])(?=\d)"), " ")]
# SSML's <sub alias="Social Security number">SSN</sub>: text-to-speech says the alias.
_SUB_ALIAS = re.compile(r"""<sub\b[^>]*?\balias\s*=\s*(["'])(.*?)\1[^>]*>.*?</sub\s*>""", re.I | re.S)
# "9-5", "2–3 days": a range, said "to"; longer chains ("1-800-555-0199") are digit groups.
RANGE = re.compile(r"(?<![\d\-\u2013])(\d{1,2}(?:\s?[ap]\.?m\.?)?)\s?[\-\u2013]\s?(\d{1,2})(?![\d\-\u2013])", re.I)
_NUMBER = re.compile(r"^\d+(?:\.\d+)?(?:st|nd|rd|th)?$")
_SYMBOLS = [  # (pattern, replacement), applied in order to the written text
    (re.compile(r"[\u2018\u2019\u02bc`]"), "'"),
    (re.compile(r"\b(\d{1,2}):00\b"), r"\1"),
    (RANGE, r"\1 to \2"),
    (re.compile(r"[\u2013\u2014]"), " - "),
    (re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))"), ""),
    (re.compile(r"\$\s?(\d+(?:\.\d+)?)(\s+(?:thousand|million|billion)\b)?", re.I), r" \1\2 dollars "),
    (re.compile(r"(\d+(?:\.\d+)?)\s?%"), r"\1 percent "),
    (re.compile(r"\b(\d{1,2}):(\d\d)\b"), r"\1 \2"),
    (re.compile(r"\b([ap])\.\s?m\b\.?", re.I), r" \1m "),
    (re.compile(r"(\d)\s?([ap]m)\b", re.I), r"\1 \2"),
    (re.compile(r"(\d)(?!(?:st|nd|rd|th)\b)([a-z])", re.I), r"\1 \2"),
    (re.compile(r"&"), " and "),
    (re.compile(r"#"), " pound "),
    (re.compile(r"\*"), " star "),
    (re.compile(r"@"), " at "),
    (re.compile(r"\+"), " plus "),   # "+1 415...", as text-to-speech reads it
    (re.compile(r"(?<=\w)[-/](?=\w)"), " "),
    # "non-refundable", "non refundable", "nonrefundable": "non" is a prefix, never a word
    (re.compile(r"\b(non)\s+(?=[^\W\d_])", re.I), r"\1"),
]
_NOT_WORD = re.compile(r"(?<!\d)\.|\.(?!\d)|[^\w\s'.]|_")
_SENTENCE_END = re.compile(r"[.!?:;]['\")\]]*$")

# Contractions, with and without the apostrophe; "its", "well", "were" are real words, so
# their apostrophe-less forms are left to `equivalence` instead.
_IRREGULAR = {"can't": "can not", "cannot": "can not", "won't": "will not", "shan't": "shall not",
              "ain't": "is not", "let's": "let us", "y'all": "you all", "o'clock": "oclock"}
_SUFFIXES = (("n't", " not"), ("'re", " are"), ("'ll", " will"), ("'ve", " have"), ("'m", " am"),
             ("'d", " would"))
_IS_BEFORE = frozenset("it he she that what there here who where how when why this".split())
_BARE = {"dont": "do not", "doesnt": "does not", "didnt": "did not", "isnt": "is not",
         "arent": "are not", "wasnt": "was not", "werent": "were not", "cant": "can not",
         "couldnt": "could not", "wouldnt": "would not", "shouldnt": "should not",
         "wont": "will not", "havent": "have not", "hasnt": "has not", "hadnt": "had not",
         "im": "i am", "ive": "i have", "youre": "you are", "youve": "you have",
         "youll": "you will", "theyre": "they are", "theyve": "they have", "weve": "we have",
         "thats": "that is", "whats": "what is", "theres": "there is", "heres": "here is"}


@dataclass(frozen=True)
class Word:
    text: str
    strict: bool = False    # heard exactly or not at all: numbers, days, months, names

    @property
    def is_number(self):
        return bool(_NUMBER.match(self.text))


REMEMBERED_CHARS = 2000    # longer texts (rare, or a forged transcript) are read without being kept


def _remembered(function):
    """`function` of one text, its latest answers remembered for texts up to REMEMBERED_CHARS:
    prompts and transcripts repeat, but a webhook may post 64 kB ones, which must not pile up."""
    cached = lru_cache(maxsize=4096)(function)

    @wraps(function)
    def read(text):
        return cached(text) if text is None or len(text) <= REMEMBERED_CHARS else function(text)
    read.cache_info = cached.cache_info
    return read


@_remembered
def strip_markup(text):
    """Text as spoken: SSML/XML tags removed, character entities decoded ("AT&amp;T" is said
    "AT&T"), white space collapsed. Kept per text: an offline call strips each prompt twice (its
    length on the line, and what the recognizer hears)."""
    text = text or ""
    if "<" in text:
        text = _TAG.sub(" ", _SUB_ALIAS.sub(r" \2 ", text))
    return " ".join((html.unescape(text) if "&" in text else text).split())


def _without_accents(text):
    """"español" -> "espanol": an English recognizer writes foreign words without accents."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize(text):
    """The comparable form of `text` as one string of words."""
    return " ".join(word.text for word in words(text))


@_remembered
def words(text):
    """The comparable words of `text` (a tuple of `Word`)."""
    text = _without_accents(strip_markup(text))
    for pattern, replacement in _SYMBOLS:
        text = pattern.sub(replacement, text)
    shouting = text.upper() == text
    flat, sentence_start = [], True
    for raw in text.split():
        core = raw.strip("\"'()[]{},.!?;:")
        named = (not shouting and not sentence_start and core[:1].isupper()
                 and core.lower().split("'")[0] != "i")
        for piece in _NOT_WORD.sub(" ", raw.lower()).split():
            for word in _expand(piece.strip("'")).split():
                word = word.replace("'", "")
                if word and word not in DISFLUENCIES:
                    flat.append(Word(word, named or word in DAYS or word in MONTHS))
        sentence_start = bool(_SENTENCE_END.search(raw))
    return tuple(_spoken_numbers(flat))


@_remembered
def heard_words(text):
    """The words of `text` as a transcript may render them, for judging one against another.

    `words`, with an address's marks read out ("acme.com/pay" -> "acme dot com slash pay"),
    "e.g." and "°F" as said ("for example", "degrees fahrenheit"), a code's letters apart from
    its digits ("mk72" -> "mk 72") and letters read one by one as one word ("a t m" -> "atm").
    Kept out of `words`, which other readers (Lex slot values, `regex`, `exact`) take as written.
    """
    text = strip_markup(text)
    for mark, pattern, said in _READ_ALOUD:
        if mark in text:
            text = pattern.sub(said, text)
    return tuple(_spelled_letters(words(text)))


def _expand(piece):
    """A contraction as its words: "can't" -> "can not", "it's" -> "it is"."""
    if piece in _IRREGULAR:
        return _IRREGULAR[piece]
    if piece in _BARE:
        return _BARE[piece]
    for suffix, full in _SUFFIXES:
        if piece.endswith(suffix) and len(piece) > len(suffix):
            return piece[:-len(suffix)] + full
    stem, _, tail = piece.rpartition("'")
    if tail == "s" and stem in _IS_BEFORE:
        return f"{stem} is"
    return piece


def _spelled_letters(flat):
    """Letters read one by one as one word: "a t m" -> "atm", "x y z" -> "xyz", "i d" -> "id".
    A recognizer writes a spelled code or acronym either way; the letters are a fact, so strict."""
    out, run = [], []
    for word in list(flat) + [None]:
        if word is not None and len(word.text) == 1 and word.text.isalpha():
            run.append(word)
            continue
        if len(run) >= 2:
            out.append(Word("".join(w.text for w in run), True))
        else:
            out.extend(run)
        run = []
        if word is not None:
            out.append(word)
    return out


def _spoken_numbers(flat):
    """Number words as digits, then one form for decimals, money, clock times and ordinals."""
    return _spoken_units(_as_digits(flat))


def _as_digits(flat):
    """Every number, spelled or written, as one digit word: "one hundred twenty five" -> "125"."""
    texts = [word.text for word in flat]
    out, i = [], 0
    while i < len(flat):
        prev = texts[i - 1] if i else ""
        following = texts[i + 1] if i + 1 < len(texts) else ""
        if prev == "point" and texts[i] in _DIGIT_WORDS:   # decimals are read digit by digit:
            out.append(Word(str(NUMBER_WORDS[texts[i]]), True))   # "point five million" is .5 M
            i += 1
        elif _starts_number(texts, i, prev, following):
            value, i, ordinal = read_number(texts, i)
            if not ordinal:
                value, i = _and_digits(value, texts, i)
            out.append(Word(f"{value}{ordinal_suffix(value) if ordinal else ''}", True))
        elif _NUMBER.match(texts[i]):
            value, i = _digits_with_scale(texts, i)
            out.append(Word(value, True))
        elif texts[i] in _SPANISH_DIGITS:
            out.append(Word(_SPANISH_DIGITS[texts[i]], True))
            i += 1
        elif texts[i] == "oh" and _is_zero(texts, i, out):
            out.append(Word("0", True))
            i += 1
        else:
            out.append(flat[i])
            i += 1
    return out


def _spoken_units(flat):
    """What follows a number: "point 5", "p m", "o'clock", "dollars and 50 cents"."""
    texts = [word.text for word in flat]
    out, i = [], 0
    while i < len(flat):
        text = texts[i]
        following = texts[i + 1] if i + 1 < len(texts) else ""
        if out and out[-1].is_number and "." not in out[-1].text:
            if text == "point" and following.isdecimal():
                digits = following
                i += 2
                while i < len(texts) and texts[i].isdecimal() and len(texts[i]) == 1:
                    digits, i = digits + texts[i], i + 1
                out[-1] = Word(_scaled(f"{out[-1].text}.{digits}", texts, i), True)
                i += i < len(texts) and texts[i] in SCALES
                continue
            if text in ("p", "a") and following == "m":
                out.append(Word(text + "m"))
                i += 2
                continue
            if text == "oclock":
                i += 1
                continue
            if text in ("dollar", "dollars"):
                cents_at = i + 2 if following == "and" else i + 1
                if (cents_at + 1 < len(texts) and texts[cents_at].isdecimal() and int(texts[cents_at]) < 100
                        and texts[cents_at + 1] in ("cent", "cents") and out[-1].text.isdecimal()):
                    out[-1] = Word(f"{out[-1].text}.{int(texts[cents_at]):02d}", True)
                    out.append(Word("dollars"))
                    i = cents_at + 2
                    continue
        if text in ("cent", "cents") and out and out[-1].text.isdecimal() and int(out[-1].text) < 100 \
                and not (len(out) > 1 and out[-2].text in ("dollar", "dollars")):
            out[-1] = Word(f"0.{int(out[-1].text):02d}", True)   # "50 cents" is "$0.50"
            out.append(Word("dollars"))
            i += 1
            continue
        out.append(flat[i])
        i += 1
    return [Word(_plain_decimal(w.text), True) if w.is_number else w for w in out]


def _scaled(decimal, texts, i):
    """"1.5" before "million" is 1500000 ("one point five million")."""
    if i < len(texts) and texts[i] in SCALES:
        value = float(decimal) * SCALES[texts[i]]
        return str(int(value)) if value.is_integer() else str(value)
    return decimal


def _starts_number(texts, i, prev, following):
    text = texts[i]
    if text == "a":
        return following == "hundred" or following in SCALES
    if not is_number_word(text) or text == "hundred" or text in SCALES or text in SCALE_ORDINALS:
        return False            # "millionth" alone is a word: only "one millionth" is a number
    if text == "second" and not (prev == "the" or prev in MONTHS or following in MONTHS or following == "of"):
        return False
    return True


def _and_digits(value, texts, i):
    """"a hundred and 1", "two thousand and 5": a recognizer that wrote the end of a spelled
    number in digits. The digits join the number only where English would have gone on."""
    if i + 1 < len(texts) and texts[i] == "and" and texts[i + 1].isdecimal() and value:
        rest = int(texts[i + 1])
        for scale in (1000, 100):
            if value % scale == 0 and rest < scale and (scale == 100 or value % 100 == 0):
                return value + rest, i + 2
    return value, i


def _is_zero(texts, i, out):
    """"oh" said for zero: after a number and before a digit ("nineteen oh five"), or anywhere
    in a run of three or more digits read one by one ("oh oh seven", "nine oh two one oh")."""
    following = texts[i + 1] if i + 1 < len(texts) else ""
    if out and out[-1].is_number and _is_digit(following):
        return True
    start = i
    while start > 0 and is_digit_name(texts[start - 1]):
        start -= 1
    end = i + 1
    while end < len(texts) and is_digit_name(texts[end]):
        end += 1
    run = texts[start:end]
    return len(run) >= 3 and any(text != "oh" for text in run)


def _is_digit(text):
    return text in _DIGIT_WORDS or len(text) == 1 and text.isdecimal()


def _digits_with_scale(texts, i):
    """A written number, times a following "thousand"/"million" ("2 thousand" -> 2000)."""
    text = texts[i]
    following = texts[i + 1] if i + 1 < len(texts) else ""
    multiplier = SCALES.get(following) or (100 if following == "hundred" else None)
    if multiplier and re.fullmatch(r"\d+(\.\d+)?", text):
        value = float(text) * multiplier
        return (str(int(value)) if value.is_integer() else str(value)), i + 2
    return text, i + 1


def _plain_decimal(text):
    """"5.50" -> "5.5", "5.00" -> "5": the same amount written one way."""
    if "." in text and not text.endswith(("st", "nd", "rd", "th")):
        text = text.rstrip("0").rstrip(".")
    return text


def ordinal_value(text):
    """"21st" -> "21", "125" -> "125": the number a word states, without its ordinal suffix."""
    return re.sub(r"(st|nd|rd|th)$", "", text)


__all__ = ["Word", "words", "heard_words", "normalize", "strip_markup", "ordinal_value", "ORDINAL_WORDS"]
