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
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from pathlib import Path, PurePosixPath

from rapidfuzz import fuzz, process

from app import limits
from app.errors import LexError
from app.matching import normalize, strip_markup

DEFAULT_CONFIDENCE_THRESHOLD = 0.4
DEFAULT_CLARIFICATION = "Sorry, can you please repeat that?"
DEFAULT_CLARIFICATION_ATTEMPTS = 2
DEFAULT_ABORT = "Sorry, I could not understand. Goodbye."
DEFAULT_SLOT_ATTEMPTS = 2
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"

ELICIT_INTENT, ELICIT_SLOT, FULFILLED, FAILED = "ElicitIntent", "ElicitSlot", "Fulfilled", "Failed"

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")


def min_score(confidence_threshold: float) -> float:
    """Map Lex's 0-1 NLU confidence threshold onto the fuzzy-similarity scale (see module doc)."""
    return min(1.0, max(0.0, 0.6 + 0.4 * confidence_threshold))


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class SlotType:
    """What a slot accepts: an enumeration (phrases -> canonical values) or a built-in token."""
    name: str
    phrases: tuple[str, ...] = field(default=(), repr=False)
    canonical: tuple[str, ...] = field(default=(), repr=False)
    builtin: str | None = None
    pattern: str | None = None

    @cached_property
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
        if value is None or (self.pattern and not re.fullmatch(self.pattern, value, re.I)):
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
    templates: tuple[Template, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Intent:
    """One intent: how callers say it, its slots (in elicitation order) and its closing words."""
    name: str
    templates: tuple[Template, ...] = field(repr=False)
    slots: dict[str, Slot] = field(repr=False)
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
                   needed: float, cache=None) -> Match | None:
    """Best way to read `heard` (normalized) as `template`, or None when below `needed`.

    Each placeholder takes a span of the heard words, in order, or stays empty; a span is
    resolved against the slot type, and the template with every slot replaced by its resolved
    phrase (an empty one dropped) is compared with what was heard.
    """
    words = tuple(heard.split())
    best = None
    cache = {} if cache is None else cache
    for pieces, values, slot_scores in _readings(template.parts, words, 0, slots, needed, cache):
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
    # An empty placeholder: the carrier phrase alone names the intent, the slot is asked later.
    yield from _readings(rest, words, start, slots, needed, cache)
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


def best_match(templates, heard, slots, needed, must_fill=None, cache=None) -> Match | None:
    """The best template reading of `heard`; with `must_fill`, only readings that fill it.
    `cache` holds the spans already resolved for this utterance (slot type names are unique
    within a bot, so one cache serves every intent)."""
    best = None
    cache = {} if cache is None else cache
    for template in templates:
        if must_fill and must_fill not in template.slot_names:
            continue
        found = match_template(template, heard, slots, needed, cache)
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
        """Lex hands an exchange it could not understand to the fallback intent, if any."""
        self._reset()
        fallback = self.bot.fallback_intent
        if fallback:
            return LexReply(FULFILLED, self._say(fallback.conclusion), fallback.name, {})
        return LexReply(FAILED, self._say(self.bot.abort), intent_name, {})

    def _next_step(self):
        """Ask for the first empty required slot, or close the intent."""
        missing = [slot for slot in self._intent.slots.values()
                   if slot.required and slot.name not in self._slots]
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
        return _load_path(Path(path), locale)

    def new_session(self, attributes: dict | None = None) -> LexSession:
        return LexSession(self, attributes)

    def recognize(self, heard: str) -> tuple[Intent, Match] | None:
        """The intent the normalized utterance most likely means, with its slots, or None.

        Ties go to the intent listed first in the export, so results never depend on chance.
        """
        best, cache = None, {}
        for intent in self.intents.values():
            found = best_match(intent.templates, heard, intent.slots, self.min_score, cache=cache)
            if found and (best is None or found.beats(best[1])):
                best = (intent, found)
        return best


# --------------------------------------------------------------------------- reading exports


def _load_path(path: Path, locale: str | None) -> LexBot:
    """Dispatch on what the path is: folder, zip, V2 manifest, or V1 JSON file."""
    if not path.exists():
        raise LexError(f"{path}: no such file or folder")
    if path.is_dir():
        return _load_folder(path, locale)
    limits.check_file(path, LexError)         # a FIFO would block is_zipfile forever
    if zipfile.is_zipfile(path):
        return _from_files(_zip_files(path), str(path), locale)
    if path.name.lower() == "manifest.json":
        return _load_folder(path.parent, locale)
    return _v1_bot(_parse_json(_read(path), str(path)), str(path))


def _load_folder(folder: Path, locale: str | None) -> LexBot:
    """A V2 export folder is read whole; any other folder must hold exactly one export."""
    if _is_v2_folder(folder):
        return _from_files(_folder_files(folder), str(folder), locale)
    candidates = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".") and (
        (p.is_file() and p.suffix.lower() in (".json", ".zip")) or
        (p.is_dir() and _is_v2_folder(p)))]
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "nothing"
        raise LexError(f"{folder}: expected exactly one Lex export (a V1 .json file, a V2 .zip "
                       f"or a V2 export folder), found {found}")
    return _load_path(candidates[0], locale)


def _is_v2_folder(folder: Path) -> bool:
    names = {p.name.lower() for p in folder.iterdir()}
    return "manifest.json" in names or "botlocales" in names or "botlocale.json" in names or any(
        p.is_dir() and (p / "BotLocales").is_dir() for p in folder.iterdir())


def _read(path: Path) -> bytes:
    return limits.read_bytes(path, LexError)


def _folder_files(folder: Path) -> dict[str, bytes]:
    """Every JSON file under the folder, by path relative to it."""
    return {p.relative_to(folder).as_posix(): _read(p)
            for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix.lower() == ".json"}


def _zip_files(path: Path) -> dict[str, bytes]:
    """Every JSON file in the zip, by its path inside."""
    return limits.read_zip(path, LexError, lambda name: name.lower().endswith(".json")
                           and not name.startswith("__MACOSX/"))


def _parse_json(raw: bytes, where: str):
    try:
        return limits.loads(raw.decode("utf-8-sig"), where, LexError)
    except UnicodeDecodeError as exc:
        raise LexError(f"{where}: not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise LexError(f"{where}: invalid JSON at line {exc.lineno} column {exc.colno}: "
                       f"{exc.msg}") from exc


def _need(obj, key, where, kind=None):
    """obj[key], or a LexError that names the file and the missing field."""
    if not isinstance(obj, dict) or obj.get(key) is None:
        raise LexError(f"{where}: missing '{key}'")
    value = obj[key]
    if kind and not isinstance(value, kind):
        raise LexError(f"{where}: '{key}' should be a {kind.__name__}")
    return value


@contextmanager
def _reading(where):
    """A list where an object belongs (and the like) becomes a LexError naming the file."""
    try:
        yield
    except LexError:
        raise
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        raise LexError(f"{where}: unexpected structure ({type(exc).__name__}: {exc})") from exc


def _spoken(text):
    """A prompt as spoken, or None when there is nothing to say."""
    return strip_markup(text) or None


def _threshold(value, where):
    if value is None:
        return DEFAULT_CONFIDENCE_THRESHOLD
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise LexError(f"{where}: confidence threshold {value!r} is not a number") from None
    if not 0 <= value <= 1:
        raise LexError(f"{where}: confidence threshold {value} is outside 0-1")
    return value


def _builtin(type_name, where, pattern=None) -> SlotType:
    """AMAZON.* types: V1 spells them AMAZON.NUMBER, V2 AMAZON.Number; both mean the same."""
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LexError(f"{where}: regexFilter {pattern!r} is not a valid pattern: "
                           f"{exc}") from None
    return SlotType(type_name, builtin=type_name.upper(), pattern=pattern)


def _enumeration(name, pairs, where) -> SlotType:
    """A custom slot type from (value, synonyms) pairs: every phrase maps to its value."""
    phrases, canonical = [], []
    for value, synonyms in pairs:
        for phrase in [value, *synonyms]:
            key = normalize(phrase)
            if key and key not in phrases:
                phrases.append(key)
                canonical.append(value)
    if not phrases:
        raise LexError(f"{where}: slot type '{name}' has no values")
    return SlotType(name, tuple(phrases), tuple(canonical))


def _order_slots(slots: list[Slot]) -> dict[str, Slot]:
    """Lex elicits required slots by priority (lowest first); unranked ones go last by name."""
    ranked = sorted(slots, key=lambda s: (s.priority, s.name))
    return {slot.name: slot for slot in ranked}


def _check_templates(intent_name, templates, slots, where):
    """A placeholder naming no slot would never match; Lex refuses to build such a bot too."""
    for template in templates:
        for name in template.slot_names:
            if name not in slots:
                raise LexError(f"{where}: intent '{intent_name}' utterance {template.source!r} "
                               f"uses {{{name}}}, which is not a slot of the intent")


# --------------------------------------------------------------------------- Lex V1


def _v1_bot(data, where: str) -> LexBot:
    """A V1 bot export: `metadata` plus `resource` with intents, slotTypes and bot prompts."""
    resource = _v1_resource(data, where)
    with _reading(where):
        return _v1_from_resource(resource, where)


def _v1_resource(data, where) -> dict:
    """The `resource` of a V1 bot export, refusing other JSON (and V1 intent/slot-type exports)."""
    if not isinstance(data, dict):
        raise LexError(f"{where}: not a Lex V1 export: expected a JSON object")
    meta = data.get("metadata") or {}
    if not isinstance(meta, dict) or (
            meta and (meta.get("importType"), meta.get("importFormat")) != ("LEX", "JSON")):
        raise LexError(f"{where}: not a Lex V1 export: metadata should say importType LEX and "
                       f"importFormat JSON")
    resource = data.get("resource")
    if not isinstance(resource, dict):
        raise LexError(f"{where}: not a Lex V1 export: missing 'resource'")
    if "intents" not in resource:
        what = "slot type" if "enumerationValues" in resource else "intent"
        raise LexError(f"{where}: this is a Lex V1 {what} export, not a bot export "
                       f"(missing 'resource.intents'); export the bot instead")
    return resource


def _v1_from_resource(resource, where) -> LexBot:
    slot_types = [_v1_slot_type(t, where) for t in resource.get("slotTypes") or []]
    types = {t.name: t for t in slot_types}
    intents = [_v1_intent(i, types, where) for i in _need(resource, "intents", where, list)]
    clarify = resource.get("clarificationPrompt") or {}
    return LexBot(
        name=_need(resource, "name", where, str), locale=resource.get("locale", "en-US"),
        intents={i.name: i for i in intents},
        confidence_threshold=_threshold(resource.get("nluIntentConfidenceThreshold"), where),
        clarification=_v1_message(clarify), abort=_v1_message(resource.get("abortStatement")),
        clarification_attempts=int(clarify.get("maxAttempts", DEFAULT_CLARIFICATION_ATTEMPTS)),
        source=where)


def _v1_message(prompt) -> str | None:
    """The first message of a V1 prompt or statement; SSML is reduced to its words."""
    for message in (prompt or {}).get("messages") or []:
        if isinstance(message, dict) and message.get("content"):
            if message.get("contentType") == "CustomPayload":
                continue
            return _spoken(message["content"])
    return None


def _v1_slot_type(data, where) -> SlotType:
    name = _need(data, "name", where, str)
    values = _need(data, "enumerationValues", f"{where}: slot type '{name}'", list)
    pairs = [(_need(v, "value", f"{where}: slot type '{name}'"), v.get("synonyms") or [])
             for v in values]
    return _enumeration(name, pairs, where)


def _v1_intent(data, types, where) -> Intent:
    name = _need(data, "name", where, str)
    here = f"{where}: intent '{name}'"
    slots = _order_slots([_v1_slot(s, types, here) for s in data.get("slots") or []])
    templates = tuple(Template.parse(u) for u in data.get("sampleUtterances") or [])
    _check_templates(name, templates, slots, where)
    return Intent(name, templates, slots, _v1_message(data.get("conclusionStatement")),
                  data.get("parentIntentSignature") == FALLBACK_SIGNATURE)


def _v1_slot(data, types, where) -> Slot:
    name = _need(data, "name", where, str)
    type_name = _need(data, "slotType", f"{where} slot '{name}'", str)
    prompt = data.get("valueElicitationPrompt") or {}
    return Slot(name, _slot_type(type_name, types, f"{where} slot '{name}'"),
                data.get("slotConstraint") == "Required", _v1_message(prompt),
                int(prompt.get("maxAttempts", DEFAULT_SLOT_ATTEMPTS)),
                int(data.get("priority") or 1000),
                tuple(Template.parse(u) for u in data.get("sampleUtterances") or []))


def _slot_type(type_name, types, where) -> SlotType:
    if type_name in types:
        return types[type_name]
    if type_name.upper().startswith("AMAZON."):
        return _builtin(type_name, where)
    raise LexError(f"{where}: slot type '{type_name}' is not defined in the export")


# --------------------------------------------------------------------------- Lex V2


def _from_files(files: dict[str, bytes], label: str, locale: str | None) -> LexBot:
    """A V2 export (zip or folder), or a zip holding one V1 JSON (what the V1 console exports)."""
    locales = {str(PurePosixPath(n).parent): n for n in files
               if PurePosixPath(n).name.lower() == "botlocale.json"}
    if not locales:
        return _v1_from_files(files, label)
    chosen = _choose_locale(locales, locale, label)
    return _v2_bot(files, chosen, locales[chosen], label)


def _v1_from_files(files, label):
    exports = [n for n in files if PurePosixPath(n).name.lower() != "manifest.json"]
    if len(exports) != 1:
        raise LexError(f"{label}: not a Lex export: no BotLocale.json (V2) and "
                       f"{len(exports)} JSON files where a V1 export has one")
    where = f"{label}!{exports[0]}"
    return _v1_bot(_parse_json(files[exports[0]], where), where)


def _choose_locale(locales: dict[str, str], wanted: str | None, label: str) -> str:
    """The locale folder to load: the one asked for, else en_US, else the first by name."""
    by_id = {PurePosixPath(folder).name: folder for folder in sorted(locales)}
    if wanted:
        if wanted not in by_id:
            raise LexError(f"{label}: no locale {wanted!r} (has {', '.join(by_id)})")
        return by_id[wanted]
    return by_id.get("en_US") or next(iter(by_id.values()))


def _v2_where(label, name):
    return f"{label}/{name}" if Path(label).is_dir() else f"{label}!{name}"


def _v2_bot(files, locale_dir: str, locale_file: str, label: str) -> LexBot:
    """Read one locale of a V2 export: BotLocale.json, Intents/*, SlotTypes/*, and Bot.json."""
    prefix = f"{locale_dir}/" if locale_dir != "." else ""
    locale = _v2_load(files, locale_file, label)
    types = _v2_slot_types(files, prefix, label)
    intents = [_v2_intent(files, intent_file, types, label)
               for intent_file in _subfolders(files, f"{prefix}Intents/", "Intent.json")]
    if not intents:
        raise LexError(f"{_v2_where(label, locale_file)}: the locale has no intents")
    return LexBot(
        name=_v2_bot_name(files, locale_dir, label),
        locale=locale.get("identifier") or locale.get("localeId") or PurePosixPath(locale_dir).name,
        intents={i.name: i for i in intents},
        confidence_threshold=_threshold(
            locale.get("nluConfidenceThreshold", locale.get("nluIntentConfidenceThreshold")),
            _v2_where(label, locale_file)),
        source=label)


def _v2_load(files, name, label) -> dict:
    where = _v2_where(label, name)
    data = _parse_json(files[name], where)
    if not isinstance(data, dict):
        raise LexError(f"{where}: expected a JSON object")
    return data


def _subfolders(files, under: str, leaf: str) -> list[str]:
    """Folders directly under `under` that hold `leaf` (e.g. Intents/<Name>/Intent.json)."""
    found = []
    for name in files:
        rest = name[len(under):] if name.startswith(under) else None
        if rest and rest.count("/") == 1 and rest.split("/")[1].lower() == leaf.lower():
            found.append(name)
    return sorted(found)


def _v2_bot_name(files, locale_dir, label) -> str:
    """Bot.json sits two levels above the locale (<Bot>/BotLocales/<locale>); else the label."""
    bot_dir = PurePosixPath(locale_dir).parent.parent
    candidate = f"{bot_dir}/Bot.json" if str(bot_dir) != "." else "Bot.json"
    if candidate in files:
        return _need(_v2_load(files, candidate, label), "name", _v2_where(label, candidate), str)
    return Path(label).stem


def _v2_slot_types(files, prefix, label) -> dict[str, SlotType]:
    types = {}
    for name in _subfolders(files, f"{prefix}SlotTypes/", "SlotType.json"):
        where = _v2_where(label, name)
        data = _v2_load(files, name, label)
        type_name = _need(data, "name", where, str)
        with _reading(where):
            types[type_name] = _v2_slot_type(type_name, data, where)
    return types


def _v2_slot_type(name, data, where) -> SlotType:
    """Custom values, or an extended built-in (parentSlotTypeSignature, optional regex)."""
    values = data.get("slotTypeValues") or []
    parent = data.get("parentSlotTypeSignature")
    if parent and not values:
        regex = ((data.get("valueSelectionSetting") or {}).get("regexFilter") or {}).get("pattern")
        return _builtin(parent, where, regex)
    pairs = [(_need(_need(v, "sampleValue", where), "value", where),
              [s.get("value") for s in v.get("synonyms") or [] if s.get("value")])
             for v in values]
    return _enumeration(name, pairs, where)


def _v2_message(spec) -> str | None:
    """The first text of a V2 response (messageGroupsList; docs also show two other spellings)."""
    spec = spec or {}
    groups = spec.get("messageGroupsList") or spec.get("messageGroupList") or \
        spec.get("messageGroups") or []
    for group in groups:
        message = (group or {}).get("message") or {}
        for kind in ("plainTextMessage", "ssmlMessage"):
            text = (message.get(kind) or {}).get("value")
            if text:
                return _spoken(text)
    return None


def _v2_intent(files, intent_file, types, label) -> Intent:
    with _reading(_v2_where(label, intent_file)):
        return _v2_intent_from(files, intent_file, types, label)


def _v2_intent_from(files, intent_file, types, label) -> Intent:
    where = _v2_where(label, intent_file)
    data = _v2_load(files, intent_file, label)
    name = _need(data, "name", where, str)
    folder = intent_file.rsplit("/", 1)[0]
    priorities = {p.get("slotName"): p.get("priority") for p in data.get("slotPriorities") or []
                  if isinstance(p, dict)}
    slots = _order_slots([_v2_slot(files, f, types, priorities, label)
                          for f in _subfolders(files, f"{folder}/Slots/", "Slot.json")])
    templates = tuple(Template.parse(_need(u, "utterance", where, str))
                      for u in data.get("sampleUtterances") or [])
    _check_templates(name, templates, slots, where)
    closing = data.get("intentClosingSetting") or {}
    active = closing.get("isActive", closing.get("active", True)) is not False
    return Intent(name, templates, slots,
                  _v2_message(closing.get("closingResponse")) if active else None,
                  data.get("parentIntentSignature") == FALLBACK_SIGNATURE)


def _v2_slot(files, slot_file, types, priorities, label) -> Slot:
    with _reading(_v2_where(label, slot_file)):
        return _v2_slot_from(files, slot_file, types, priorities, label)


def _v2_slot_from(files, slot_file, types, priorities, label) -> Slot:
    where = _v2_where(label, slot_file)
    data = _v2_load(files, slot_file, label)
    name = _need(data, "name", where, str)
    setting = data.get("valueElicitationSetting") or data.get("slotValueElicitationSetting") or {}
    prompt = setting.get("promptSpecification") or {}
    utterances = setting.get("sampleUtterances") or setting.get("sampleValueElicitingUtterances") \
        or []
    return Slot(name, _slot_type(_need(data, "slotTypeName", where, str), types, where),
                setting.get("slotConstraint") == "Required", _v2_message(prompt),
                int(prompt.get("maxRetries", DEFAULT_SLOT_ATTEMPTS)) + 1,
                int(priorities.get(name) or 1000),
                tuple(Template.parse(u["utterance"]) for u in utterances
                      if isinstance(u, dict) and u.get("utterance")))
