"""Numbers as people say them and as recognizers write them.

"one hundred twenty five", "a hundred and twenty-five" and "125" are one fact; so are "two
thousand", "2,000" and "2000". `read_number` reads the longest cardinal or ordinal that starts at
a word, of any size; `number_words` goes the other way, for the offline recognizer, which says
digits as words the way a telephone speech-to-text service sometimes writes them.
"""
UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
        "eighty": 80, "ninety": 90}
SCALES = {"thousand": 10 ** 3, "million": 10 ** 6, "billion": 10 ** 9, "trillion": 10 ** 12}
NUMBER_WORDS = {word: value for value, word in enumerate(UNITS)} | TENS

_ORDINAL_UNITS = ("zeroth first second third fourth fifth sixth seventh eighth ninth tenth "
                  "eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
                  "eighteenth nineteenth").split()
ORDINAL_WORDS = ({word: value for value, word in enumerate(_ORDINAL_UNITS) if value}
                 | {word[:-1] + "ieth": value for word, value in TENS.items()}
                 | {"hundredth": 100, "thousandth": 1000, "millionth": 10 ** 6})
_DIGIT_NAMES = frozenset(UNITS[:10]) | {"oh"}
SCALE_ORDINALS = ("hundredth", "thousandth", "millionth")
_COUNTING = set(NUMBER_WORDS) | set(ORDINAL_WORDS)


def is_number_word(word):
    return word in NUMBER_WORDS or word in ORDINAL_WORDS or word in SCALES or word == "hundred"


def ordinal_suffix(value):
    if 10 <= value % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(value % 10, "th")


def read_number(words, start):
    """The number spelled out at `words[start:]`: (value, end, is_ordinal), or None.

    Reads greedily but only what English allows, so "one two three" is three numbers (digits
    read one by one) while "one hundred twenty three" is one. "and" and "a" count only inside a
    number ("a hundred and five").
    """
    total, chunk, last, scale_cap = 0, 0, None, float("inf")
    i, n = start, len(words)
    while i < n:
        word, following = words[i], words[i + 1] if i + 1 < n else ""
        if word == "and" and last in ("hundred", "scale") and following in _COUNTING:
            i += 1
            continue
        if word == "a" and last is None and (following == "hundred" or following in SCALES):
            chunk, last = 1, "unit"
        elif word in ORDINAL_WORDS or word in NUMBER_WORDS:
            value = ORDINAL_WORDS.get(word, NUMBER_WORDS.get(word))
            kind = "tens" if word in TENS or value in TENS.values() else "unit" if value < 10 else "teen"
            if value == 0 and last is not None:
                break
            if word in SCALE_ORDINALS:
                if last not in ("unit", "teen", "tens", "unit+"):
                    break
                chunk *= value
                return total + chunk, i + 1, True
            if last in ("hundred", "scale") and kind == "unit" and is_digit_name(following):
                break   # "eight hundred five five five" (or "five 5 5"): digits read one by one follow
            if last in (None, "hundred", "scale"):
                chunk += value
                last = kind
            elif last == "tens" and kind == "unit" and value:
                chunk += value
                last = "unit+"
            else:
                break
            if word in ORDINAL_WORDS:
                return total + chunk, i + 1, True
            if value == 0:
                return 0, i + 1, False
        elif word == "hundred":
            if last not in ("unit", "teen", "tens", "unit+") or chunk >= 100 or chunk == 0:
                break
            chunk, last = chunk * 100, "hundred"
        elif word in SCALES:
            scale = SCALES[word]
            if last is None or last == "scale" or chunk == 0 or scale >= scale_cap:
                break
            total, chunk, last, scale_cap = total + chunk * scale, 0, "scale", scale
        else:
            break
        i += 1
    if last is None:
        return None
    return total + chunk, i, False


def is_digit_name(word):
    """A digit said alone: "five", "oh", or a recognizer's "5" between spelled words."""
    return word in _DIGIT_NAMES or len(word) == 1 and word.isdecimal()


def number_words(value):
    """A non-negative integer in words: 125 -> "one hundred twenty five"."""
    if value < 20:
        return UNITS[value]
    if value < 100:
        tens = next(word for word, v in TENS.items() if v == value // 10 * 10)
        return tens + (f" {UNITS[value % 10]}" if value % 10 else "")
    if value < 1000:
        rest = value % 100
        return f"{UNITS[value // 100]} hundred" + (f" {number_words(rest)}" if rest else "")
    for word, scale in sorted(SCALES.items(), key=lambda item: -item[1]):
        if value >= scale:
            rest = value % scale
            return f"{number_words(value // scale)} {word}" + (f" {number_words(rest)}" if rest else "")
    raise ValueError(value)
