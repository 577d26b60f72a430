"""Judging what the caller heard against what a step expects.

Speech recognition never returns the prompt as it was written: case, punctuation, number words
("press one" for "press 1"), contractions and homophones vary from call to call. A changed
prompt must still fail, so `fuzzy` and `contains` follow meaning (see `app.meaning`): numbers,
negations and content words must agree, in order, and the similarity threshold applies on top.
`exact` compares the normalized text, `regex` searches it with a linear-time engine
(`app.patterns`), `any` accepts any speech.
"""
from dataclasses import dataclass
from functools import lru_cache

from app.meaning import align, judge, render
from app.patterns import search
from app.spoken import normalize, words

MATCH_MODES = ("fuzzy", "exact", "contains", "regex", "any")
DEFAULT_THRESHOLD = 0.8


@dataclass(frozen=True)
class MatchResult:
    """The verdict on one transcript: whether it passed, the closest phrase, its 0-1 score, and
    for a failure the rule that failed, why, and the word diff against the closest phrase."""
    passed: bool
    phrase: str | None
    score: float
    rule: str | None = None
    detail: str = ""
    diff: str = ""


def match(expected, heard, mode="fuzzy", threshold=DEFAULT_THRESHOLD):
    """Judge heard text against a list of acceptable phrases: it passes when one phrase passes;
    otherwise the closest phrase (best score) is reported with its failed rule and diff.

    A regex is applied as written (not normalized) to the normalized transcript. A verdict is
    a pure function of its arguments, and offline runs judge the same transcripts again and
    again, so the latest verdicts are remembered.
    """
    judge_now = _remembered if len(heard or "") <= REMEMBERED_CHARS else _match
    return judge_now(tuple(expected), heard, mode, threshold)


REMEMBERED_CHARS = 2000    # longer transcripts (rare, or forged) are judged without being kept


def _match(expected, heard, mode, threshold):
    if mode not in MATCH_MODES:
        raise ValueError(f"unknown match mode {mode!r}")
    heard_norm = normalize(heard)
    if not heard_norm:
        return MatchResult(False, None, 0.0, "nothing-heard", "nothing was heard")
    if mode == "any":
        return MatchResult(True, None, 1.0)
    results = [_one(phrase, heard, heard_norm, mode, threshold) for phrase in expected]
    if not results:
        return MatchResult(False, None, 0.0, "no-phrase", "the step expects no phrase")
    return max(results, key=lambda r: (r.passed, r.score))


_remembered = lru_cache(maxsize=4096)(_match)


def _one(phrase, heard, heard_norm, mode, threshold):
    if mode in ("fuzzy", "contains"):
        verdict = judge(phrase, heard, threshold, within=mode == "contains")
        return MatchResult(verdict.passed, phrase, verdict.score, verdict.rule, verdict.detail, verdict.diff)
    if mode == "regex":
        found = search(phrase, heard_norm)
        return MatchResult(found, phrase, 1.0 if found else 0.0, None if found else "regex",
                           "" if found else "the pattern does not occur in the normalized transcript")
    same = normalize(phrase) == heard_norm
    diff = "" if same else render(align(words(phrase), words(heard)))
    return MatchResult(same, phrase, 1.0 if same else 0.0, None if same else "exact",
                       "" if same else "the words differ", diff)
