"""Judging what the caller heard against what a step expects.

Speech recognition never returns the prompt as it was written: case, punctuation and number words
("press one" for "press 1") vary from call to call. So both sides are normalized first, and the
comparison is fuzzy by default, scored 0 to 1 with rapidfuzz.
"""
import re
from dataclasses import dataclass

from rapidfuzz import fuzz

MATCH_MODES = ("fuzzy", "exact", "contains", "regex", "any")
DEFAULT_THRESHOLD = 0.8

_UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
          "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
NUMBER_WORDS = {word: value for value, word in enumerate(_UNITS)} | _TENS

_TAG = re.compile(r"<[^>]+>")
_NOT_WORD = re.compile(r"[^\w\s]|_")


def strip_markup(text):
    """Text as spoken: SSML/XML tags removed, white space collapsed."""
    return " ".join(_TAG.sub(" ", text or "").split())


def normalize(text):
    """Lower-case, drop markup and punctuation, collapse spaces, and spell numbers as digits."""
    text = strip_markup(text).lower().replace("'", "")
    words = _NOT_WORD.sub(" ", text).split()
    return " ".join(_numbers_to_digits(words))


def _numbers_to_digits(words):
    """Turn number words into digits: "twenty one" -> "21", "one" -> "1"."""
    out = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _TENS and i + 1 < len(words) and NUMBER_WORDS.get(words[i + 1], 10) < 10:
            out.append(str(_TENS[word] + NUMBER_WORDS[words[i + 1]]))
            i += 2
            continue
        out.append(str(NUMBER_WORDS[word]) if word in NUMBER_WORDS else word)
        i += 1
    return out


@dataclass(frozen=True)
class MatchResult:
    """The verdict on one transcript: whether it passed, the closest phrase and its 0-1 score."""
    passed: bool
    phrase: str | None
    score: float


def score(expected, heard, mode="fuzzy"):
    """Score one expected phrase against the heard text, 0 to 1, both already normalized."""
    if mode == "exact":
        return 1.0 if expected == heard else 0.0
    if mode == "contains":
        if expected in heard:
            return 1.0
        return fuzz.partial_ratio(expected, heard) / 100 if len(expected) <= len(heard) else 0.0
    if mode == "regex":
        return 1.0 if re.search(expected, heard) else 0.0
    if mode == "any":
        return 1.0 if heard else 0.0
    return fuzz.ratio(expected, heard) / 100


def match(expected, heard, mode="fuzzy", threshold=DEFAULT_THRESHOLD):
    """Judge heard text against a list of acceptable phrases; the best-scoring phrase wins.

    A regex is applied as written (not normalized) to the normalized transcript.
    """
    if mode not in MATCH_MODES:
        raise ValueError(f"unknown match mode {mode!r}")
    heard_norm = normalize(heard)
    if mode == "any":
        return MatchResult(bool(heard_norm), None, 1.0 if heard_norm else 0.0)
    best_phrase, best_score = None, 0.0
    for phrase in expected:
        wanted = phrase if mode == "regex" else normalize(phrase)
        value = round(score(wanted, heard_norm, mode), 4)
        if best_phrase is None or value > best_score:
            best_phrase, best_score = phrase, value
    needed = threshold if mode in ("fuzzy", "contains") else 1.0
    return MatchResult(bool(heard_norm) and best_score >= needed, best_phrase, best_score)
