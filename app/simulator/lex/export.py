"""Reading Lex exports: V1 bot JSON (or a zip holding one), V2 export zips and folders.

`read_export(path, locale)` returns the keyword arguments of `LexBot`; everything unreadable
raises a LexError that names the file (and the entry inside a zip) and what is wrong with it.

V1 (import/export format 1.0): `metadata` plus `resource` with `intents`, `slotTypes`,
`clarificationPrompt`, `abortStatement`, `nluIntentConfidenceThreshold`. A slot type derived
from a built-in (`parentSlotTypeSignature`, e.g. AMAZON.AlphaNumeric with a
`slotTypeConfigurations[].regexConfiguration.pattern`) is that built-in narrowed by the pattern.

V2 (LexJson): Manifest.json, <Bot>/Bot.json, <Bot>/BotLocales/<locale>/BotLocale.json,
Intents/<Name>/Intent.json, Intents/<Name>/Slots/<Name>/Slot.json, SlotTypes/<Name>/SlotType.json.
"""
from __future__ import annotations

import json
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from app import limits
from app.errors import LexError
from app.matching import normalize
from app.spoken import strip_markup
from app.simulator.lex.bot import DEFAULT_CLARIFICATION_ATTEMPTS, DEFAULT_CONFIDENCE_THRESHOLD
from app.simulator.lex.model import Intent, Slot, SlotType, Template

DEFAULT_SLOT_ATTEMPTS = 2
FALLBACK_SIGNATURE = "AMAZON.FallbackIntent"
UNRANKED = 1000

# Built-in intents carry Lex's own utterances, which an export leaves out (V2 guide, "Built-in
# intents"); these are the common ways callers say them.
BUILTIN_INTENT_SAMPLES = {
    "AMAZON.CancelIntent": ["cancel", "never mind", "forget it", "cancel that"],
    "AMAZON.HelpIntent": ["help", "help me", "can you help me", "what can i say"],
    "AMAZON.StopIntent": ["stop", "off", "shut up", "quit"],
    "AMAZON.RepeatIntent": ["repeat", "repeat that", "say that again", "can you repeat that",
                            "say it again"],
    "AMAZON.StartOverIntent": ["start over", "restart", "start again", "begin again"],
    "AMAZON.YesIntent": ["yes", "yeah", "sure", "yes please"],
    "AMAZON.NoIntent": ["no", "nope", "no thanks"],
}


def _intent_templates(data, utterances, where):
    """The intent's sample utterances, plus Lex's own for a built-in intent."""
    parent = data.get("parentIntentSignature")
    extra = BUILTIN_INTENT_SAMPLES.get(parent, []) if isinstance(parent, str) else []
    return tuple(Template.parse(u) for u in [*utterances, *extra])


def _priority(value) -> int:
    """A slot's priority; 0 is a priority (the first), missing means unranked."""
    try:
        return int(value) if value is not None and value is not False else UNRANKED
    except (TypeError, ValueError):
        return UNRANKED


def read_export(path: Path, locale: str | None = None) -> dict:
    """The LexBot keyword arguments for the export at `path`."""
    return _load_path(path, locale)



def _load_path(path: Path, locale: str | None) -> dict:
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


def _load_folder(folder: Path, locale: str | None) -> dict:
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


def _builtin(type_name, where, pattern=None, name=None) -> SlotType:
    """AMAZON.* types: V1 spells them AMAZON.NUMBER, V2 AMAZON.Number; both mean the same."""
    if not isinstance(type_name, str) or not type_name.upper().startswith("AMAZON."):
        raise LexError(f"{where}: parent slot type {type_name!r} is not a built-in AMAZON type")
    if pattern is not None:
        if not isinstance(pattern, str):
            raise LexError(f"{where}: regex pattern {pattern!r} is not text")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise LexError(f"{where}: regex pattern {pattern!r} is not a valid pattern: "
                           f"{exc}") from None
    return SlotType(name or type_name, builtin=type_name.upper(), pattern=pattern)


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


def _v1_bot(data, where: str) -> dict:
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


def _v1_from_resource(resource, where) -> dict:
    slot_types = [_v1_slot_type(t, where) for t in resource.get("slotTypes") or []]
    types = {t.name: t for t in slot_types}
    intents = [_v1_intent(i, types, where) for i in _need(resource, "intents", where, list)]
    clarify = resource.get("clarificationPrompt") or {}
    return dict(
        name=_need(resource, "name", where, str), locale=resource.get("locale", "en-US"),
        intents={i.name: i for i in intents},
        confidence_threshold=_threshold(resource.get("nluIntentConfidenceThreshold"), where),
        clarification=_v1_message(clarify),
        abort=_v1_message(resource.get("abortStatement")),
        clarification_attempts=int(clarify.get("maxAttempts", DEFAULT_CLARIFICATION_ATTEMPTS)),
        source=where, version="V1")


def _v1_message(prompt) -> str | None:
    """The first message of a V1 prompt or statement; SSML is reduced to its words."""
    for message in (prompt or {}).get("messages") or []:
        if isinstance(message, dict) and message.get("content"):
            if message.get("contentType") == "CustomPayload":
                continue
            return _spoken(message["content"])
    return None


def _v1_slot_type(data, where) -> SlotType:
    """Custom values, or a built-in narrowed by a regular expression."""
    name = _need(data, "name", where, str)
    parent = data.get("parentSlotTypeSignature")
    if parent:
        patterns = [((c or {}).get("regexConfiguration") or {}).get("pattern")
                    for c in data.get("slotTypeConfigurations") or [] if isinstance(c, dict)]
        return _builtin(parent, f"{where}: slot type '{name}'",
                        next((p for p in patterns if p), None), name)
    values = _need(data, "enumerationValues", f"{where}: slot type '{name}'", list)
    pairs = [(_need(v, "value", f"{where}: slot type '{name}'"), v.get("synonyms") or [])
             for v in values]
    return _enumeration(name, pairs, where)


def _v1_intent(data, types, where) -> Intent:
    name = _need(data, "name", where, str)
    here = f"{where}: intent '{name}'"
    slots = _order_slots([_v1_slot(s, types, here) for s in data.get("slots") or []])
    templates = _intent_templates(data, data.get("sampleUtterances") or [], where)
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
                _priority(data.get("priority")),
                tuple(Template.parse(u) for u in data.get("sampleUtterances") or []))


def _slot_type(type_name, types, where) -> SlotType:
    if type_name in types:
        return types[type_name]
    if type_name.upper().startswith("AMAZON."):
        return _builtin(type_name, where)
    raise LexError(f"{where}: slot type '{type_name}' is not defined in the export")


# --------------------------------------------------------------------------- Lex V2


def _from_files(files: dict[str, bytes], label: str, locale: str | None) -> dict:
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


def _v2_bot(files, locale_dir: str, locale_file: str, label: str) -> dict:
    """Read one locale of a V2 export: BotLocale.json, Intents/*, SlotTypes/*, and Bot.json."""
    prefix = f"{locale_dir}/" if locale_dir != "." else ""
    locale = _v2_load(files, locale_file, label)
    types = _v2_slot_types(files, prefix, label)
    intents = [_v2_intent(files, intent_file, types, label)
               for intent_file in _subfolders(files, f"{prefix}Intents/", "Intent.json")]
    if not intents:
        raise LexError(f"{_v2_where(label, locale_file)}: the locale has no intents")
    return dict(
        name=_v2_bot_name(files, locale_dir, label),
        locale=locale.get("identifier") or locale.get("localeId") or PurePosixPath(locale_dir).name,
        intents={i.name: i for i in intents},
        confidence_threshold=_threshold(
            locale.get("nluConfidenceThreshold", locale.get("nluIntentConfidenceThreshold")),
            _v2_where(label, locale_file)),
        clarification=None, abort=None, source=label, version="V2")


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
        return _builtin(parent, where, regex, name)
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
    templates = _intent_templates(data, [_need(u, "utterance", where, str)
                                         for u in data.get("sampleUtterances") or []], where)
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
                _priority(priorities.get(name)),
                tuple(Template.parse(u["utterance"]) for u in utterances
                      if isinstance(u, dict) and u.get("utterance")))
