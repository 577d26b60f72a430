"""When a heard word is the expected word, written another way, and when it is another word.

Telephone recognizers write words, never letters: they return a homophone ("four" for "for"), a
plural, a British or American spelling, or a compound split in two ("voice mail"). They never
return "Sunday" for "Monday" by accident; that is the IVR saying something else. So a heard word
counts as the expected one only through a known kind of variation, never by looking similar:

- homophones from a table (to/two/too, for/four, hear/here, ...), never for an expected number;
- the same word with a plural or possessive "s";
- a spelling variant: the same first letter, close by rapidfuzz, and equal once doubled
  consonants and British endings are folded ("cancelled"/"canceled", "favourite"/"favorite"),
  except pairs that are different English words ("later"/"latter", "desert"/"dessert");
- compounds and run-together contractions, in `joins`.

Strict words (numbers, days, months, names) are equal only when spelled the same.
"""
import re
from functools import lru_cache

from rapidfuzz import fuzz

_HOMOPHONES = [
    {"to", "too", "2"}, {"for", "fore", "4"}, {"ate", "8"}, {"won", "1"},
    {"hear", "here"}, {"by", "buy", "bye"}, {"know", "no"}, {"right", "write"}, {"new", "knew"},
    {"wait", "weight"}, {"week", "weak"}, {"hour", "our"}, {"whole", "hole"}, {"sale", "sail"},
    {"mail", "male"}, {"there", "their"}, {"your", "youre"}, {"its", "it's"}, {"meet", "meat"},
    {"pain", "pane"}, {"peace", "piece"}, {"plane", "plain"}, {"read", "red"}, {"sea", "see"},
    {"so", "sew"}, {"some", "sum"}, {"son", "sun"}, {"tail", "tale"}, {"way", "weigh"},
    {"wear", "where"}, {"which", "witch"}, {"would", "wood"}, {"die", "dye"}, {"dear", "deer"},
    {"cent", "scent", "sent"}, {"cents", "sense"}, {"fare", "fair"}, {"flour", "flower"},
    {"great", "grate"}, {"hi", "high"}, {"hold", "holed"}, {"principal", "principle"},
    {"ok", "okay"}, {"check", "cheque"}, {"program", "programme"}, {"gray", "grey"},
]
HOMOPHONES = {word: frozenset(group) for group in _HOMOPHONES for word in group}

# Real English pairs that differ only by a doubled consonant: different words, not spellings.
_DISTINCT = {frozenset(pair.split("/")) for pair in (
    "later/latter desert/dessert diner/dinner super/supper hoping/hopping biter/bitter "
    "planed/planned taped/tapped filing/filling scared/scarred striped/stripped "
    "wining/winning moping/mopping caned/canned robed/robbed hoped/hopped pined/pinned "
    "ruder/rudder comet/commit dinning/dining cannon/canon tapping/taping starring/staring "
    "starred/stared barred/bared barring/baring filled/filed filler/filer tilled/tiled "
    "pinning/pining planning/planing robbing/robing scarring/scaring wagging/waging "
    "sloping/slopping griping/gripping tinned/tined"
).split()}
_DOUBLED = re.compile(r"([b-df-hj-np-tv-z])\1")
_BRITISH = [(re.compile(r"our(?=s?$|ite|able|ed|ing)"), "or"), (re.compile(r"tre(s?)$"), r"ter\1"),
            (re.compile(r"is(e|ed|es|ing|ation)$"), r"iz\1"), (re.compile(r"ys(e|ed|es|ing)$"), r"yz\1"),
            (re.compile(r"ogue$"), "og"), (re.compile(r"ence$"), "ense")]
# Abbreviations a prompt writer uses and a recognizer spells out (or the other way round).
ABBREVIATIONS = {"dr": {"doctor", "drive"}, "st": {"street", "saint"}, "ave": {"avenue"},
                 "rd": {"road"}, "blvd": {"boulevard"}, "mr": {"mister"}, "mrs": {"missus"},
                 "apt": {"apartment"}, "dept": {"department"}, "approx": {"approximately"},
                 "hr": {"hour"}, "hrs": {"hours"}, "min": {"minute", "minimum"}, "mins": {"minutes"},
                 "max": {"maximum"}, "acct": {"account"}, "appt": {"appointment"}, "jr": {"junior"},
                 "sr": {"senior"}, "ext": {"extension"}, "tel": {"telephone"}, "intl": {"international"},
                 "jan": {"january"}, "feb": {"february"}, "aug": {"august"}, "sept": {"september"},
                 "oct": {"october"}, "nov": {"november"}, "dec": {"december"}, "mon": {"monday"},
                 "tues": {"tuesday"}, "wed": {"wednesday"}, "thurs": {"thursday"}, "fri": {"friday"},
                 # units, which text-to-speech reads out in full
                 "kb": {"kilobyte", "kilobytes"}, "mb": {"megabyte", "megabytes"},
                 "gb": {"gigabyte", "gigabytes"}, "tb": {"terabyte", "terabytes"},
                 "lb": {"pound"}, "lbs": {"pounds"}, "oz": {"ounce", "ounces"}, "ft": {"foot", "feet"},
                 "mi": {"mile", "miles"}, "km": {"kilometer", "kilometers"}, "kg": {"kilogram", "kilograms"},
                 "sec": {"second"}, "secs": {"seconds"}, "yr": {"year"}, "yrs": {"years"},
                 "wk": {"week"}, "wks": {"weeks"}, "mo": {"month"}, "mos": {"months"},
                 # addresses, companies, and informal spellings a recognizer writes in full
                 "ste": {"suite"}, "fl": {"floor"}, "rm": {"room"}, "bldg": {"building"},
                 "hwy": {"highway"}, "ln": {"lane"}, "ct": {"court"}, "pkwy": {"parkway"},
                 "mt": {"mount", "mountain"}, "co": {"company", "county"}, "corp": {"corporation"},
                 "inc": {"incorporated"}, "amt": {"amount"}, "bal": {"balance"}, "pmt": {"payment"},
                 "govt": {"government"}, "thru": {"through"}, "til": {"till", "until"}, "till": {"until"},
                 # the number sign: "caller #3" is said "number 3" (spoken.heard_words), and the
                 # offline recognizer writes "pound 3". "no" is never "number": a negation counts
                 "pound": {"number"}}
_AMBIGUOUS_JOINED = {"thanks": ("thank", "you"), "its": ("it", "is"), "were": ("we", "are"), "well": ("we", "will"),
                     "ill": ("i", "will"), "id": ("i", "would"), "wed": ("we", "would"),
                     "shell": ("she", "will"), "hell": ("he", "will"), "lets": ("let", "us"),
                     # homophones of a contraction: "you're" heard for "your", "they're" for "their"
                     "your": ("you", "are"), "their": ("they", "are"), "there": ("they", "are")}


@lru_cache(maxsize=65536)
def same(expected, heard, strict=False):
    """Whether `heard` is `expected` as a recognizer may have written it."""
    if expected == heard:
        return True
    if heard in HOMOPHONES.get(expected, ()) and not expected[:1].isdecimal():
        return True
    if heard in ABBREVIATIONS.get(expected, ()) or expected in ABBREVIATIONS.get(heard, ()):
        return True
    if (expected[-3:] == "ies" or heard[-3:] == "ies") and _y_plural(expected, heard):
        return True
    if strict or expected[:1].isdecimal() or heard[:1].isdecimal():
        return False
    return _plural(expected, heard) or _spelling(expected, heard)


def _plural(a, b):
    short, long = sorted((a, b), key=len)
    return len(short) >= 3 and long in (short + "s", short + "es")


def _y_plural(a, b):
    """"pharmacy's" (written "pharmacys") and "pharmacies": one sound, so even a name may be
    heard either way."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and long.endswith("ies") and short[-1:] in ("y", "s") \
        and short.rstrip("s")[:-1] == long[:-3] and short.rstrip("s").endswith("y")


def fold(word):
    """A spelling with doubled consonants and British endings folded: "cancelled" -> "canceled"."""
    word = _DOUBLED.sub(r"\1", word)
    for pattern, replacement in _BRITISH:
        word = pattern.sub(replacement, word)
    return word


def _spelling(a, b):
    if a[0] != b[0] or min(len(a), len(b)) < 5 or frozenset((a, b)) in _DISTINCT:
        return False
    return fuzz.ratio(a, b) >= 80 and fold(a) == fold(b)


@lru_cache(maxsize=65536)
def joins(expected, heard, strict=False):
    """Whether two words on one side are one word on the other: `expected` and `heard` are
    tuples, one of length 1 and one of length 2 ("voicemail" / "voice mail", "its" / "it is")."""
    one, two = (expected, heard) if len(expected) == 1 else (heard, expected)
    word, pair = one[0], tuple(two)
    if word == "".join(pair) or _AMBIGUOUS_JOINED.get(word) == pair:
        return True
    return not strict and len(word) >= 5 and fold(word) == fold("".join(pair))
