"""Conversations with a bot: the dialogue rules of Lex V1 and V2, one turn at a time.

After the V1 and V2 AMAZON.FallbackIntent guides:
- input not understood (no intent reaches the confidence threshold, or no input):
  V1 speaks its clarification prompt, state ElicitIntent, up to the prompt's `maxAttempts` times
  in a row; one more miss goes to the fallback intent when the bot has one, else the abort
  statement (state Failed). V2 has no bot-level clarification prompt: the miss goes straight to
  FallbackIntent (state Fulfilled, its closing response), which every V2 bot has;
- a required slot still empty: its prompt, state ElicitSlot. V1 `maxAttempts` counts every time
  the prompt is spoken, V2 `maxRetries` counts the repeats after the first; an answer that
  still fills nothing then goes to the fallback intent, else fails with the abort statement;
- all required slots filled: state Fulfilled with the conclusion (V1 `conclusionStatement`, V2
  closing response) or None.

Slot values are the slot type's canonical value (what Lex reports as the top resolution).
Not modelled: code hooks, confirmation prompts, contexts, switching intent during slot
elicitation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from app.matching import normalize
from app.simulator.lex.builtins import Context
from app.simulator.lex.model import PLACEHOLDER, Intent, Slot
from app.simulator.lex.nlu import read_slot

ELICIT_INTENT, ELICIT_SLOT, FULFILLED, FAILED = "ElicitIntent", "ElicitSlot", "Fulfilled", "Failed"


@dataclass
class LexReply:
    """What the bot answers to one turn, in the terms a Connect flow branches on.

    `confidence` is the recognized intent's 0-1 NLU confidence (None when no intent was
    recognized this turn, e.g. a slot answer or a miss).
    """
    state: str
    message: str | None
    intent: str | None
    slots: dict = field(default_factory=dict)
    confidence: float | None = None

    @property
    def done(self) -> bool:
        """The exchange is over: the Connect block takes a branch now."""
        return self.state in (FULFILLED, FAILED)


def spoken_words(utterance: str) -> str:
    """An utterance as normalized words; '@' and '.' in typed addresses become their names."""
    text = re.sub(r"(?<=\w)@(?=\w)", " at ", utterance)
    text = re.sub(r"(?<=[a-zA-Z])\.(?=[a-zA-Z])", " dot ", text)
    return normalize(text)


# Callers say the same things on every run: each utterance is normalized once (bounded, as
# transcripts vary with recognition noise).
remembered_words = lru_cache(maxsize=4096)(spoken_words)

# A session's context is one of a few (the date, the Lex version), and immutable: shared.
_context = lru_cache(maxsize=64)(Context)


class LexSession:
    """One caller's conversation with the bot: which intent is in progress and what is filled.

    `today` is the call's date, against which dates like "tomorrow" resolve (default: the
    current UTC date, as for a live call).
    """

    def __init__(self, bot, attributes: dict | None = None, today: date | None = None):
        self.bot = bot
        self.attributes = dict(attributes or {})
        self.context = _context(today or date.today(), bot.version)
        self._reset()
        self._misses = 0

    def _reset(self):
        self._intent: Intent | None = None
        self._slots: dict[str, str] = {}
        self._eliciting: Slot | None = None
        self._prompts = 0

    @property
    def expects_intent(self) -> bool:
        """The next turn is read for an intent (not as an answer to a slot prompt)."""
        return self._eliciting is None

    def turn(self, utterance: str | None) -> LexReply:
        """One exchange. utterance None means the caller said nothing (input timeout)."""
        heard = remembered_words(utterance) if utterance else ""
        if self._eliciting:
            return self._fill_slot(heard)
        return self._recognize(heard)

    def _recognize(self, heard):
        found = self.bot.understand(heard, self.context)
        if found is None:
            return self._miss()
        self._misses = 0
        self._intent, self._slots = found.intent, dict(found.slots)
        return self._next_step(found.confidence)

    def _miss(self):
        """V1: clarify while attempts remain. Then (and at once in V2): fall back, or fail."""
        self._misses += 1
        if self._misses <= self.bot.clarification_attempts:
            return LexReply(ELICIT_INTENT, self._say(self.bot.clarification), None, {})
        self._misses = 0
        return self._give_up(None)

    def _give_up(self, intent_name):
        """Lex hands an exchange it could not understand to the fallback intent, if any."""
        self._reset()
        fallback = self.bot.fallback_intent
        if fallback:
            return LexReply(FULFILLED, self._say(fallback.conclusion), fallback.name, {})
        return LexReply(FAILED, self._say(self.bot.abort), intent_name, {})

    def _next_step(self, confidence=None):
        """Ask for the first empty required slot, or close the intent."""
        missing = [slot for slot in self._intent.slots.values()
                   if slot.required and slot.name not in self._slots]
        if missing:
            self._eliciting, self._prompts = missing[0], 1
            return self._ask_slot(confidence)
        reply = LexReply(FULFILLED, self._say(self._intent.conclusion), self._intent.name,
                         dict(self._slots), confidence)
        self._reset()
        return reply

    def _ask_slot(self, confidence=None):
        return LexReply(ELICIT_SLOT, self._say(self._eliciting.prompt), self._intent.name,
                        dict(self._slots), confidence)

    def _fill_slot(self, heard):
        slot = self._eliciting
        found = read_slot(self._intent, slot, heard, self.bot.min_score, self.context) \
            if heard else None
        if found:
            self._slots.update(found)
            return self._next_step()
        if self._prompts < slot.max_attempts:
            self._prompts += 1
            return self._ask_slot()
        return self._give_up(self._intent.name)

    def _say(self, text):
        """Fill `{Slot}` with slot values and `[attribute]` with session attributes, as Lex does."""
        if text is None:
            return None
        text = PLACEHOLDER.sub(lambda m: self._slots.get(m.group(1), m.group(0)), text)
        return re.sub(r"\[([^\]]+)\]",
                      lambda m: str(self.attributes.get(m.group(1), m.group(0))), text)
