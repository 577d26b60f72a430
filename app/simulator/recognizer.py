"""A deterministic stand-in for telephone speech recognition, so matching is exercised honestly.

`off` passes text through (markup removed). `realistic` makes the errors a telephone
speech-to-text service makes, and only those, all at the level of whole words: lower case and
no punctuation, numbers as digits or as words (a long digit string read one digit at a time),
money as "$5" or "five dollars", homophones of small words ("for" -> "four", "to" -> "two"),
contractions made or undone, compounds split or joined ("voicemail" / "voice mail"), and
fillers dropped. It never writes a non-word and never changes what the prompt means.

The noise comes from a generator seeded by `--seed`, the caller's key (the suite's content and
which utterance of the call this is) and the text itself: the same suite hears the same
transcripts wherever its file lives and however calls interleave.
"""
import hashlib
import json
import random
import re
from functools import lru_cache

from app.numbers import NUMBER_WORDS, number_words, read_number
from app.spoken import RANGE, strip_markup

NOISE_MODES = ("off", "realistic")
# What recognizers write for these small words now and then; each one a real word.
HOMOPHONE_ERRORS = {"to": ("two", "too"), "for": ("four",), "too": ("to", "two"),
                    "hear": ("here",), "here": ("hear",), "by": ("buy", "bye"), "right": ("write",)}
CONTRACTIONS = {"do not": "don't", "does not": "doesn't", "did not": "didn't", "is not": "isn't",
                "are not": "aren't", "was not": "wasn't", "were not": "weren't", "can not": "can't",
                "cannot": "can't", "could not": "couldn't", "will not": "won't", "would not": "wouldn't",
                "have not": "haven't", "has not": "hasn't", "i am": "i'm", "we are": "we're",
                "you are": "you're", "they are": "they're", "it is": "it's", "that is": "that's",
                "we will": "we'll", "you will": "you'll", "i will": "i'll", "let us": "let's",
                "we have": "we've", "you have": "you've", "there is": "there's", "what is": "what's"}
COMPOUNDS = {"voicemail": "voice mail", "email": "e mail", "online": "on line", "website": "web site",
             "login": "log in", "setup": "set up", "anytime": "any time", "alright": "all right",
             "checkout": "check out", "username": "user name", "password": "pass word",
             "callback": "call back", "healthcare": "health care", "weekend": "week end"}
DISFLUENCIES = ("um", "uh", "er", "ah", "hmm")
SENTENCE_FILLERS = ("oh", "well", "so")

_UNDO = {short: long for long, short in CONTRACTIONS.items() if long != "cannot"}
_SPLIT_BACK = {split: joined for joined, split in COMPOUNDS.items()}
_TOKEN = re.compile(r"\$[0-9][0-9,]*(?:\.[0-9]+)?|[0-9]{1,2}:[0-9][0-9]|[0-9]+(?:st|nd|rd|th)\b|[0-9][0-9,]*(?:\.[0-9]+)?%?"
                    r"|[^\W\d_]+(?:'[^\W\d_]+)*|[.!?,;:]")
_SYMBOL_WORDS = {"#": "pound", "*": "star", "&": "and", "@": "at", "+": "plus"}
_SYMBOL = re.compile(r"[#*&@+]")
_AM_PM = re.compile(r"\b([ap])\.\s?m\b\.?")
# The tokens `_Hearing._word` may change, drop or read with the next ones (besides digits, money
# and the first word of a pair it joins, see `_is_plain`); any other token is written as it was
# said, with no coin tossed, so `hear` writes it without asking `_word`.
_SPECIAL = (frozenset(DISFLUENCIES) | frozenset(SENTENCE_FILLERS) | frozenset(NUMBER_WORDS)
            | frozenset(CONTRACTIONS) | frozenset(_UNDO) | frozenset(COMPOUNDS)
            | frozenset(HOMOPHONE_ERRORS))


def suite_noise_key(suite):
    """What seeds a suite's noise: its content (steps as written and target), never its path."""
    content = json.dumps([[step.instruction for step in suite.steps], suite.target],
                         sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()[:16]


class Recognizer:
    def __init__(self, noise="realistic", seed=0, error_rate=0.35):
        if noise not in NOISE_MODES:
            raise ValueError(f"unknown recognizer noise {noise!r} (expected off or realistic)")
        self.noise, self.seed, self.error_rate = noise, seed, error_rate
        self._rng = random.Random()   # re-seeded for each utterance (one offline run, one thread)

    def transcribe(self, text, key=""):
        """Return (transcript, confidence) for one utterance."""
        text = strip_markup(text)
        if self.noise == "off":
            return text, 1.0
        rng = self._rng     # seeding it draws what a new Random(same seed) draws, without making one (~5k instructions)
        rng.seed(f"{self.seed}|{key}|{text}")
        heard = _Hearing(rng, self.error_rate).hear(text)
        return heard, round(rng.uniform(0.75, 0.97), 2)


def _is_plain(token, following):
    """Whether `_word` writes `token` (followed by `following`, "" at the end) as it is,
    consuming no randomness (see `_SPECIAL`)."""
    pair = f"{token} {following}"
    return (token not in _SPECIAL and token[0] != "$" and not token[0].isdecimal()
            and pair not in CONTRACTIONS and pair not in _SPLIT_BACK)


def _plain_flags(tokens):
    return [_is_plain(token, tokens[i + 1] if i + 1 < len(tokens) else "")
            for i, token in enumerate(tokens)]


@lru_cache(maxsize=4096)
def _prepared(text):
    """What `hear` does to `text` before any coin is tossed, kept per text (prompts repeat in
    every call): (the lowered text, its tokens, which of them are plain); tokens and plain are
    None when the text has an "a.m." to write, which takes a coin toss each time."""
    text = RANGE.sub(r"\1 to \2", text)
    text = _SYMBOL.sub(lambda m: f" {_SYMBOL_WORDS[m.group(0)]} ", text).lower()
    if _AM_PM.search(text):
        return text, None, None
    tokens = tuple(_TOKEN.findall(text.replace("\u2019", "'")))
    return text, tokens, tuple(_plain_flags(tokens))


class _Hearing:
    """One utterance through the recognizer: a pass over its words, each error a coin toss."""

    def __init__(self, rng, rate):
        self.rng, self.rate = rng, rate

    def chance(self, scale=1.0):
        return self.rng.random() < self.rate * scale

    def hear(self, text):
        """The recognizer's pass over `text`, with what needs no coin toss done once per text
        (`_prepared`) and plain tokens written without asking `_word`. tests/test_recognizer.py
        holds the pass written plainly, and requires the same transcript and the same coins."""
        lowered, tokens, plain = _prepared(text)
        if tokens is None:      # "a.m." is written one way or another: a coin toss per match
            text = _AM_PM.sub(lambda m: f" {m.group(1)}m " if self.chance(2) else f" {m.group(1)}.m. ", lowered)
            tokens = _TOKEN.findall(text.replace("\u2019", "'"))
            plain = _plain_flags(tokens)
        out, i, count = [], 0, len(tokens)
        while i < count:
            if plain[i]:
                out.append(tokens[i])
                i += 1
            else:
                i = self._word(tokens, i, out)
        return " ".join([word for word in out if word not in ".!?,;:"])

    def _word(self, tokens, i, out):
        token = tokens[i]
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        pair = f"{token} {following}"
        if token in DISFLUENCIES:
            return i + 1
        if token in SENTENCE_FILLERS and following == "," and (not out or out[-1] in ".!?") and self.chance(2):
            return i + 2
        if token.startswith("$"):
            out.append(self._money(token[1:]))
            return i + 1
        if ":" in token and token[0].isdecimal():
            out.append(self._clock(token))
            return i + 1
        if token[:1].isdecimal() and token[-1].isalpha() and token[-1] != "%":
            out.append(token)   # an ordinal, "2nd", written as recognizers write dates
            return i + 1
        if token[:1].isdecimal():
            grouped = any(t[:1].isdecimal() for t in (tokens[i - 1] if i else "", following))
            out.append(self._digits(token, grouped))
            return i + 1
        if token in NUMBER_WORDS and token != "second":
            number = read_number(tokens, i)
            if number and not number[2]:
                value, end, _ = number
                out.append(str(value) if self.chance(1.5) else " ".join(tokens[i:end]))
                return end
        if pair in CONTRACTIONS and self.chance():
            out.append(CONTRACTIONS[pair])
            return i + 2
        if pair in _SPLIT_BACK and self.chance():
            out.append(_SPLIT_BACK[pair])
            return i + 2
        if token in CONTRACTIONS and self.chance():      # "cannot" -> "can't"
            out.append(CONTRACTIONS[token])
        elif token in _UNDO and self.chance():
            out.append(_UNDO[token])
        elif token in COMPOUNDS and self.chance():
            out.append(COMPOUNDS[token])
        elif token in HOMOPHONE_ERRORS and self.chance(0.3):
            out.append(self.rng.choice(HOMOPHONE_ERRORS[token]))
        else:
            out.append(token)
        return i + 1

    def _money(self, amount):
        """"$5.50": written as is, or said as "five dollars and fifty cents"."""
        amount = amount.replace(",", "")
        if not self.chance(1.5):
            return f"${amount}"
        dollars, _, cents = amount.partition(".")
        unit = "dollar" if dollars == "1" else "dollars"
        said = f"{self._number(dollars)} {unit}"
        if cents and int(cents):
            said += f" and {self._number(str(int(cents)))} cents"
        return said

    def _clock(self, token):
        """"5:00" as "5:00", "5" or "five"; "3:30" as "3:30", "3 30" or "three thirty"."""
        hours, minutes = token.split(":")
        if not self.chance(1.5):
            return token
        said = self._number(hours)
        return said if minutes == "00" else f"{said} {self._number(str(int(minutes)))}" if minutes[0] != "0" else said + " oh " + self._number(minutes[1])

    def _digits(self, token, grouped=False):
        """A written number as a recognizer may write it: digits, words, or digit by digit (a
        long number, one with a leading zero, or one group of a phone number)."""
        plain = token.replace(",", "")
        if not plain.isdecimal():
            return plain
        if grouped or len(plain) >= 5 or plain.startswith("0") and len(plain) > 1:
            return " ".join(number_words(int(d)) for d in plain) if self.chance(1.5) else plain
        return self._number(plain)

    def _number(self, digits):
        return number_words(int(digits)) if self.chance(1.5) else digits
