"""The meaning-following verdict: does the transcript say what the expected phrase says?

Both sides become comparable words (`app.spoken`), the heard words are aligned to the expected
ones (edit distance over words, where a word "matches" when `app.equivalence` says it is the
same word, and a compound may match two words), and then five rules are checked in order, each
with a name a failure reports:

- `number`    the numbers of the expected phrase, heard exactly and in that order;
- `negation`  as many negations ("not", "no", "never", ...) and no antonym ("inactive");
- `order`     an expected word heard, but elsewhere (swapped menu options);
- `missing-word` every content word heard (small function words like "the" may drop out);
- `extra-word` no content word heard that the phrase does not say ("a late fee" is not "a
  fee"): a recognizer drops and garbles words, it does not invent meaningful ones;
- `score`     the similarity of the whole, after the allowed variations, reaches the threshold.

`contains` judges the best-matching stretch of the transcript the same way (plus a negation
just before it: "do not press 1" does not contain "press 1").
"""
from dataclasses import dataclass

from rapidfuzz import fuzz

from app.equivalence import joins, same
from app.spoken import heard_words, ordinal_value

RULES = ("number", "negation", "order", "missing-word", "extra-word", "score")
NEGATIONS = frozenset("not no never none nobody nothing nowhere neither nor without".split())
# Words a recognizer (or a rephrasing) may drop or add without changing what a prompt means;
# "dot", "slash" and "dash" are how an address ("acme-energy.com/pay") is read aloud, and
# written without.
STOP_WORDS = frozenset("a an the and of to that please just so well oh dot slash dash".split())
# Words that may be heard without being expected: besides the stop words, prepositions,
# possessives ("for our sales team"), intensifiers and the keypad's nouns ("press the star key"
# is "press star") add no fact.
NEUTRAL_EXTRAS = STOP_WORDS | frozenset("on at in by for with from into about our your my its their "
                                        "very really truly now also currently key button sign".split())
_ANTONYM_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "mis")
_INDEL, _STOP_INDEL, _SUBSTITUTE = 1.0, 0.6, 1.0
_MAX_RUN = 16
# Word pairs one verdict may compare (about a second): a 60-second listening window holds some
# 150 words, so only a forged webhook gets near it, and it must not hold the server up.
MAX_COMPARED = 150_000


@dataclass(frozen=True)
class Judgement:
    """One expected phrase against one transcript: the rule that failed (None if it passed),
    why in words, the word diff and the similarity score."""
    passed: bool
    score: float
    rule: str | None
    detail: str
    diff: str


@dataclass(frozen=True)
class Op:
    kind: str        # "same" | "sub" | "del" (expected, not heard) | "ins" (heard, not expected)
    expected: tuple  # Words
    heard: tuple     # Words


def judge(expected_text, heard_text, threshold, within=False):
    """Judge a transcript against one expected phrase; `within` for `contains`."""
    expected, heard = heard_words(expected_text), heard_words(heard_text)
    if not heard:
        return Judgement(False, 0.0, "missing-word", "nothing heard", "")
    if not expected:   # "...", "um": nothing that could be checked, so nothing passes
        return Judgement(False, 0.0, "missing-word", "the expected phrase has no words", "")
    if len(expected) * len(heard) > MAX_COMPARED:
        return Judgement(False, 0.0, "score", f"too long to compare: {len(heard)} words heard "
                         f"against {len(expected)} expected", "")
    ops = align(expected, heard, within)
    before, ops = _trim(ops) if within else ([], ops)
    diff = render(ops, before_window=bool(before))
    kept = [w.text for op in ops for w in op.expected if not (op.kind == "del" and _is_stop(w))]
    repaired = [w.text for op in ops for w in (op.expected if op.kind == "same" else op.heard)]
    similarity = round(fuzz.ratio(" ".join(kept), " ".join(repaired)) / 100, 4)
    for rule, check in ((("number", _numbers), ("negation", _negation), ("order", _order),
                         ("missing-word", _missing), ("extra-word", _extra))):
        detail = check(expected, ops, repaired, before, heard)
        if detail:
            return Judgement(False, similarity, rule, detail, diff)
    if similarity < threshold:
        return Judgement(False, similarity, "score", f"similarity {similarity:.2f} below {threshold:g}", diff)
    return Judgement(True, similarity, None, "", diff)


# ---------------------------------------------------------------------------- alignment

def align(expected, heard, within=False):
    """The cheapest edit script turning `expected` into `heard`, as a list of `Op`.

    With `within`, heard words before and after the match cost nothing (they come out as
    leading and trailing "ins" ops for `_trim`).
    """
    n, m = len(expected), len(heard)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    back = [[None] * (m + 1) for _ in range(n + 1)]
    expected_runs, heard_runs = _number_runs(expected), _number_runs(heard)
    heard_texts = [h.text for h in heard]
    insert = [_ins_cost(h) for h in heard]
    heard_pairs = [None, None] + [(heard_texts[j - 2], heard_texts[j - 1]) for j in range(2, m + 1)]
    heard_rejoined = [None, None] + [_rejoined(*heard_pairs[j]) for j in range(2, m + 1)]
    heard_rejoined_set = set(heard_rejoined)
    for j in range(1, m + 1):
        cost[0][j], back[0][j] = (0.0 if within else j * _INDEL), (0, j - 1, "ins")
    for i in range(1, n + 1):
        e = expected[i - 1]
        text, strict, delete = e.text, e.strict, _del_cost(e)
        before = (expected[i - 2].text, text) if i >= 2 else None
        before_rejoined = _rejoined(*before) if before else None
        rejoin_here = before_rejoined is not None and before_rejoined in heard_rejoined_set
        before_strict = strict or (i >= 2 and expected[i - 2].strict)
        free_insert = within and i == n
        above, row, moves = cost[i - 1], cost[i], back[i]
        row[0], moves[0] = above[0] + delete, (i - 1, 0, "del")
        for j in range(1, m + 1):
            h = heard_texts[j - 1]
            best, move = above[j - 1] + (0.0 if same(text, h, strict) else _SUBSTITUTE), (i - 1, j - 1, "pair")
            if above[j] + delete < best:
                best, move = above[j] + delete, (i - 1, j, "del")
            step = row[j - 1] + (0.0 if free_insert else insert[j - 1])
            if step < best:
                best, move = step, (i, j - 1, "ins")
            if j >= 2 and above[j - 2] < best and joins((text,), heard_pairs[j], strict):
                best, move = above[j - 2], (i - 1, j - 2, "join")
            if before and cost[i - 2][j - 1] < best and joins(before, (h,), before_strict):
                best, move = cost[i - 2][j - 1], (i - 2, j - 1, "join")
            if rejoin_here and before_rejoined == heard_rejoined[j] and cost[i - 2][j - 2] < best \
                    and before != heard_pairs[j]:
                best, move = cost[i - 2][j - 2], (i - 2, j - 2, "join")   # "e zpass" / "ez pass"
            if expected_runs[i] and heard_runs[j]:
                for ei, hj in _same_digits(expected_runs[i], heard_runs[j]):
                    if cost[ei][hj] < best:
                        best, move = cost[ei][hj], (ei, hj, "join")
            row[j], moves[j] = best, move
    return _backtrace(expected, heard, back, n, m)


def _rejoined(first, second):
    """Two words as one string, for a word boundary heard in another place ("E-ZPass" written
    "e zpass", heard "ez pass"); None for numbers, which the number runs compare."""
    if first[:1].isdecimal() or second[:1].isdecimal():
        return None
    return first + second


def _number_runs(sequence):
    """For each end position, the runs of 2+ adjacent numbers ending there: {digits: start}."""
    runs = [{} for _ in range(len(sequence) + 1)]
    for end in range(1, len(sequence) + 1):
        digits, start = "", end
        while start > 0 and sequence[start - 1].is_number and end - start < _MAX_RUN:
            start -= 1
            digits = ordinal_value(sequence[start].text) + digits
            runs[end].setdefault(digits, start)
    return runs


def _same_digits(expected_runs, heard_runs):
    """Number runs on both sides that spell the same digits ("1234" / "1 2 3 4"), not 1:1."""
    for digits, start in expected_runs.items():
        other = heard_runs.get(digits)
        if other is not None:
            yield start, other


def _del_cost(word):
    return _STOP_INDEL if _is_stop(word) else _INDEL


def _ins_cost(word):
    return _STOP_INDEL if word.text in STOP_WORDS else _INDEL


def _is_stop(word):
    return word.text in STOP_WORDS


def _backtrace(expected, heard, back, i, j):
    ops = []
    while i or j:
        pi, pj, how = back[i][j]
        e, h = tuple(expected[pi:i]), tuple(heard[pj:j])
        if how == "pair":
            how = "same" if same(e[0].text, h[0].text, e[0].strict) else "sub"
        elif how == "join":
            how = "same"
        ops.append(Op(how, e, h))
        i, j = pi, pj
    return ops[::-1]


def _trim(ops):
    """Split leading/trailing heard-only words from the matched stretch (for `contains`)."""
    start = 0
    while start < len(ops) and ops[start].kind == "ins":
        start += 1
    end = len(ops)
    while end > start and ops[end - 1].kind == "ins":
        end -= 1
    return [w for op in ops[:start] for w in op.heard], ops[start:end]


# ---------------------------------------------------------------------------- rules

def number_groups(texts):
    """Runs of adjacent numbers, each read as one digit string: a PIN read digit by digit
    ("1 2 3 4") or a phone number grouped another way is the same fact."""
    groups, run = [], []
    for text in list(texts) + [""]:
        if text[:1].isdecimal():
            run.append(ordinal_value(text))
        elif run:
            groups.append("".join(run))
            run = []
    return groups


def _numbers(expected, ops, repaired, before, heard):
    wanted, got = number_groups(w.text for w in expected), number_groups(repaired)
    if wanted == got:
        return ""
    if sorted(wanted) == sorted(got):
        return ""   # same numbers, another order: reported by the order rule
    return f"expected {' '.join(wanted) or 'no number'}, heard {' '.join(got) or 'no number'}"


def _negation(expected, ops, repaired, before, heard):
    wanted = sum(w.text in NEGATIONS for w in expected)
    got = sum(text in NEGATIONS for text in repaired)
    if before and before[-1].text in NEGATIONS:
        return f"heard {before[-1].text!r} just before the phrase"
    if got > wanted:
        extra = [op.heard[0].text for op in ops if op.heard and op.kind != "same" and op.heard[0].text in NEGATIONS]
        return f"added: {extra[0] if extra else 'not'}"
    if got < wanted:
        lost = [op.expected[0].text for op in ops if op.kind != "same" and op.expected and op.expected[0].text in NEGATIONS]
        return f"missing: {lost[0] if lost else 'not'}"
    for op in ops:
        if op.kind == "sub" and _antonyms(op.expected[0].text, op.heard[0].text):
            return f"{op.expected[0].text} -> {op.heard[0].text}"
    return ""


def _antonyms(a, b):
    short, long = sorted((a, b), key=len)
    return any(long == prefix + short for prefix in _ANTONYM_PREFIXES)


def _unmatched(ops):
    expected = [w for op in ops if op.kind in ("del", "sub") for w in op.expected if not _is_stop(w)]
    heard = [w for op in ops if op.kind in ("ins", "sub") for w in op.heard]
    return expected, heard


def _order(expected, ops, repaired, before, heard):
    wanted = number_groups(w.text for w in expected)
    got = number_groups(repaired)
    if wanted != got and sorted(wanted) == sorted(got):
        return f"numbers in another order: expected {' '.join(wanted)}, heard {' '.join(got)}"
    missing, extra = _unmatched(ops)
    moved = [e.text for e in missing if any(same(e.text, h.text, e.strict) for h in extra)]
    return f"heard out of order: {', '.join(moved)}" if moved else ""


def _missing(expected, ops, repaired, before, heard):
    missing = []
    for op in ops:
        if op.kind == "del":
            missing += [w.text for w in op.expected if not _is_stop(w)]
        elif op.kind == "sub" and not (_is_stop(op.expected[0]) and op.heard[0].text in STOP_WORDS):
            missing.append(op.expected[0].text)
    more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
    return f"missing: {', '.join(missing[:4])}{more}" if missing else ""


def _extra(expected, ops, repaired, before, heard):
    added = [w.text for op in ops if op.kind == "ins" for w in op.heard if w.text not in NEUTRAL_EXTRAS]
    more = f" and {len(added) - 4} more" if len(added) > 4 else ""
    return f"added: {', '.join(added[:4])}{more}" if added else ""


# ---------------------------------------------------------------------------- diff

def render(ops, before_window=False):
    """The word diff: "press [2→1] for sales", "you can [+not] change", "[-please] hold"."""
    parts = ["…"] if before_window else []
    for op in ops:
        e, h = " ".join(w.text for w in op.expected), " ".join(w.text for w in op.heard)
        parts.append({"same": e, "sub": f"[{e}→{h}]", "del": f"[-{e}]", "ins": f"[+{h}]"}[op.kind])
    return " ".join(parts)
