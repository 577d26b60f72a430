"""An offline Amazon Lex bot: reads a V1 or V2 export and holds conversations with it.

A Connect flow hands caller speech to Lex and branches on the intent it recognizes, so offline
calls need a stand-in that answers the way the real bot would, from the export alone. There is no
model to train: an utterance is matched against the intents' sample utterances with their `{Slot}`
placeholders filled from the slot types, fuzzily, because the transcript comes from a recognizer
that can misspell ("alan turnig").

Scale. Every score is a rapidfuzz similarity from 0 to 1. Lex's own NLU confidence threshold
(V2 `nluConfidenceThreshold`, V1 `nluIntentConfidenceThreshold`, default 0.4 for both) is mapped
onto it as `min_score = 0.6 + 0.4 * threshold`: the default 0.4 asks for 0.76, 0 asks for 0.6,
1.0 asks for an exact match. A candidate scores the lower of the whole sentence's similarity and
each slot value's own similarity, so a carrier phrase cannot carry an unknown name through.

Dialogue (the same for V1 and V2, after the V1 and V2 AMAZON.FallbackIntent documentation):
- no match, or no input: the clarification prompt, state ElicitIntent, at most `maxAttempts`
  times in a row (V2 has no such prompt: "Sorry, can you please repeat that?", twice); one more
  miss ends the exchange;
- a required slot still empty: its prompt, state ElicitSlot; V1 `maxAttempts` counts every time
  the prompt is spoken, V2 `maxRetries` counts the repeats after the first;
- all required slots filled: state Fulfilled with the conclusion (V1 `conclusionStatement`, V2
  closing response) or None;
- an exchange that ends without understanding resolves to the fallback intent when the bot has
  one (state Fulfilled, intent "FallbackIntent", its closing response), else state Failed with
  the abort statement (V2 has none: "Sorry, I could not understand. Goodbye.").

Slot values are always the slot type's canonical value (what Lex reports as the top resolution),
never the synonym or the raw transcript. Built-in slot types (AMAZON.Number, AMAZON.AlphaNumeric,
AMAZON.FirstName, ...) take a free-form token: digits for numbers, one word for the rest.
Not modelled: code hooks, confirmation prompts, contexts, switching intent during slot
elicitation. Nothing here is random.
"""
from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path, PurePosixPath

from rapidfuzz import fuzz, process

from app.errors import LexError
from app.matching import normalize

DEFAULT_CONFIDENCE_THRESHOLD = 0.4
DEFAULT_CLARIFICATION = "Sorry, can you please repeat that?"
DEFAULT_CLARIFICATION_ATTEMPTS = 2
DEFAULT_ABORT = "Sorry, I could not understand. Goodbye."
DEFAULT_SLOT_ATTEMPTS = 2
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"

ELICIT_INTENT, ELICIT_SLOT, FULFILLED, FAILED = "ElicitIntent", "ElicitSlot", "Fulfilled", "Failed"

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")
_TAG = re.compile(r"<[^>]+>")


def min_score(confidence_threshold: float) -> float:
    """Map Lex's 0-1 NLU confidence threshold onto the fuzzy-similarity scale (see module doc)."""
    return min(1.0, max(0.0, 0.6 + 0.4 * confidence_threshold))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class SlotType:
    """What a slot accepts: an enumeration (phrases -> canonical values) or a built-in token."""
    name: str
    phrases: tuple[str, ...] = ()
    canonical: tuple[str, ...] = ()
    builtin: str | None = None
    pattern: str | None = None

    @property
    def max_words(self) -> int:
        """The longest span worth trying: a value, plus one word the recognizer may have split."""
        if self.builtin:
            return 1 if self.builtin not in ("AMAZON.NUMBER", "AMAZON.ALPHANUMERIC") else 12
        return max((len(p.split()) for p in self.phrases), default=1) + 1

    def resolve(self, words: tuple[str, ...]) -> tuple[str, str, float] | None:
        """(phrase to score against, canonical value, similarity) for the words, or None."""
        if self.builtin:
            return self._resolve_builtin(words)
        text = " ".join(words)
        best = process.extractOne(text, self.phrases, scorer=fuzz.ratio)
        if best is None:
            return None
        phrase, score, index = best
        return phrase, self.canonical[index], score / 100

    def _resolve_builtin(self, words):
        """Built-ins are free-form: digits for numbers, spelled-out runs for alphanumerics."""
        text = " ".join(words)
        if self.builtin == "AMAZON.NUMBER":
            value = "".join(words) if all(w.isdigit() for w in words) else None
        elif self.builtin == "AMAZON.ALPHANUMERIC":
            value = words[0] if len(words) == 1 else (
                "".join(words) if all(len(w) == 1 for w in words) else None)
        else:
            value = words[0] if len(words) == 1 else None
        if value is None or (self.pattern and not re.fullmatch(self.pattern, value)):
            return None
        return text, value, 1.0


@dataclass(frozen=True)
class Template:
    """A normalized sample utterance: literal text and `{Slot}` placeholders, in order."""
    source: str
    parts: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> "Template":
        """Split on placeholders first: normalizing would strip their braces."""
        parts, pos = [], 0
        for found in _PLACEHOLDER.finditer(text):
            parts += _literal(text[pos:found.start()])
            parts.append(("slot", found.group(1)))
            pos = found.end()
        return cls(text, tuple(parts + _literal(text[pos:])))

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(value for kind, value in self.parts if kind == "slot")


def _literal(text):
    words = normalize(text)
    return [("text", words)] if words else []


@dataclass(frozen=True)
class Slot:
    """One slot of an intent, with the prompt that asks for it."""
    name: str
    type: SlotType
    required: bool
    prompt: str | None
    max_attempts: int
    priority: int
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True)
class Intent:
    """One intent: how callers say it, its slots (in elicitation order) and its closing words."""
    name: str
    templates: tuple[Template, ...]
    slots: dict[str, Slot]
    conclusion: str | None = None
    is_fallback: bool = False


@dataclass(frozen=True)
class Match:
    """The best reading of an utterance: its 0-1 score and the slot values it fills."""
    score: float
    slots: dict[str, str] = field(default_factory=dict)

    def beats(self, other: "Match | None") -> bool:
        """Higher score wins; on a tie, the reading that fills more slots."""
        return other is None or (self.score, len(self.slots)) > (other.score, len(other.slots))


# --------------------------------------------------------------------------- matching


def match_template(template: Template, heard: str, slots: dict[str, Slot],
                   needed: float) -> Match | None:
    """Best way to read `heard` (normalized) as `template`, or None when below `needed`.

    Each placeholder takes a span of the heard words, in order; the span is resolved against the
    slot type, and the template with every slot replaced by its resolved phrase is compared with
    what was heard.
    """
    words = tuple(heard.split())
    best = None
    for pieces, values, slot_scores in _readings(template.parts, words, 0, slots, needed, {}):
        score = min([fuzz.ratio(" ".join(pieces), heard) / 100] + slot_scores)
        candidate = Match(round(score, 4), values)
        if score >= needed and candidate.beats(best):
            best = candidate
    return best


def _readings(parts, words, start, slots, needed, cache):
    """Yield (text pieces, slot values, slot scores) for every placement of the slot spans."""
    if not parts:
        yield [], {}, []
        return
    (kind, value), rest = parts[0], parts[1:]
    if kind == "text":
        for pieces, values, scores in _readings(rest, words, start, slots, needed, cache):
            yield [value] + pieces, values, scores
        return
    slot = slots[value]
    for begin in range(start, len(words)):
        for end in range(begin + 1, min(len(words), begin + slot.type.max_words) + 1):
            resolved = _resolve(slot.type, words[begin:end], cache)
            if resolved is None or resolved[2] < needed:
                continue
            phrase, canonical, score = resolved
            for pieces, values, scores in _readings(rest, words, end, slots, needed, cache):
                yield [phrase] + pieces, {value: canonical, **values}, [score] + scores


def _resolve(slot_type, span, cache):
    """Resolve a span once per utterance: many placements share the same span."""
    key = (slot_type.name, span)
    if key not in cache:
        cache[key] = slot_type.resolve(span)
    return cache[key]


def best_match(templates, heard, slots, needed, must_fill=None) -> Match | None:
    """The best template reading of `heard`; with `must_fill`, only readings that fill it."""
    best = None
    for template in templates:
        if must_fill and must_fill not in template.slot_names:
            continue
        found = match_template(template, heard, slots, needed)
        if found and found.beats(best):
            best = found
    return best


# --------------------------------------------------------------------------- replies, sessions


@dataclass
class LexReply:
    """What the bot answers to one turn, in the terms a Connect flow branches on."""
    state: str
    message: str | None
    intent: str | None
    slots: dict = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """The exchange is over: the Connect block takes a branch now."""
        return self.state in (FULFILLED, FAILED)


class LexSession:
    """One caller's conversation with the bot: which intent is in progress and what is filled."""

    def __init__(self, bot: "LexBot", attributes: dict | None = None):
        self.bot = bot
        self.attributes = dict(attributes or {})
        self._reset()
        self._misses = 0

    def _reset(self):
        self._intent: Intent | None = None
        self._slots: dict[str, str] = {}
        self._eliciting: Slot | None = None
        self._prompts = 0

    def turn(self, utterance: str | None) -> LexReply:
        """One exchange. utterance None means the caller said nothing (input timeout)."""
        heard = normalize(utterance) if utterance else ""
        if self._eliciting:
            return self._fill_slot(heard)
        return self._recognize(heard)

    def _recognize(self, heard):
        found = self.bot.recognize(heard) if heard else None
        if found is None:
            return self._miss()
        intent, match = found
        self._misses = 0
        self._intent, self._slots = intent, dict(match.slots)
        return self._next_step()

    def _miss(self):
        """Clarify while attempts remain; then fall back, or fail."""
        self._misses += 1
        if self._misses <= self.bot.clarification_attempts:
            return LexReply(ELICIT_INTENT, self._say(self.bot.clarification), None, {})
        self._misses = 0
        return self._give_up(None)

    def _give_up(self, intent_name):
        """Lex hands an exchange it could not understand to the fallback intent when there is one."""
        self._reset()
        fallback = self.bot.fallback_intent
        if fallback:
            return LexReply(FULFILLED, self._say(fallback.conclusion), fallback.name, {})
        return LexReply(FAILED, self._say(self.bot.abort), intent_name, {})

    def _next_step(self):
        """Ask for the first empty required slot, or close the intent."""
        missing = [s for s in self._intent.slots.values() if s.required and s.name not in self._slots]
        if missing:
            self._eliciting, self._prompts = missing[0], 1
            return self._ask_slot()
        reply = LexReply(FULFILLED, self._say(self._intent.conclusion), self._intent.name,
                         dict(self._slots))
        self._reset()
        return reply

    def _ask_slot(self):
        return LexReply(ELICIT_SLOT, self._say(self._eliciting.prompt), self._intent.name,
                        dict(self._slots))

    def _fill_slot(self, heard):
        slot = self._eliciting
        templates = chain([Template(f"{{{slot.name}}}", (("slot", slot.name),))],
                          slot.templates, self._intent.templates)
        found = best_match(templates, heard, self._intent.slots, self.bot.min_score,
                           must_fill=slot.name) if heard else None
        if found:
            self._slots.update(found.slots)
            return self._next_step()
        if self._prompts < slot.max_attempts:
            self._prompts += 1
            return self._ask_slot()
        return self._give_up(self._intent.name)

    def _say(self, text):
        """Fill `{Slot}` with slot values and `[attribute]` with session attributes, as Lex does."""
        if text is None:
            return None
        text = _PLACEHOLDER.sub(lambda m: self._slots.get(m.group(1), m.group(0)), text)
        return re.sub(r"\[([^\]]+)\]",
                      lambda m: str(self.attributes.get(m.group(1), m.group(0))), text)


# --------------------------------------------------------------------------- the bot


class LexBot:
    """A bot loaded from an export, ready to start sessions."""

    def __init__(self, name, locale, intents, confidence_threshold=DEFAULT_CONFIDENCE_THRESHOLD,
                 clarification=DEFAULT_CLARIFICATION,
                 clarification_attempts=DEFAULT_CLARIFICATION_ATTEMPTS, abort=DEFAULT_ABORT,
                 source=""):
        self.name: str = name
        self.locale: str = locale
        self.intents: dict[str, Intent] = intents
        self.confidence_threshold: float = confidence_threshold
        self.clarification: str | None = clarification
        self.clarification_attempts: int = clarification_attempts if clarification else 0
        self.abort: str | None = abort
        self.source: str = source

    def __repr__(self):
        return f"LexBot({self.name!r}, {self.locale!r}, intents={list(self.intents)})"

    @property
    def min_score(self) -> float:
        return min_score(self.confidence_threshold)

    @property
    def fallback_intent(self) -> Intent | None:
        return next((i for i in self.intents.values() if i.is_fallback), None)

    @classmethod
    def load(cls, path, locale: str | None = None) -> "LexBot":
        """path: a V1 JSON file, a V2 export zip, a V2 export folder, or a folder holding exactly
        one of those (e.g. `aws-lex-bot/`). Anything unreadable raises LexError naming the file
        and what is wrong. `locale` picks a V2 locale (default en_US, else the first)."""
        from app.simulator import lex_loader_shim  # noqa: F401  (placeholder, replaced below)

    def new_session(self, attributes: dict | None = None) -> LexSession:
        return LexSession(self, attributes)

    def recognize(self, heard: str) -> tuple[Intent, Match] | None:
        """The intent the normalized utterance most likely means, with its slots, or None.

        Ties go to the intent listed first in the export, so results never depend on chance.
        """
        best = None
        for intent in self.intents.values():
            found = best_match(intent.templates, heard, intent.slots, self.min_score)
            if found and (best is None or found.beats(best[1])):
                best = (intent, found)
        return best
