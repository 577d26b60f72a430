"""Words as intent evidence: which carry meaning, and which spellings mean the same thing.

Lex recognizes "balance please" as CheckBalance although no sample says it, because the word
"balance" tells that intent apart. To weigh words like that, carrier words ("I would like to",
"please") are set aside, and the rest are reduced to a term: a light stem ("booking", "booked"
-> "book") and, for everyday customer-service words, a synonym group ("representative",
"operator" -> "agent").
"""
from __future__ import annotations

from functools import lru_cache

# Function words and carrier phrases' words: they say nothing about which intent is meant.
STOPWORDS = frozenset("""
a about all also am an and any anything are as at be been being but by can could did do does
doing for from get go going got had has have having he her here hers him his how i id if ill im
in into is it its ive just kind let lets like may maybe me might mine more most much must my
myself need needs now of off ok okay on one or our ours out please pls really right shall she
should so some something sort than that thats the their them then there these they thing this
those to too uh um umm up us very want wanna wants was we well were what whats when where which
who why will with would wondering yeah you youd your yours actually hmm tell know give
never still already ever yet even only just
""".split())

# Everyday customer-service words that callers swap freely. The first word of a group names it.
SYNONYM_GROUPS = [
    "agent representative rep operator person human someone somebody associate advisor staff",
    "talk speak chat connect transfer",
    "book reserve reservation booking",
    "cancel cancellation delete terminate",
    "change modify update alter adjust amend edit switch reschedule",
    "check view look review",
    "buy purchase order sell",
    "price cost fee charge rate",
    "pay payment",
    "bill invoice statement",
    "help assist assistance support",
    "problem issue trouble broken error fault",
    "hello hi hey greetings howdy hiya",
    "bye goodbye farewell",
    "thanks thank",
    "flight fly plane airline airplane",
    "car vehicle automobile auto",
    "hotel room lodging accommodation",
    "baggage luggage bag suitcase",
    "delay delayed late",
    "repeat again",
    "stop quit exit end",
    "information info detail",
    "appointment meeting visit",
    "doctor physician",
    "password passcode pin",
    "location address",
    "hours open opening",
    "refund reimburse reimbursement",
    "promotion promo deal offer discount coupon",
    "deliver delivery shipping ship",
    "weather forecast rain snow temperature sunny",
    "authenticate authentication verify verification identify login log sign signin logon",
]


def stem(word: str) -> str:
    """A light suffix stripper: enough to meet 'booking', 'booked' and 'books' at 'book'."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, keep in (("ations", 4), ("ation", 4), ("ments", 4), ("ment", 4), ("ings", 4),
                         ("ing", 3), ("ies", 3), ("ied", 3), ("ed", 3), ("es", 4), ("ly", 4),
                         ("ers", 4), ("er", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                continue
            if suffix == "es" and not word.endswith(("ses", "xes", "ches", "shes", "zes")):
                continue
            base = word[:-len(suffix)]
            if suffix in ("ies", "ied"):
                base += "y"
            base = _undoubled(base)
            return base.rstrip("e") if len(base) > 4 else base
    word = _undoubled(word)
    return word.rstrip("e") if len(word) > 4 else word


def _undoubled(base: str) -> str:
    """A final doubled consonant made single ('runn' -> 'run', 'cancell' -> 'cancel'), on the
    bare word as on a stripped one, so 'bill' and 'billing', 'staff' and 'staffing' meet."""
    if len(base) > 3 and base[-1] == base[-2] and base[-1] not in "aeious":
        return base[:-1]
    return base


@lru_cache(maxsize=None)
def _synonyms() -> dict[str, str]:
    table = {}
    for group in SYNONYM_GROUPS:
        members = group.split()
        for member in members:
            table.setdefault(stem(member), stem(members[0]))
    return table


@lru_cache(maxsize=65536)
def term(word: str) -> str:
    """The term a word counts as: its stem, then its synonym group's name."""
    stemmed = stem(word)
    return _synonyms().get(stemmed, stemmed)


def content_terms(words) -> list[str]:
    """The terms of the words that carry meaning, in order."""
    return [term(w) for w in words if w not in STOPWORDS]
