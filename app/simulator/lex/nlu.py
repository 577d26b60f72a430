"""Intent recognition: which intent an utterance means, how confident that is, and its slots.

Two readings are scored for every intent, each from 0 to 1, and the better one counts:

1. Word evidence (how Lex generalizes beyond its samples). Each term of the bot's sample
   utterances is weighted by how well it tells intents apart (an IDF over the bot's intents:
   "balance" in one intent of three weighs more than "account" in all three). Slot values are
   found first and set aside: a custom value ("pepperoni") is evidence for its intent, a
   built-in value (a date, a number) is neutral unless the samples put the same word before
   it ("in {Location}"). The score mixes the share of the known evidence that is this intent's,
   how much of what was said the bot knows at all (unknown words count against it), and how
   much of the intent's closest sample was said (see `IntentModel.score`). Misrecognized words
   meet their term within one or two edits (rapidfuzz Levenshtein).
2. Template similarity (the caller said nearly a sample). A sample with its `{Slot}`
   placeholders filled from the utterance is compared with it whole (rapidfuzz ratio); the
   similarity counts from SIMILARITY_FLOOR up (carrier words alone make sentences alike).
   Slot answers keep the plain similarity threshold `min_score` (`0.6 + 0.4 * threshold`).

An intent is chosen when its confidence reaches the bot's NLU confidence threshold (V2
`nluConfidenceThreshold`, V1 `nluIntentConfidenceThreshold`, default 0.4); below it the input is
not understood. Ties go to the intent listed first. Nothing here is random.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from app.simulator.lex.builtins import Context, is_strict
from app.simulator.lex.model import Intent, Slot, Template
from app.simulator.lex.words import STOPWORDS, content_terms, term

TYPICAL_FLOOR = 0.5     # a term in one sample of an intent weighs this much of one in all
BASE, COVERAGE, SAMPLE = 0.1, 0.6, 0.3  # how the word-evidence confidence is mixed (see score)
SIMILARITY_FLOOR = 0.7  # whole-sample similarity that is worth nothing as a confidence
UNKNOWN_WEIGHT = 0.6    # a word the bot does not know, against a typical known word
TOPIC_FLOOR = 0.3       # confidence kept when none of the intent's typical words was said


def min_score(confidence_threshold: float) -> float:
    """Map Lex's 0-1 NLU confidence threshold onto the whole-sample similarity scale."""
    return min(1.0, max(0.0, 0.6 + 0.4 * confidence_threshold))


def similarity_confidence(similarity: float, filled_every_slot: bool = False) -> float:
    """A whole-sample similarity as a confidence. A reading that filled every placeholder of its
    sample is judged on the threshold scale (`min_score`); otherwise only near-identical
    sentences count, because carrier words alone make 'tell me a joke' 0.76 like 'tell me about
    {Rocket} rocket'."""
    floor = 0.6 if filled_every_slot else SIMILARITY_FLOOR
    return max(0.0, min(1.0, (similarity - floor) / (1 - floor)))


@dataclass(frozen=True)
class Match:
    """One reading of an utterance: its 0-1 score and the slot values it fills."""
    score: float
    slots: dict[str, str] = field(default_factory=dict)

    def beats(self, other: "Match | None") -> bool:
        """Higher score wins; on a tie, the reading that fills more slots."""
        return other is None or (self.score, len(self.slots)) > (other.score, len(other.slots))


@dataclass(frozen=True)
class Interpretation:
    """An intent Lex could pick for an utterance, as Lex V2 lists its interpretations."""
    intent: Intent
    confidence: float
    slots: dict[str, str]


# --------------------------------------------------------------------------- whole samples


class Reader:
    """Resolves slot spans of one utterance, remembering each (type, span) it has tried."""

    def __init__(self, context: Context):
        self.context = context
        self._cache = {}

    def spans(self, slot: Slot, words, needed):
        """Every (begin, end, phrase, value, score) of `words` that reads as the slot's type."""
        key = ("spans", slot.type.name, words, needed)
        if key not in self._cache:
            found = []
            for begin in range(len(words)):
                for end in range(begin + 1, min(len(words), begin + slot.type.max_words) + 1):
                    resolved = self.resolve(slot, words[begin:end], needed=needed)
                    if resolved is not None and resolved[2] >= needed:
                        found.append((begin, end, *resolved))
            self._cache[key] = found
        return self._cache[key]

    def resolve(self, slot: Slot, words, free_text=False, needed=0.0):
        key = (slot.type.name, words, free_text, needed)
        if key not in self._cache:
            self._cache[key] = slot.type.resolve(words, self.context, free_text, needed)
        return self._cache[key]


def match_template(template: Template, heard: str, slots: dict[str, Slot], needed: float,
                   reader: Reader) -> Match | None:
    """Best way to read `heard` (normalized) as `template`, or None when below `needed`.

    Each placeholder takes a span of the heard words, in order, or stays empty; a span is
    resolved against the slot type, and the template with every slot replaced by its resolved
    phrase (an empty one dropped) is compared with what was heard. A candidate scores the lower
    of that similarity and each slot value's own, so a carrier phrase cannot carry an unknown
    value through.
    """
    words = tuple(heard.split())
    best = None
    for pieces, values, slot_scores in _readings(template.parts, words, 0, slots, needed, reader):
        score = min([fuzz.ratio(" ".join(pieces), heard) / 100] + slot_scores)
        candidate = Match(round(score, 4), values)
        if score >= needed and candidate.beats(best):
            best = candidate
    return best


def _readings(parts, words, start, slots, needed, reader):
    """Yield (text pieces, slot values, slot scores) for every placement of the slot spans."""
    if not parts:
        yield [], {}, []
        return
    (kind, value), rest = parts[0], parts[1:]
    if kind == "text":
        for pieces, values, scores in _readings(rest, words, start, slots, needed, reader):
            yield [value] + pieces, values, scores
        return
    # An empty placeholder: the carrier phrase alone names the intent, the slot is asked later.
    yield from _readings(rest, words, start, slots, needed, reader)
    for begin, end, phrase, canonical, score in reader.spans(slots[value], words, needed):
        if begin >= start:
            for pieces, values, scores in _readings(rest, words, end, slots, needed, reader):
                yield [phrase] + pieces, {value: canonical, **values}, [score] + scores


def best_match(templates, heard, slots, needed, reader, must_fill=None) -> Match | None:
    """The best template reading of `heard`; with `must_fill`, only readings that fill it."""
    return best_sample(templates, heard, slots, needed, reader, must_fill)[0]


def best_sample(templates, heard, slots, needed, reader, must_fill=None):
    """(best reading, the sample it reads) or (None, None)."""
    best, chosen = None, None
    for template in templates:
        if must_fill and must_fill not in template.slot_names:
            continue
        found = match_template(template, heard, slots, needed, reader)
        if found and (not must_fill or must_fill in found.slots) and found.beats(best):
            best, chosen = found, template
    return best, chosen


# --------------------------------------------------------------------------- word evidence


@dataclass
class _Span:
    start: int
    end: int
    slot: str
    value: str
    custom: bool
    cued: bool = False


class IntentModel:
    """The word evidence for the intents of one bot locale (built once, when the bot loads).

    A term's weight for an intent is its IDF across the bot's intents times how typical it is of
    the intent (the share of the intent's samples that use it): "baggage" in every TrackBaggage
    sample outweighs "arriving" in one BookFlight sample.
    """

    def __init__(self, intents: list[Intent]):
        self.intents = [i for i in intents if not i.is_fallback]
        self.samples = {i.name: [(t, set(content_terms(t.text_words))) for t in i.templates]
                        for i in self.intents}
        self.vocab = {name: set().union(*(terms for _, terms in samples))
                      for name, samples in self.samples.items()}
        everything = set().union(*self.vocab.values()) if self.vocab else set()
        count = max(1, len(self.intents))
        self.idf = {t: math.log((count + 1) / (sum(t in v for v in self.vocab.values()) + 0.5))
                    for t in everything}
        self.shares = {name: {t: _share_of(t, samples) for t in self.vocab[name]}
                       for name, samples in self.samples.items()}
        self.weights = {name: {t: self.idf[t] * (TYPICAL_FLOOR + (1 - TYPICAL_FLOOR) * share)
                               for t, share in shares.items()}
                        for name, shares in self.shares.items()}
        self.strength = {t: max(w[t] for w in self.weights.values() if t in w) for t in everything}
        self.typical = sum(self.strength.values()) / len(self.strength) if self.strength else 1.0
        self.strongest = max(self.strength.values(), default=1.0)
        self.cues = {i.name: _slot_cues(i) for i in self.intents}

    @cached_property
    def all_terms(self) -> tuple[str, ...]:
        return tuple(sorted(self.idf))

    def score(self, intent: Intent, words: tuple[str, ...], reader: Reader) -> Match | None:
        """The word-evidence reading of the utterance for `intent`, or None without evidence.

        confidence = share * (BASE + COVERAGE * known + SAMPLE * sample) * topic, where `share`
        is the part of the known evidence that speaks for this intent, `known` the part of what
        was said that the bot knows at all (unknown words weigh UNKNOWN_WEIGHT of a typical
        word), `sample` how much of the intent's closest sample was said, and `topic` lowers an
        intent whose typical words were not said when unknown words surround the rest.
        """
        spans = self._spans(intent, words, reader)
        used = {i for span in spans for i in range(span.start, span.end)}
        terms = self._terms([w for i, w in enumerate(words) if i not in used])
        custom = [span for span in spans if span.custom]
        cued = [span for span in spans if span.cued and not span.custom]
        weights = self.weights.get(intent.name, {})
        found, known, unknown, said = 0.0, 0.0, 0.0, set()
        for t in terms:
            match, likeness = self._known(t, weights)
            if match is None:
                unknown += self.typical * UNKNOWN_WEIGHT
                continue
            known += self.strength[match]
            if match in weights:
                found += weights[match] * likeness
                said.add(match)
        if not said and not custom:
            return None         # a city after "in" alone does not make "the weather in Paris"
        found += self.strongest * len(custom) + self.typical * len(cued)
        known += self.strongest * len(custom) + self.typical * len(cued)
        share, coverage = found / known, known / (known + unknown)
        filled = {span.slot for span in spans}
        sample = max((self._sample_share(weights, terms_, template, said, filled, len(custom))
                      for template, terms_ in self.samples.get(intent.name, [])), default=0.0)
        confidence = share * (BASE + COVERAGE * coverage + SAMPLE * sample)
        topic = max(self._topicality(intent, said, custom), 0.5 if cued else 0.0)
        # An atypical word only costs when unknown words surround it ("order candy").
        confidence *= max(TOPIC_FLOOR, 1 - (1 - topic) * (1 - coverage) * 2)
        return Match(round(confidence, 4), {span.slot: span.value for span in spans})

    def _topicality(self, intent, said, custom) -> float:
        """Whether what was said is what the intent is about: the most typical term said (or a
        custom slot value), against the intent's most typical term. "I'd like to order candy"
        says "order" (one of two OrderFlowers samples) but not "flowers" (both): Lex falls
        back, as its FallbackIntent guide shows with that very example."""
        if custom:
            return 1.0
        shares = self.shares.get(intent.name, {})
        top = max(shares.values(), default=0.0)
        return max((shares[t] for t in said), default=0.0) / top if top else 0.0

    def _terms(self, words):
        """Content terms; a word the bot does not know may be two it does ('birthstone')."""
        terms = []
        for word in words:
            whole = content_terms([word])
            if not whole or whole[0] in self.idf or len(word) < 7:
                terms += whole
                continue
            split = next(([term(word[:i]), term(word[i:])] for i in range(3, len(word) - 2)
                          if term(word[:i]) in self.idf and term(word[i:]) in self.idf), None)
            terms += split or whole
        return terms

    def _known(self, t, weights):
        """(the term as the bot knows it, how alike), preferring this intent's own terms."""
        if t in self.idf:
            return t, 1.0
        if len(t) < 5 or not self.idf:
            return None, 0.0
        edits = 1 if len(t) < 8 else 2
        for pool in (tuple(weights), self.all_terms):
            best = process.extractOne(t, pool, scorer=Levenshtein.distance, score_cutoff=edits)
            if best:
                return best[0], 1 - best[1] / max(len(t), len(best[0]))
        return None, 0.0

    def _sample_share(self, weights, terms, template, said, filled, custom):
        """How much of one sample the caller said: its terms' weight, its placeholders filled;
        a custom slot value said counts like a word of the sample (it names what is wanted)."""
        names = set(template.slot_names)
        weight = sum(weights.get(t, self.typical) for t in terms) + self.typical * len(names)
        got = sum(weights.get(t, self.typical) for t in terms if t in said)
        got += self.typical * len(names & filled)
        extra = self.typical * max(0, custom - len(names & filled))
        return (got + extra) / (weight + extra) if weight + extra else 0.0

    def _spans(self, intent, words, reader):
        """Slot values said in free text: longest first, custom values before built-ins, one
        span per slot; a built-in value is never made of the intent's own sample words; among
        slots of one type, the one whose samples put the word before the span in front of it
        (`from {Origin} to {Destination}`)."""
        candidates = []
        vocabulary = self.vocab.get(intent.name, set())
        own = [term(w) in vocabulary for w in words]
        for slot in intent.slots.values():
            for begin in range(len(words)):
                if words[begin] in STOPWORDS and slot.type.builtin is None:
                    continue
                for end in range(min(len(words), begin + slot.type.max_words), begin, -1):
                    if slot.type.builtin and all(own[begin:end]):
                        continue    # "my bill" is the billing intent's word, not a first name
                    resolved = reader.resolve(slot, words[begin:end], free_text=True)
                    if resolved:
                        cue = words[begin - 1] if begin else ""
                        cued = cue in self.cues.get(intent.name, {}).get(slot.name, ())
                        candidates.append((-(end - begin), slot.type.builtin is not None,
                                           not cued, slot.priority, begin, slot.name,
                                           resolved[1], end, cued))
                        break
        spans, used, taken = [], set(), set()
        for *_, begin, name, value, end, cued in sorted(candidates):
            if name in taken or used & set(range(begin, end)):
                continue
            spans.append(_Span(begin, end, name, value, intent.slots[name].type.builtin is None,
                               cued))
            taken.add(name)
            used |= set(range(begin, end))
        return spans


def _share_of(t, samples) -> float:
    """The share of an intent's samples that use the term."""
    return sum(t in terms for _, terms in samples) / len(samples) if samples else 0.0


def _slot_cues(intent: Intent) -> dict[str, set[str]]:
    """For each slot, the words its samples put right before it ('from', 'to', 'on')."""
    cues = {}
    for template in intent.templates:
        previous = None
        for kind, value in template.parts:
            if kind == "slot" and previous:
                cues.setdefault(value, set()).add(previous.split()[-1])
            previous = value if kind == "text" else None
    return cues


# --------------------------------------------------------------------------- both together


def interpret(model: IntentModel, intents: list[Intent], heard: str, threshold: float,
              context: Context) -> list[Interpretation]:
    """Every intent's best reading of the normalized utterance, most confident first."""
    words = tuple(heard.split())
    reader = Reader(context)
    needed = min_score(threshold)
    found = []
    for order, intent in enumerate(i for i in intents if not i.is_fallback):
        by_words = model.score(intent, words, reader)
        by_sample, template = best_sample(intent.templates, heard, intent.slots, needed, reader)
        best = by_words
        if by_sample:
            filled = bool(by_sample.slots) and set(template.slot_names) <= set(by_sample.slots)
            as_confidence = Match(round(similarity_confidence(by_sample.score, filled), 4),
                                  by_sample.slots)
            best = _together(by_words, as_confidence)
        if best:
            found.append((-best.score, order, Interpretation(intent, best.score, best.slots)))
    return [item for *_, item in sorted(found, key=lambda x: (x[0], x[1]))]


def _together(by_words: Match | None, by_sample: Match) -> Match:
    """The more confident reading, with the slot values both found (the winner's first).

    On a tie the sample reading wins: a caller who said a sample ("I'm {age} and ...") placed
    its values where the sample puts them, as Lex reads them. The other reading adds only slots
    the winner left empty, and not with a value the winner already gave a slot (one span of
    speech fills one slot: "35" is the age, not also the amount)."""
    if by_words is None:
        return by_sample
    first, second = (by_sample, by_words) if by_sample.score >= by_words.score else (by_words, by_sample)
    taken = set(first.slots.values())
    extra = {name: value for name, value in second.slots.items()
             if name not in first.slots and value not in taken}
    return Match(first.score, {**first.slots, **extra})


def read_slot(intent: Intent, slot: Slot, heard: str, needed: float, context: Context):
    """The value of `slot` in an answer to its prompt, or None.

    The answer may be the bare value, a sample of the slot or the intent, or a sentence around
    the value ("it is 1 2 3 4"). A value of a type that is recognizable on its own (a number, a
    date, a known name) is taken wherever it is ("john smith" fills a first name with John);
    otherwise every other word must be a carrier word or a word of the intent's samples.
    """
    words = tuple(heard.split())
    reader = Reader(context)
    templates = [Template(f"{{{slot.name}}}", (("slot", slot.name),)), *slot.templates,
                 *intent.templates]
    found = best_match(templates, heard, intent.slots, needed, reader, must_fill=slot.name)
    if found:
        return found.slots
    known = {term(w) for t in templates for w in t.text_words}
    for length in range(min(len(words), slot.type.max_words), 0, -1):
        for begin in range(len(words) - length + 1):
            resolved = reader.resolve(slot, words[begin:begin + length], needed=needed)
            if resolved is None or resolved[2] < needed:
                continue
            others = words[:begin] + words[begin + length:]
            if is_strict(slot.type.builtin) or all(w in STOPWORDS or term(w) in known
                                                   for w in others):
                return {slot.name: resolved[1]}
    return None
