"""Lex's built-in slot types: which words fill them and the value Lex reports.

Each resolver takes the normalized words of a span (see `app.matching.normalize`: lower case,
no punctuation, number words already digits: "twenty five" is "25", "one two" is "1 2") and a
`Context` (the call's date, the bot's Lex version), and returns the value as Lex resolves it, or
None when the words are not a value of the type. The formats follow the Lex V1 and V2 developer
guides (built-in slot types):

- AMAZON.Number: "1 2 3 4" (digit by digit) is 1234, "25" is 25, "1 hundred 5" is 105;
- AMAZON.Date: ISO dates on or after the call's date ("tomorrow", "next monday", "december
  3rd"); a week is its Monday (V1) or, for a future week, the Sunday of the current week (V2);
  a month alone is its last day (future) or first day (current, V2); a year alone likewise;
- AMAZON.Time: "HH:MM" ("3 30 pm" is 15:30, "noon" 12:00), a bare period of the day is MO, AF,
  EV or NI; an hour said without am/pm stays as said ("3" is 03:00);
- AMAZON.Duration: ISO-8601 durations ("10 minutes" is PT10M, "2 days" P2D);
- names, cities, states and countries come from gazetteers shipped in `data/` (a word is a first
  name because people are called it, not because it is one word), title-cased;
- AMAZON.AlphaNumeric: one token with a digit, or letters and digits said one by one ("j f k"
  is JFK); a regex-derived type also requires the value to match its pattern;
- AMAZON.PhoneNumber (7 to 15 digits), AMAZON.EmailAddress ("jo dot smith at example dot com"),
  AMAZON.Confirmation (Yes, No, Maybe, Don't know), US/UK postal codes.

Types not listed (AMAZON.Genre, ...) take a single word when they are asked for, and nothing
from free text.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

_DATA = Path(__file__).with_name("data")


@dataclass(frozen=True)
class Context:
    """What a resolution depends on besides the words: the call's date and the Lex version."""
    today: date = field(default_factory=date.today)
    version: str = "V2"


# --------------------------------------------------------------------------- gazetteers


@lru_cache(maxsize=None)
def gazetteer(name: str) -> frozenset[str]:
    """Phrases from data/<name>.txt: words separated by spaces, or phrases by '|'."""
    text = (_DATA / f"{name}.txt").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    phrases = set()
    for line in lines:
        parts = line.split("|") if "|" in line else line.split()
        phrases.update(p.strip() for p in parts if p.strip())
    return frozenset(phrases)


def _lookup(words, *names, fuzzy=90):
    """The gazetteer phrase the words say (recognizer misspellings allowed), title-cased."""
    text = " ".join(words)
    if not text or any(w.isdigit() for w in words):
        return None
    phrases = frozenset().union(*(gazetteer(n) for n in names))
    if text in phrases:
        return text.title()
    if len(text) >= 5:
        best = process.extractOne(text, phrases, scorer=fuzz.ratio, score_cutoff=fuzzy)
        if best:
            return best[0].title()
    return None


# --------------------------------------------------------------------------- numbers

_DIGIT_WORDS = {"zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3",
                "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_SMALL = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
          "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
          "ninety": 90} | {w: int(d) for w, d in _DIGIT_WORDS.items() if w not in ("oh", "o")}
_MULTIPLIERS = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


def _as_int(word):
    """A number word or digits as an int (normalize usually made it digits already)."""
    if word.isdigit():
        return int(word)
    return _SMALL.get(word)


def _cardinal(words):
    """'25', '1 hundred and 5', '2 thousand 20' as an int; None for digit-by-digit runs."""
    total, current, seen, last = 0, None, False, None
    for word in words:
        if word == "and" and last in _MULTIPLIERS:
            continue
        if word in _MULTIPLIERS:
            factor = _MULTIPLIERS[word]
            if factor == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * factor
                current = None
        else:
            n = _as_int(word)
            if n is None:
                return None
            if current is None:
                current = n
            elif current >= 100 and current % 100 == 0 and n < 100:
                current += n
            elif 20 <= current < 100 and current % 10 == 0 and n < 10:
                current += n
            else:
                return None
        seen, last = True, word
    return total + (current or 0) if seen else None


def _digit_run(words):
    """'1 2 3 4' or '12 34' or 'oh 7' read digit group by digit group, as a string."""
    pieces = []
    for word in words:
        if word.isdigit():
            pieces.append(word)
        elif word in _DIGIT_WORDS:
            pieces.append(_DIGIT_WORDS[word])
        elif word in _SMALL:
            pieces.append(str(_SMALL[word]))
        else:
            return None
    return "".join(pieces) or None


def parse_number(words, context=None):
    """AMAZON.Number: a cardinal ("25", "1 hundred 5") or digits said one by one ("1 2 3 4")."""
    if not words:
        return None
    if len(words) > 1 and all(w.isdigit() and len(w) == 1 or w in _DIGIT_WORDS for w in words):
        return _digit_run(words)
    value = _cardinal(words)
    if value is not None:
        return str(value)
    return _digit_run(words)


# --------------------------------------------------------------------------- dates

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}
_MONTHS["sept"] = 9
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAYS |= {"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3,
              "fri": 4, "sat": 5, "sun": 6}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12,
             "thirteenth": 13, "fourteenth": 14, "fifteenth": 15, "sixteenth": 16,
             "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
             "thirtieth": 30}
_FILLER = {"the", "of", "on", "this", "coming", "for"}


def _ordinal(words):
    """Day-of-month words: '3rd', 'third', '3', '20 third' (normalize's 'twenty third')."""
    if len(words) == 2 and words[0] in ("20", "30", "twenty", "thirty") and words[1] in _ORDINALS:
        return _as_int(words[0]) + _ORDINALS[words[1]]
    if len(words) != 1:
        return None
    word = words[0]
    found = re.fullmatch(r"(\d{1,2})(st|nd|rd|th)?", word)
    if found:
        return int(found.group(1))
    return _ORDINALS.get(word)


def _valid(year, month, day):
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(month, day, year, today):
    """A month and day, in the given year or the first on or after today."""
    if year:
        return _valid(year, month, day)
    found = _valid(today.year, month, day)
    if found and found < today:
        found = _valid(today.year + 1, month, day)
    return found


def _year(words):
    """'2025', or '20 25' (normalize's 'twenty twenty five')."""
    text = "".join(words)
    if re.fullmatch(r"(19|20)\d\d", text) and len(words) <= 2:
        return int(text)
    return None


def _calendar_date(words, today):
    """'december 3rd', '3rd of december', 'dec 3 2025', '2025 12 3', '12 3 2025', 'the 15th'."""
    words = [w for w in words if w not in _FILLER]
    if not words:
        return None
    if len(words) == 3 and all(w.isdigit() for w in words):
        a, b, c = (int(w) for w in words)
        if len(words[0]) == 4:
            return _valid(a, b, c)
        if len(words[2]) == 4:
            return _valid(c, a, b)       # en-US month/day/year
    month_at = next((i for i, w in enumerate(words) if w in _MONTHS), None)
    if month_at is None:
        # A day of the month alone must sound like one ('the 15th'), not a bare number.
        day = _ordinal(words) if not all(w.isdigit() for w in words) else None
        if day is None:
            return None
        found = _valid(today.year, today.month, day)
        if found and found < today:
            nxt = today.replace(day=1) + timedelta(days=32)
            found = _valid(nxt.year, nxt.month, day)
        return found
    month = _MONTHS[words[month_at]]
    before, after = words[:month_at], words[month_at + 1:]
    for day_words, year_words in ((after[:1], after[1:]), (after[:2], after[2:]),
                                  (before, after)):
        day = _ordinal(day_words) if day_words else None
        year = _year(year_words) if year_words else None
        if day and (year or not year_words):
            return _month_day(month, day, year, today)
    return None


def _weekday(words, today):
    """'monday', 'this friday' (on or after today), 'next monday' (after today)."""
    *mod, name = words
    if name not in _WEEKDAYS or len(mod) > 1:
        return None
    ahead = (_WEEKDAYS[name] - today.weekday()) % 7
    if mod == ["next"] and ahead == 0:
        ahead = 7
    elif mod and mod[0] not in ("this", "on", "coming", "next"):
        return None
    return today + timedelta(days=ahead)


def _relative_period(words, context):
    """'this week', 'next month', 'next year', ... as the Lex V1/V2 date guide resolves them."""
    if len(words) != 2 or words[1] not in ("week", "month", "year"):
        return None
    which, unit = words
    today, v1 = context.today, context.version == "V1"
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        if which == "next":
            return monday + timedelta(days=7) if v1 else monday + timedelta(days=6)
        if which == "this":
            return monday
        if which == "last":
            return monday - timedelta(days=7)
    if unit == "month":
        if which == "next":
            first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
            return first.replace(day=calendar.monthrange(first.year, first.month)[1])
        if which == "this":
            last = today.replace(day=calendar.monthrange(today.year, today.month)[1])
            return last if v1 else today.replace(day=1)
        if which == "last":
            return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    if unit == "year":
        if which == "next":
            return date(today.year + 1, 12, 31)
        if which == "this":
            return date(today.year, 12, 31) if v1 else date(today.year, 1, 1)
        if which == "last":
            return date(today.year - 1, 1, 1)
    return None


_DAY_WORDS = {"today": 0, "now": 0, "tonight": 0, "tomorrow": 1, "tmrw": 1, "yesterday": -1}


def parse_date(words, context):
    """AMAZON.Date as an ISO date string."""
    words = list(words)
    today = context.today
    if not words:
        return None
    text = " ".join(words)
    if text in _DAY_WORDS:
        found = today + timedelta(days=_DAY_WORDS[text])
    elif text in ("day after tomorrow", "the day after tomorrow"):
        found = today + timedelta(days=2)
    else:
        found = _in_days(words, today) or _relative_period(words, context) \
            or _weekday(words, today) or _calendar_date(words, today)
    return found.isoformat() if found else None


def _in_days(words, today):
    """'in 3 days', '2 weeks from now', 'in a week'."""
    words = [w for w in words if w not in ("from", "now", "today")]
    if len(words) == 3 and words[0] == "in":
        words = words[1:]
    if len(words) != 2 or words[1].rstrip("s") not in ("day", "week"):
        return None
    n = 1 if words[0] in ("a", "an", "one") else _as_int(words[0])
    if n is None:
        return None
    return today + timedelta(days=n * (7 if words[1].startswith("week") else 1))


# --------------------------------------------------------------------------- times

_PERIODS = {"morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI"}
_NAMED_TIMES = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}


def parse_time(words, context=None):
    """AMAZON.Time as 'HH:MM' (or MO/AF/EV/NI for a bare part of the day)."""
    words = [w for w in words if w not in ("at", "around", "about", "oclock", "o", "clock")]
    if not words:
        return None
    text = " ".join(words)
    if text in _NAMED_TIMES:
        return _NAMED_TIMES[text]
    if words[-1] in _PERIODS and all(w in ("in", "the", "this") for w in words[:-1]):
        return _PERIODS[words[-1]]
    meridiem, words = _meridiem(words)
    hour_minute = _clock(words)
    if hour_minute is None:
        return None
    hour, minute = hour_minute
    if meridiem == "pm" and hour < 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return f"{hour:02d}:{minute:02d}"


def _meridiem(words):
    """Split off 'am'/'pm' ('a m', 'in the evening', ...) from the end."""
    text = " ".join(words)
    for tail, which in ((" in the morning", "am"), (" in the afternoon", "pm"),
                        (" in the evening", "pm"), (" at night", "pm"), (" tonight", "pm"),
                        (" a m", "am"), (" p m", "pm"), (" am", "am"), (" pm", "pm")):
        if text.endswith(tail):
            return which, text[:-len(tail)].split()
    return None, words


def _clock(words):
    """(hour, minute) from '3', '3 30', '330', '15 45', 'half past 3', 'quarter to 4'."""
    if len(words) == 3 and words[1] in ("past", "after", "to", "before"):
        minutes = {"half": 30, "quarter": 15}.get(words[0], _as_int(words[0]))
        hour = _as_int(words[2])
        if minutes is None or hour is None:
            return None
        if words[1] in ("past", "after"):
            return hour, minutes
        return (hour - 1) % 24, 60 - minutes
    if len(words) == 1 and re.fullmatch(r"\d{3,4}", words[0]):
        return int(words[0][:-2]), int(words[0][-2:])
    numbers = [_as_int(w) for w in words]
    if None in numbers or not 1 <= len(numbers) <= 2:
        return None
    if len(numbers) == 1:
        return numbers[0], 0
    return numbers[0], numbers[1]


# --------------------------------------------------------------------------- durations

_DURATION_UNITS = {"second": "S", "minute": "M", "hour": "H", "day": "D", "week": "W",
                   "month": "MO", "year": "Y"}


def parse_duration(words, context=None):
    """AMAZON.Duration as ISO-8601: '10 minutes' -> PT10M, '2 days 5 hours' -> P2DT5H."""
    words = [w for w in words if w not in ("and", "for", "of")]
    if words[:3] == ["half", "an", "hour"] and len(words) == 3:
        return "PT30M"
    parts, i = {}, 0
    while i < len(words):
        amount = 1 if words[i] in ("a", "an") else _as_int(words[i])
        unit = words[i + 1].rstrip("s") if i + 1 < len(words) else None
        if amount is None or unit not in _DURATION_UNITS or _DURATION_UNITS[unit] in parts:
            return None
        parts[_DURATION_UNITS[unit]] = amount
        i += 2
    if not parts:
        return None
    day_part = "".join(f"{parts[k]}{k[0]}" for k in ("Y", "MO", "W", "D") if k in parts)
    time_part = "".join(f"{parts[k]}{k}" for k in ("H", "M", "S") if k in parts)
    return "P" + day_part + ("T" + time_part if time_part else "")


# --------------------------------------------------------------------------- the rest

_LETTER = re.compile(r"[a-z]")
_WORD = re.compile(r"[a-z0-9]")
_CONFIRMATION = {
    "Yes": {"yes", "yeah", "yep", "yup", "sure", "ok", "okay", "correct", "right", "absolutely",
            "definitely", "affirmative", "yes please", "that is right", "thats right",
            "that is correct", "thats correct", "of course", "sounds good", "please do"},
    "No": {"no", "nope", "nah", "no thanks", "no thank you", "negative", "not really",
           "that is not right", "that is not correct",
           "incorrect", "wrong", "thats wrong", "that is wrong", "cancel"},
    "Maybe": {"maybe", "perhaps", "possibly", "not sure", "might", "probably"},
    "Don't know": {"i dont know", "dont know", "i do not know", "do not know", "no idea", "i have no idea", "not a clue"},
}


def parse_alphanumeric(words, context=None, free_text=False):
    """One token, or letters and digits said one by one ('j f k 1' -> JFK1).

    In free text (an utterance that also names an intent) a single word is not taken: Lex
    would need context to read 'reservation' as a value, so only tokens with a digit or runs of
    spelled characters count there.
    """
    if len(words) == 1:
        word = words[0]
        if free_text and not any(c.isdigit() for c in word):
            return None
        return word.upper() if any(c.isdigit() for c in word) else word
    if all(len(w) == 1 or w.isdigit() for w in words):
        return "".join(words).upper()
    return None


def parse_phone(words, context=None):
    digits = _digit_run([w for w in words if w not in ("plus", "dash")])
    return digits if digits and 7 <= len(digits) <= 15 else None


def parse_email(words, context=None):
    """'jo dot smith at example dot com' -> jo.smith@example.com."""
    if "at" not in words:
        return None
    symbols = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-", "at": "@"}
    text = "".join(symbols.get(w, w) for w in words)
    return text if re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", text) else None


def parse_confirmation(words, context=None):
    text = " ".join(words)
    return next((value for value, said in _CONFIRMATION.items() if text in said), None)


def parse_us_zip(words, context=None):
    digits = _digit_run(words)
    return digits if digits and len(digits) in (5, 9) else None


def parse_uk_postcode(words, context=None):
    text = "".join(words).upper()
    return text if re.fullmatch(r"[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}", text) else None


def _names(*lists):
    return lambda words, context=None: _lookup(words, *lists)


# Canonical upper-case type name -> (resolver, longest span in words, fills from free text).
RESOLVERS = {
    "AMAZON.NUMBER": (parse_number, 16, True),
    "AMAZON.DATE": (parse_date, 5, True),
    "AMAZON.TIME": (parse_time, 5, True),
    "AMAZON.DURATION": (parse_duration, 6, True),
    "AMAZON.ALPHANUMERIC": (parse_alphanumeric, 16, True),
    "AMAZON.PHONENUMBER": (parse_phone, 16, True),
    "AMAZON.EMAILADDRESS": (parse_email, 12, True),
    "AMAZON.CONFIRMATION": (parse_confirmation, 4, False),
    "AMAZON.FIRSTNAME": (_names("first_names"), 1, True),
    "AMAZON.US_FIRST_NAME": (_names("first_names"), 1, True),
    "AMAZON.LASTNAME": (_names("last_names"), 1, True),
    "AMAZON.CITY": (_names("us_cities", "world_cities"), 4, True),
    "AMAZON.US_CITY": (_names("us_cities"), 4, True),
    "AMAZON.EUROPE_CITY": (_names("world_cities"), 3, True),
    "AMAZON.STATE": (_names("states"), 3, True),
    "AMAZON.US_STATE": (_names("states"), 3, True),
    "AMAZON.COUNTRY": (_names("countries"), 4, True),
    "AMAZON.POSTALCODE": (parse_us_zip, 9, True),
    "AMAZON.UKPOSTALCODE": (parse_uk_postcode, 8, True),
}
# Lex V1 spells some types differently.
RESOLVERS["AMAZON.FOUR_DIGIT_NUMBER"] = RESOLVERS["AMAZON.NUMBER"]


def is_strict(kind: str | None) -> bool:
    """Whether the type's values are recognizable on their own (a date, a known name), unlike
    a custom value or an alphanumeric, which could be any word."""
    return kind in RESOLVERS and kind != "AMAZON.ALPHANUMERIC"


def resolve_builtin(kind: str, words, context: Context, free_text: bool = False):
    """The value Lex reports for `words` as built-in type `kind`, or None.

    `free_text` is True when the words come from an utterance that may also carry the intent
    (not an answer to this slot's prompt): types without a resolver then take nothing.
    """
    words = tuple(words)
    entry = RESOLVERS.get(kind)
    if entry is None:
        # A type not modelled (a catalog like AMAZON.MusicVideo) takes the one word in its
        # place, letters or digits ("1999" is a title too), but never from free text.
        if free_text or len(words) != 1 or not _WORD.search(words[0]):
            return None
        return words[0]
    resolver, longest, from_free_text = entry
    if len(words) > longest or (free_text and not from_free_text):
        return None
    if resolver is parse_alphanumeric:
        return parse_alphanumeric(words, context, free_text)
    return resolver(words, context)


def max_words(kind: str) -> int:
    """The longest span worth trying for the type."""
    return RESOLVERS.get(kind, (None, 1, False))[1]
