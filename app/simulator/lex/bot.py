"""A bot loaded from an export: its intents, its thresholds and prompts, and its sessions."""
from __future__ import annotations

from datetime import date
from functools import cached_property
from pathlib import Path

from app.simulator.lex.builtins import Context
from app.simulator.lex.dialogue import LexSession
from app.simulator.lex.model import Intent
from app.simulator.lex.nlu import IntentModel, Interpretation, interpret, min_score

DEFAULT_CONFIDENCE_THRESHOLD = 0.4
DEFAULT_CLARIFICATION_ATTEMPTS = 2
DEFAULT_ABORT = "Sorry, I could not understand. Goodbye."
REMEMBERED_UTTERANCES = 4096   # per bot: offline runs say the same things again and again
_UNSEEN = object()


class LexBot:
    """A bot loaded from an export, ready to start sessions.

    `version` is "V1" (clarification prompt and abort statement) or "V2" (neither: what is not
    understood goes to FallbackIntent).
    """

    def __init__(self, name, locale, intents, confidence_threshold=DEFAULT_CONFIDENCE_THRESHOLD,
                 clarification=None, clarification_attempts=DEFAULT_CLARIFICATION_ATTEMPTS,
                 abort=DEFAULT_ABORT, source="", version="V1"):
        self.name: str = name
        self.locale: str = locale
        self.intents: dict[str, Intent] = intents
        self.confidence_threshold: float = confidence_threshold
        self.clarification: str | None = clarification
        self.clarification_attempts: int = clarification_attempts if clarification else 0
        self.abort: str | None = abort
        self.source: str = source
        self.version: str = version
        self._understood: dict = {}          # (heard, context) -> Interpretation | None

    def __repr__(self):
        return f"LexBot({self.name!r}, {self.locale!r}, {self.version}, intents={list(self.intents)})"

    @property
    def min_score(self) -> float:
        """The whole-sample similarity that counts as the confidence threshold."""
        return min_score(self.confidence_threshold)

    @property
    def fallback_intent(self) -> Intent | None:
        return next((i for i in self.intents.values() if i.is_fallback), None)

    @cached_property
    def model(self) -> IntentModel:
        return IntentModel(list(self.intents.values()))

    @classmethod
    def load(cls, path, locale: str | None = None) -> "LexBot":
        """path: a V1 JSON file, a V2 export zip, a V2 export folder, or a folder holding exactly
        one of those (e.g. `aws-lex-bot/`). Anything unreadable raises LexError naming the file
        and what is wrong. `locale` picks a V2 locale (default en_US, else the first)."""
        from app.simulator.lex.export import read_export
        return cls(**read_export(Path(path), locale))

    def new_session(self, attributes: dict | None = None, today: date | None = None) -> LexSession:
        return LexSession(self, attributes, today)

    def interpretations(self, heard: str, context: Context | None = None) -> list[Interpretation]:
        """Every intent's reading of the normalized utterance, most confident first."""
        if not heard:
            return []
        return interpret(self.model, list(self.intents.values()), heard,
                         self.confidence_threshold, context or Context(version=self.version))

    def understand(self, heard: str, context: Context | None = None) -> Interpretation | None:
        """The intent Lex picks for the normalized utterance, or None (not understood).

        A pure function of the bot, the words and the context (the call's date and the Lex
        version), and the costliest part of a turn, so the latest answers are remembered."""
        key = (heard, context)
        best = self._understood.get(key, _UNSEEN)      # one lookup: a Context hashes in Python
        if best is not _UNSEEN:
            return best
        found = self.interpretations(heard, context)
        best = None
        if found and found[0].confidence >= self.confidence_threshold and found[0].confidence > 0:
            best = found[0]
        if len(self._understood) >= REMEMBERED_UTTERANCES:
            self._understood.clear()
        self._understood[key] = best
        return best
