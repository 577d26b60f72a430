"""The suite file format: loading and validating with errors that point at the exact place.

A suite is one JSON file, one scenario: either the original bare array of steps, or an object
`{"name", "description", "target", "steps": [...]}`. Every error names the file, the 1-based step
and the field, and says what was expected, so a user can fix it without reading this code.
"""
import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from app import limits
from app.errors import SuiteError
from app.matching import DEFAULT_THRESHOLD, MATCH_MODES

DEFAULT_TIMEOUT = 5
MAX_TIMEOUT = 60
STEP_KEYS = ("expect", "then", "timeout", "match", "threshold")
SUITE_KEYS = ("name", "description", "target", "steps")
_DIGITS = re.compile(r"^[0-9*#wW]+$")
_ACTIONS_HELP = "expected null, press=DIGITS, say=TEXT or hangup"


@dataclass(frozen=True)
class Action:
    """What the caller does after a step is judged: nothing, press digits, say text or hang up."""
    kind: str          # "none" | "press" | "say" | "hangup"
    value: str | None = None

    def __str__(self):
        return {"none": "null", "hangup": "hangup"}.get(self.kind) or f"{self.kind}={self.value}"

    def to_json(self):
        return None if self.kind == "none" else str(self)


@dataclass(frozen=True)
class Step:
    expect: tuple
    then: Action
    timeout: float
    match: str = "fuzzy"
    threshold: float = DEFAULT_THRESHOLD
    instruction: dict = field(default_factory=dict, compare=False)   # the step as written


@dataclass(frozen=True)
class Suite:
    path: str
    name: str
    steps: tuple
    description: str = ""
    target: str | None = None


def parse_action(raw):
    """Parse a step's `then`; returns None when it is not a valid action."""
    if raw is None:
        return Action("none")
    if not isinstance(raw, str):
        return None
    if raw.strip().lower() == "hangup":
        return Action("hangup")
    kind, sep, value = raw.partition("=")
    if sep and kind == "press" and _DIGITS.match(value):
        return Action("press", value)
    if sep and kind == "say" and value.strip():
        return Action("say", value.strip())
    return None


def load_suite(path):
    """Read and validate one suite file; raises SuiteError with file, step and field."""
    path = Path(path)
    name = str(path)
    try:
        text = limits.read_text(path, SuiteError)
    except (OSError, UnicodeDecodeError) as exc:
        raise SuiteError(f"{name}: cannot read file: {exc}") from None
    try:
        data = limits.loads(text, name, SuiteError)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{name}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    return parse_suite(data, name, default_name=path.stem)


def parse_suite(data, name, default_name=None):
    """Validate already-decoded suite JSON; `name` is used in error messages."""
    meta = {}
    if isinstance(data, dict):
        _check_keys(data, SUITE_KEYS, f"{name}: ")
        meta = data
        if "steps" not in data:
            raise SuiteError(f'{name}: missing "steps" (expected a list of steps)')
        data = data["steps"]
    if not isinstance(data, list):
        raise SuiteError(f"{name}: expected a list of steps or an object with \"steps\", got {_kind(data)}")
    if not data:
        raise SuiteError(f"{name}: the suite has no steps")
    for key in ("name", "description", "target"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            raise SuiteError(f'{name}: "{key}": expected a string, got {_kind(meta[key])}')
    steps = tuple(parse_step(raw, f"{name}: step {number}: ") for number, raw in enumerate(data, 1))
    return Suite(path=name, name=meta.get("name") or default_name or name, steps=steps,
                 description=meta.get("description") or "", target=meta.get("target"))


def parse_step(raw, where):
    """Validate one step; `where` prefixes every message ("file: step 2: ")."""
    if not isinstance(raw, dict):
        raise SuiteError(f"{where}expected an object with \"expect\", \"then\" and \"timeout\", got {_kind(raw)}")
    _check_keys(raw, STEP_KEYS, where)
    match = _match_mode(raw, where)
    return Step(expect=_expect(raw, where, match), then=_then(raw, where),
                timeout=_number(raw, "timeout", where, DEFAULT_TIMEOUT, above=0, at_most=MAX_TIMEOUT),
                match=match, threshold=_number(raw, "threshold", where, DEFAULT_THRESHOLD, low=0, at_most=1),
                instruction=dict(raw))


def _expect(raw, where, match):
    value = raw.get("expect")
    if value is None and match == "any":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and p.strip() for p in value):
        raise SuiteError(f'{where}"expect": expected a non-empty list of phrases or one phrase, got {_show(value)}')
    if match == "regex":
        for phrase in value:
            try:
                re.compile(phrase)
            except (re.error, OverflowError, RecursionError) as exc:
                raise SuiteError(f'{where}"expect": invalid regular expression {phrase!r}: {exc}') from None
    return tuple(value)


def _then(raw, where):
    action = parse_action(raw.get("then"))
    if action is None:
        raise SuiteError(f'{where}"then": unknown action {_show(raw.get("then"))} ({_ACTIONS_HELP})')
    return action


def _match_mode(raw, where):
    mode = raw.get("match", "fuzzy")
    if mode not in MATCH_MODES:
        raise SuiteError(f'{where}"match": unknown mode {_show(mode)} (expected {", ".join(MATCH_MODES)})')
    return mode


def _number(raw, key, where, default, low=None, above=None, at_most=None):
    """A numeric field: present and in range, or its default when absent."""
    if key not in raw:
        return default
    value = raw[key]
    bounds = f"a number greater than {above}" if above is not None else f"a number from {low}"
    bounds += f" and at most {at_most}" if above is not None else f" to {at_most}"
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or value != value
            or (above is not None and value <= above) or (low is not None and value < low)
            or value > at_most):
        raise SuiteError(f'{where}"{key}": expected {bounds}, got {_show(value)}')
    return value


def _check_keys(raw, allowed, where):
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (expected one of {', '.join(allowed)})"
            raise SuiteError(f'{where}unknown key "{key}"{hint}')


def _kind(value):
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            type(None): "null"}.get(type(value), "a number")


def _show(value):
    return "null" if value is None else json.dumps(value)[:80]


def suite_files(paths):
    """Expand folders to their *.json files (sorted); keep files as given."""
    files = []
    for path in map(Path, paths):
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


def load_suites(paths):
    """Load every suite; one broken file never stops the others. Returns (suites, errors)."""
    suites, errors = [], []
    for path in suite_files(paths):
        try:
            suites.append(load_suite(path))
        except SuiteError as exc:
            errors.append(exc)
    return suites, errors
