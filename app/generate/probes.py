"""What a caller can do where the IVR listens, and the conditions a call can be placed under.

For a Connect flow the choices are read from the loaded flow and bot, through their public
attributes only: each DTMF condition's key (and a key no condition takes), each Lex intent said
through one of its sample utterances with slot values from its slot types (and an utterance
that matches nothing), and no input at all. Which block is listening is told by what the IVR
said last: the window ends with that block's prompt, or with one of the bot's prompts. When
that cannot be told, every choice is tried. The conditions (`Scenario`) are opening hours,
Lambda success or failure, and values that make each `Compare` branch true.

For a TwiML app nothing can be read ahead, so every key 0-9 * # is probed, plus what the prompt
itself offers to say ("... or say Downtown"), plus no input.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from app.matching import normalize
from app.spoken import strip_markup

ALL_KEYS = "1234567890*#"
INVALID_KEY_ORDER = "9876543210*#"
NO_MATCH_UTTERANCES = ("purple elephant umbrella", "zebra crossing on tuesday",
                       "quantum marmalade", "xylophone weather forecast")
NO_MATCH_VALUE = "no-such-value"
DEFAULT_INPUT_SECONDS = 5        # Connect's and Twilio's default wait for input
LISTEN_SHARE = 0.6               # a step's timeout as a share of the IVR's wait (5 s -> 3 s)
BUILTIN_VALUES = {"AMAZON.NUMBER": "42", "AMAZON.ALPHANUMERIC": "a1", "AMAZON.FIRSTNAME": "maria",
                  "AMAZON.LASTNAME": "smith", "AMAZON.CITY": "seattle", "AMAZON.COUNTRY": "canada",
                  "AMAZON.DATE": "tomorrow", "AMAZON.TIME": "noon", "AMAZON.US_STATE": "texas",
                  "AMAZON.PHONENUMBER": "5551234567", "AMAZON.EMAILADDRESS": "test@example.com"}
_SAY_OFFER = re.compile(r"\bsay\s+([A-Za-z0-9][\w' -]*?)\s*(?=[.,;:!?]|\s+or\b|\s+to\b|\s+for\b|$)",
                        re.IGNORECASE)
_REFERENCE = re.compile(r"\$\.[\w.-]+")
_SLOT = re.compile(r"\{[\w.-]+\}")
_WILD = "qqwildqq"


@dataclass(frozen=True)
class Probe:
    """One caller action: the step's `then`, and how a suite's name says it."""
    then: str | None
    label: str


SILENCE = Probe(None, "no input")


@dataclass(frozen=True)
class Scenario:
    """Conditions a call is placed under (suite-level `hours`, `lambdaResponses`, `attributes`);
    `blocks` are the flow blocks they matter to (empty for the base scenario)."""
    key: str
    conditions: dict = field(compare=False, hash=False)
    label: str = ""
    blocks: frozenset = frozenset()

    @classmethod
    def make(cls, conditions, label="", blocks=()):
        return cls(json.dumps(conditions, sort_keys=True), conditions, label, frozenset(blocks))


def listen_timeout(wait_seconds):
    """A step's timeout, shorter than the IVR's wait for input (README, "How a step listens"):
    long enough to hear the IVR's answer to no input, short enough to act before it moves on."""
    return max(0.5, min(30.0, round(LISTEN_SHARE * wait_seconds, 1)))


def _params(block):
    return getattr(block, "parameters", None) or getattr(block, "params", None) or {}


def _number(value):
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def _truthy(value):
    return str(value).strip().lower() in ("true", "yes", "1", "enabled")


def _prompt(block):
    params = _params(block)
    return strip_markup(str(params.get("Text") or params.get("SSML") or ""))


def _pattern(text, wildcard):
    """A regex that finds `text` (normalized, with references as wildcards) at a window's end."""
    text = wildcard.sub(f" {_WILD} ", text)
    parts = [re.escape(normalize(part)) for part in normalize(text).split(_WILD)]
    if not "".join(parts).strip():
        return None
    return re.compile(r"(?:^|\s)" + r"\s*.*?\s*".join(p for p in parts) + r"$")


def satisfying(condition):
    """A value that makes a Connect condition true: its operand, or one past it for < and >."""
    operands = list(getattr(condition, "operands", ()) or ())
    value = str(operands[0]) if operands else ""
    number, operator = _number(value), getattr(condition, "operator", "Equals")
    if number is not None and operator in ("NumberGreaterThan", "GreaterThan"):
        return str(number + 1)
    if number is not None and operator in ("NumberLessThan", "LessThan"):
        return str(number - 1)
    return value


def lambda_name(arn):
    """`arn:aws:lambda:...:function:NAME[:alias]` -> NAME, the key lambdaResponses also accepts."""
    arn = str(arn or "")
    return arn.split(":function:", 1)[1].split(":")[0] if ":function:" in arn else arn


class FlowProbes:
    """Caller actions and call conditions for a Connect flow (and its Lex bot)."""

    def __init__(self, flow, bot=None):
        self.flow, self.bot = flow, bot
        self.blocks = list(flow.blocks.values())
        self.values = self._compare_values()
        self.speech = self._speech_probes()
        self.listeners = [(p, b) for b in self.blocks if self._is_input(b)
                          for p in [_pattern(_prompt(b), _REFERENCE)] if p]
        self.bot_prompts = [p for p in map(lambda t: _pattern(t, _SLOT), self._bot_prompts()) if p]

    # -- where the IVR listens

    @staticmethod
    def _is_lex(block):
        flag = getattr(block, "is_lex", None)
        if flag is not None:
            return bool(flag)
        return block.type == "ConnectParticipantWithLexBot" or any(
            k in _params(block) for k in ("LexBot", "LexV2Bot"))

    def _is_input(self, block):
        return block.type in ("GetParticipantInput", "ConnectParticipantWithLexBot", "GetUserInput",
                              "StoreUserInput") or self._is_lex(block)

    def wait_seconds(self):
        """The shortest wait for input any listening block has (defaults where dynamic)."""
        waits = []
        for block in self.blocks:
            if not self._is_input(block):
                continue
            params = _params(block)
            if self._is_lex(block):
                millis = [_number(v) for k, v in (params.get("LexSessionAttributes") or {}).items()
                          if "start-timeout-ms" in k]
                waits += [m / 1000 for m in millis if m] or [DEFAULT_INPUT_SECONDS]
            else:
                waits.append(_number(params.get("InputTimeLimitSeconds")) or DEFAULT_INPUT_SECONDS)
        return min(waits, default=DEFAULT_INPUT_SECONDS)

    def at(self, heard):
        """The actions worth trying after the IVR said `heard` (the window's text)."""
        norm = normalize(heard or "")
        listening = [b for p, b in self.listeners if p.search(norm)]
        speech = any(self._is_lex(b) for b in listening) or any(p.search(norm) for p in self.bot_prompts)
        dtmf = [b for b in listening if not self._is_lex(b)]
        if not listening and not speech:      # cannot tell: try everything
            dtmf, speech = [b for b in self.blocks if self._is_input(b) and not self._is_lex(b)], True
        probes = [p for b in dtmf for p in self._dtmf_probes(b)]
        probes += self.speech if speech else []
        return _unique(probes + [SILENCE])

    def _dtmf_probes(self, block):
        params = _params(block)
        stored = _truthy(params.get("StoreInput"))
        validation = (params.get("InputValidation") or {}).get("CustomValidation") or {}
        limit = _number(params.get("MaxDigits") or validation.get("MaximumLength")) or (20 if stored else 1)
        terminator = (params.get("DTMFConfiguration") or {}).get("InputTerminationSequence") or "#"
        conditions = list(getattr(block, "conditions", ()) or ())
        values = [satisfying(c) for c in conditions]
        if stored:
            values += self.values.get("$.StoredCustomerInput", [])
        values = [v for v in values if v and re.fullmatch(r"[0-9*#]+", v)] or ["1"]
        taken = {v for v in values}
        invalid = next((k for k in INVALID_KEY_ORDER if k not in taken
                        and not any(getattr(c, "matches", lambda _v: False)(k) for c in conditions)), None)
        if invalid:
            values.append(invalid)
        out = []
        for value in values:
            keys = value + (terminator[:1] if len(value) < limit else "")
            out.append(Probe(f"press={keys}", f"press {value}"))
        return out

    # -- the bot

    def _speech_probes(self):
        bot = self.bot
        if bot is None:
            return []
        probes, values = [], []
        for intent in getattr(bot, "intents", {}).values():
            if getattr(intent, "is_fallback", False):
                continue
            text = _utterance(intent)
            if text:
                probes.append(Probe(f"say={text}", f"says {text}"))
            for slot in getattr(intent, "slots", {}).values():
                value = slot_value(slot.type)
                values.append(Probe(f"say={value}", f"says {value}"))
        miss = _no_match(bot)
        return _unique(probes + [Probe(f"say={miss}", f"says {miss}")] + values)

    def _bot_prompts(self):
        bot = self.bot
        if bot is None:
            return []
        prompts = [getattr(bot, "clarification", None)]
        for intent in getattr(bot, "intents", {}).values():
            prompts += [getattr(slot, "prompt", None) for slot in getattr(intent, "slots", {}).values()]
        return [strip_markup(p) for p in prompts if p]

    # -- conditions

    def _compare_values(self):
        """Reference -> values that take each branch of the Compare blocks that read it."""
        values = {}
        for block in self.blocks:
            if block.type != "Compare":
                continue
            ref = str(_params(block).get("ComparisonValue") or "").strip()
            found = [satisfying(c) for c in getattr(block, "conditions", ())] + [NO_MATCH_VALUE]
            values.setdefault(ref, [])
            values[ref] += [v for v in found if v not in values[ref]]
        return values

    def _blocks_of(self, kind):
        return [b.id for b in self.blocks if b.type == kind]

    def _lambdas(self):
        """Function name -> ids of the blocks that invoke it."""
        out = {}
        for block in self.blocks:
            if block.type == "InvokeLambdaFunction":
                name = lambda_name(_params(block).get("LambdaFunctionARN"))
                out.setdefault(name, []).append(block.id)
        return out

    def _assignments(self):
        """Attribute name -> the values UpdateContactAttributes blocks give it."""
        out = {}
        for block in self.blocks:
            if block.type == "UpdateContactAttributes":
                for key, value in (_params(block).get("Attributes") or {}).items():
                    out.setdefault(key, []).append(str(value))
        return out

    def scenarios(self):
        """The base conditions first, then one variation per condition that can change a branch."""
        hours, lambdas = self._blocks_of("CheckHoursOfOperation"), self._lambdas()
        base = {}
        if hours:
            base["hours"] = "open"
        if lambdas:
            base["lambdaResponses"] = {name: {} for name in lambdas}
        out = [Scenario.make(base)]
        if hours:
            out.append(Scenario.make({**base, "hours": "closed"}, "hours closed", hours))
        for name, blocks in lambdas.items():
            rest = {k: v for k, v in base["lambdaResponses"].items() if k != name}
            out.append(Scenario.make({**base, "lambdaResponses": rest}, f"{name} fails", blocks))
        assigned = self._assignments()
        for block in self.blocks:
            if block.type != "Compare":
                continue
            ref = str(_params(block).get("ComparisonValue") or "").strip()
            for value in self.values.get(ref, []):
                out += self._value_scenarios(base, ref, value, assigned, lambdas, block.id)
        return _unique(out, key=lambda s: s.key)

    def _value_scenarios(self, base, ref, value, assigned, lambdas, block_id):
        out, match = [], re.fullmatch(r"\$\.(Attributes|External)\.([\w-]+)", ref)
        if not match:
            return out
        namespace, name = match.groups()
        externals = [name] if namespace == "External" else [
            m.group(1) for src in assigned.get(name, []) for m in [re.fullmatch(r"\$\.External\.([\w-]+)", src)] if m]
        if namespace == "Attributes" and not assigned.get(name):
            out.append(Scenario.make({**base, "attributes": {name: value}}, f"{name} is {value}", [block_id]))
        for external in externals:
            if lambdas:
                responses = {fn: {external: value} for fn in lambdas}
                out.append(Scenario.make({**base, "lambdaResponses": responses},
                                         f"{external} is {value}", [block_id]))
        return out

    def relevant_conditions(self, scenario, visited_blocks):
        """The parts of a scenario a call that visited these blocks depends on."""
        visited = set(visited_blocks)
        conditions = dict(scenario.conditions)
        if not visited & set(self._blocks_of("CheckHoursOfOperation")):
            conditions.pop("hours", None)
        if not visited & {b for ids in self._lambdas().values() for b in ids}:
            conditions.pop("lambdaResponses", None)
        return conditions


class TwimlProbes:
    """Caller actions for a TwiML app: every key, what the prompt offers to say, no input."""

    def wait_seconds(self):
        return DEFAULT_INPUT_SECONDS      # Twilio's <Gather> timeout default

    def at(self, heard):
        keys = [Probe(f"press={k}", f"press {k}") for k in ALL_KEYS]
        offers = [m.group(1).strip() for m in _SAY_OFFER.finditer(strip_markup(heard or ""))]
        speech = [Probe(f"say={o.lower()}", f"says {o.lower()}") for o in offers if o]
        return _unique([SILENCE] + keys + speech)

    def scenarios(self):
        return [Scenario.make({})]

    def relevant_conditions(self, scenario, visited_blocks):
        return dict(scenario.conditions)


def slot_value(slot_type):
    """A value a slot type accepts: its first listed value, or a typical one for a built-in."""
    phrases = list(getattr(slot_type, "canonical", ()) or ()) + list(getattr(slot_type, "phrases", ()) or ())
    if phrases:
        return phrases[0]
    builtin = str(getattr(slot_type, "builtin", None) or getattr(slot_type, "name", "")).upper()
    return BUILTIN_VALUES.get(builtin, "blue" if builtin else "yes")


def _utterance(intent):
    """One sample utterance of the intent with its slots filled: the one that fills the
    required slots (so none has to be asked for), then the most slots, in the fewest words."""
    slots = getattr(intent, "slots", {}) or {}
    required = {name for name, slot in slots.items() if getattr(slot, "required", False)}
    best = None
    for template in getattr(intent, "templates", ()) or ():
        source = getattr(template, "source", template)
        names = set(re.findall(r"\{([\w.-]+)\}", source))
        if names - set(slots):
            continue
        text = re.sub(r"\{([\w.-]+)\}", lambda m: slot_value(slots[m.group(1)].type), source)
        rank = (len(required - names), -len(names), len(text.split()), len(text))
        if best is None or rank < best[0]:
            best = (rank, " ".join(text.split()))
    return best[1] if best else None


def _no_match(bot):
    """An utterance the bot places in no intent (checked with the bot when it can say)."""
    recognize = getattr(bot, "recognize", None)
    for text in NO_MATCH_UTTERANCES:
        try:
            if recognize is None or recognize(normalize(text)) is None:
                return text
        except Exception:  # noqa: BLE001 - a changed recognizer only costs us the check
            return text
    return NO_MATCH_UTTERANCES[0]


def _unique(items, key=lambda p: p.then if isinstance(p, Probe) else p):
    seen, out = set(), []
    for item in items:
        k = key(item)
        if k not in seen:
            seen.add(k)
            out.append(item)
    return out
