"""What a bot is made of, as read from an export: slot types, slots, sample utterances, intents.

Nothing here knows about files or dialogue; `export.py` builds these, `nlu.py` reads
utterances with them and `dialogue.py` holds conversations over them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from rapidfuzz import fuzz, process

from app.matching import normalize
from app.simulator.lex.builtins import Context, max_words, resolve_builtin

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")
FREE_TEXT_SIMILARITY = 0.9      # how close words must be to a custom value outside a prompt


@dataclass(frozen=True)
class SlotType:
    """What a slot accepts: an enumeration (phrases -> canonical values) or a built-in type,
    optionally narrowed by a regular expression (a V1 regexConfiguration, a V2 regexFilter)."""
    name: str
    phrases: tuple[str, ...] = field(default=(), repr=False)
    canonical: tuple[str, ...] = field(default=(), repr=False)
    builtin: str | None = None
    pattern: str | None = None

    @cached_property
    def max_words(self) -> int:
        """The longest span worth trying: a value, plus one word the recognizer may have split."""
        if self.builtin:
            return max_words(self.builtin)
        return max((len(p.split()) for p in self.phrases), default=1) + 1

    def resolve(self, words: tuple[str, ...], context: Context, free_text: bool = False,
                needed: float = 0.0) -> tuple[str, str, float] | None:
        """(phrase to compare with, value Lex reports, 0-1 similarity) for the words, or None.

        `free_text`: the words come from an utterance that may also name the intent, so a value
        must look like one (a known name, a number, a custom value said closely enough).
        """
        if self.builtin:
            value = resolve_builtin(self.builtin, words, context, free_text)
            if value is None or not self._allowed(value):
                return None
            return " ".join(words), value, 1.0
        text = " ".join(words)
        cutoff = max(needed, FREE_TEXT_SIMILARITY if free_text else 0.0) * 100
        best = process.extractOne(text, self.phrases, scorer=fuzz.ratio, score_cutoff=cutoff)
        singular = " ".join(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)
        if best is None and singular != text:       # "fords" for the value "Ford"
            best = process.extractOne(singular, self.phrases, scorer=fuzz.ratio,
                                      score_cutoff=cutoff)
        if best is None:
            return None
        phrase, score, index = best
        return phrase, self.canonical[index], score / 100

    def _allowed(self, value: str) -> bool:
        """A regex-derived type keeps only values its pattern matches in full."""
        return not self.pattern or re.fullmatch(self.pattern, value) is not None \
            or re.fullmatch(self.pattern, value.upper()) is not None


@dataclass(frozen=True)
class Template:
    """A normalized sample utterance: literal text and `{Slot}` placeholders, in order."""
    source: str
    parts: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str) -> "Template":
        """Split on placeholders first: normalizing would strip their braces."""
        parts, pos = [], 0
        for found in PLACEHOLDER.finditer(text):
            parts += _literal(text[pos:found.start()])
            parts.append(("slot", found.group(1)))
            pos = found.end()
        return cls(text, tuple(parts + _literal(text[pos:])))

    @property
    def slot_names(self) -> tuple[str, ...]:
        return tuple(value for kind, value in self.parts if kind == "slot")

    @property
    def text_words(self) -> tuple[str, ...]:
        return tuple(w for kind, value in self.parts if kind == "text" for w in value.split())


def _literal(text):
    words = normalize(text)
    return [("text", words)] if words else []


@dataclass(frozen=True)
class Slot:
    """One slot of an intent, with the prompt that asks for it.

    `max_attempts` is how many times the prompt may be spoken in all (V1 maxAttempts; V2
    maxRetries + 1).
    """
    name: str
    type: SlotType
    required: bool
    prompt: str | None
    max_attempts: int
    priority: int
    templates: tuple[Template, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Intent:
    """One intent: how callers say it, its slots (in elicitation order) and its closing words."""
    name: str
    templates: tuple[Template, ...] = field(repr=False)
    slots: dict[str, Slot] = field(repr=False)
    conclusion: str | None = None
    is_fallback: bool = False
