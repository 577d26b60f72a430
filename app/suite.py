"""The suite file format: loading and validating with errors that point at the exact place.

A suite is one JSON file, one scenario: either the original bare array of steps, or an object
`{"name", "description", "target", "steps": [...]}` (plus the run options `hours`, `noise`,
`seed`, `lambdaResponses`, and `$schema` for editors). Every error names the file, the 1-based
step and the field, and says what was expected, so a user can fix it without reading this code;
all of a file's errors are reported at once. `app/schema.py` publishes the same rules as a JSON
Schema.
"""
import difflib
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from app import limits, run_options
from app.caller import check_caller_fields
from app.errors import SuiteError
from app.matching import DEFAULT_THRESHOLD, MATCH_MODES
from app.patterns import UnsafePattern, check_pattern
from app.targets import anchor

DEFAULT_TIMEOUT = 5
MAX_TIMEOUT = 60
STEP_KEYS = ("expect", "then", "timeout", "match", "threshold")
# Suite keys that set a run option for this suite only (JSON name -> option name).
SUITE_OPTIONS = {"hours": "hours", "noise": "noise", "seed": "seed", "lambdaResponses": "lambda_responses"}
# Suite keys that describe the call (who calls, what the contact centre answers): they win over
# the command line for this suite (see app/caller.py and app/simulator/connect_call.py).
CALL_KEYS = ("callerId", "caller", "dial", "dialedNumber", "attributes", "lexBot", "staffing",
             "queueMetrics", "percentRoll")
CONDITION_KEYS = ("hours", "lambdaResponses", "attributes", "callerId", "lexBot")
SUITE_KEYS = ("$schema", "name", "description", "target", "steps", *SUITE_OPTIONS, *CALL_KEYS)
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
    settings: dict = field(default_factory=dict, compare=False)   # run options set by the suite
    options: dict = field(default_factory=dict, compare=False)    # Connect call fields, checked
    raw_conditions: dict = field(default_factory=dict, compare=False, repr=False)
    caller_id: str | None = None        # TwiML targets: who calls (app/caller.py)
    caller: dict | None = field(default=None, compare=False)
    dial: str | None = None             # TwiML targets: what each <Dial>'s far end does

    @property
    def conditions(self):
        """The call's conditions as the suite wrote them (stored with its runs, so `snapshot`
        and `rejudge` can set them again): hours, Lambda responses, attributes, caller, bot."""
        return {key: self.raw_conditions[key] for key in CONDITION_KEYS if key in self.raw_conditions}


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
    """Read and validate one suite file; raises SuiteError naming file, step and field of every
    problem. Paths in it (`target`, `lambdaResponses`) are relative to the suite's folder."""
    path = Path(path)
    name = str(path)
    try:
        text = limits.read_text(path, SuiteError)
    except (OSError, UnicodeDecodeError) as exc:
        reason = "no such file or folder" if isinstance(exc, FileNotFoundError) else exc
        raise SuiteError(f"{name}: cannot read file: {reason}") from None
    try:
        data = limits.loads(text, name, SuiteError)
    except json.JSONDecodeError as exc:
        raise SuiteError(f"{name}: line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}") from None
    suite = parse_suite(data, name, default_name=path.stem)
    settings = dict(suite.settings)
    if isinstance(settings.get("lambda_responses"), str):
        settings["lambda_responses"] = anchor(settings["lambda_responses"], path.parent)
    return replace(suite, target=anchor(suite.target, path.parent), settings=settings)


def parse_suite(data, name, default_name=None):
    """Validate already-decoded suite JSON; `name` is used in error messages. Every problem is
    collected, so one SuiteError lists them all (a file with four typos takes one round)."""
    problems = []
    meta = {}
    if isinstance(data, dict):
        _check_keys(data, SUITE_KEYS, f"{name}: ", problems)
        meta = data
        if "steps" not in data:
            problems.append(f'{name}: missing "steps" (expected a list of steps)')
            raise SuiteError(problems)
        data = data["steps"]
    if not isinstance(data, list):
        problems.append(f"{name}: expected a list of steps or an object with \"steps\", got {_kind(data)}")
    elif not data:
        problems.append(f"{name}: the suite has no steps")
    for key in ("name", "description", "target", "$schema"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            problems.append(f'{name}: "{key}": expected a string, got {_kind(meta[key])}')
    settings = _suite_settings(meta, name, problems)
    call = _call_fields(meta, name, problems)
    steps = ()
    if isinstance(data, list):
        steps = tuple(parse_step(raw, f"{name}: step {number}: ", problems)
                      for number, raw in enumerate(data, 1))
    if problems:
        raise SuiteError(problems)
    return Suite(path=name, name=meta.get("name") or default_name or name, steps=steps,
                 description=meta.get("description") or "", target=meta.get("target"),
                 settings=settings, **call)


def _call_fields(meta, name, problems):
    """The fields of a suite that describe its call, checked: Suite keyword arguments. A run
    option already refused by `_suite_settings` is not reported twice."""
    meta = {key: value for key, value in meta.items()
            if not (key in SUITE_OPTIONS and run_options.check(SUITE_OPTIONS[key], value))}
    try:
        caller_id, caller, dial = check_caller_fields(meta, f"{name}: ")
        options = {}
        if set(meta) & {"callerId", "dialedNumber", "attributes", "hours", "lexBot",
                        "lambdaResponses", "staffing", "queueMetrics", "percentRoll"}:
            from app.simulator.connect_call import parse_suite_options
            options = parse_suite_options(meta, f"{name}: ", Path(name).parent)
    except SuiteError as exc:
        problems.extend(exc.messages if getattr(exc, "messages", None) else [str(exc)])
        return {}
    return {"options": options, "caller_id": caller_id, "caller": caller, "dial": dial,
            "raw_conditions": {key: meta[key] for key in CONDITION_KEYS if key in meta}}


def _suite_settings(meta, name, problems):
    """The run options a suite sets for itself (`hours`, `noise`, `seed`, `lambdaResponses`)."""
    settings = {}
    for key, option in SUITE_OPTIONS.items():
        if key in meta:
            expected = run_options.check(option, meta[key])
            if expected:
                problems.append(f'{name}: "{key}": {expected}, got {_show(meta[key])}')
            else:
                settings[option] = meta[key]
    return settings


def parse_step(raw, where, problems=None):
    """Validate one step; `where` prefixes every message ("file: step 2: "). With a `problems`
    list, problems are added to it (and None returned); without, the first one is raised."""
    own = problems is None
    problems = [] if own else problems
    if not isinstance(raw, dict):
        problems.append(f"{where}expected an object with \"expect\", \"then\" and \"timeout\", got {_kind(raw)}")
    else:
        before = len(problems)
        _check_keys(raw, STEP_KEYS, where, problems)
        match = _match_mode(raw, where, problems)
        step = Step(expect=_expect(raw, where, match, problems), then=_then(raw, where, problems),
                    timeout=_number(raw, "timeout", where, DEFAULT_TIMEOUT, problems, above=0, at_most=MAX_TIMEOUT),
                    match=match,
                    threshold=_number(raw, "threshold", where, DEFAULT_THRESHOLD, problems, low=0, at_most=1),
                    instruction=dict(raw))
        if len(problems) == before:
            return step
    if own:
        raise SuiteError(problems)
    return None


def _expect(raw, where, match, problems):
    value = raw.get("expect")
    if value is None and match == "any":
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(p, str) and p.strip() for p in value):
        problems.append(f'{where}"expect": expected a non-empty list of phrases or one phrase, got {_show(value)}')
        return ()
    if match == "regex":
        for phrase in value:
            try:
                check_pattern(phrase)
            except UnsafePattern as exc:
                problems.append(f'{where}"expect": {exc}')
    return tuple(value)


def _then(raw, where, problems):
    action = parse_action(raw.get("then"))
    if action is None:
        problems.append(f'{where}"then": unknown action {_show(raw.get("then"))} ({_ACTIONS_HELP})')
    return action


def _match_mode(raw, where, problems):
    mode = raw.get("match", "fuzzy")
    if mode not in MATCH_MODES:
        problems.append(f'{where}"match": unknown mode {_show(mode)} (expected {", ".join(MATCH_MODES)})')
        return "fuzzy"
    return mode


def _number(raw, key, where, default, problems, low=None, above=None, at_most=None):
    """A numeric field: present and in range, or its default when absent."""
    if key not in raw:
        return default
    value = raw[key]
    bounds = f"a number greater than {above}" if above is not None else f"a number from {low}"
    bounds += f" and at most {at_most}" if above is not None else f" to {at_most}"
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or value != value
            or (above is not None and value <= above) or (low is not None and value < low)
            or value > at_most):
        problems.append(f'{where}"{key}": expected {bounds}, got {_show(value)}')
        return default
    return value


def _check_keys(raw, allowed, where, problems):
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f' (did you mean "{close[0]}"?)' if close else f" (expected one of {', '.join(allowed)})"
            problems.append(f'{where}unknown key "{key}"{hint}')


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


def missing_folders(paths):
    """The given folders that hold no suite file (a typo'd folder must not run nothing quietly)."""
    return [str(p) for p in map(Path, paths) if p.is_dir() and not any(p.glob("*.json"))]


def load_suites(paths):
    """Load every suite; one broken file never stops the others. Returns (suites, errors)."""
    suites, errors = [], []
    for path in suite_files(paths):
        try:
            suites.append(load_suite(path))
        except SuiteError as exc:
            errors.append(exc)
    return suites, errors
