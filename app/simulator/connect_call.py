"""Setting up a suite's call to a Connect flow: the flow and its library, the bot, the contact.

The command line gives defaults (`--hours`, `--lex-bot`, `--lambda-responses`); a suite may
override them for its own calls with these fields (paths are relative to the suite file):

    "callerId": "+15551230000"        $.CustomerEndpoint.Address ("Customer Number")
    "dialedNumber": "+18005550100"    $.SystemEndpoint.Address ("Dialed Number")
    "attributes": {"tier": "gold"}    contact attributes set before the flow starts
    "hours": "open" | "closed"        what CheckHoursOfOperation answers
    "lexBot": "bots/MyBot"            the Lex export the flow's Lex blocks talk to
    "lambdaResponses": {...} | "file.json"   function name or ARN -> its response
    "staffing": "available" | "staffed" | "online" | "none"   what Check staffing sees
    "queueMetrics": {"NumberOfContactsInQueue": 3, "OldestContactInQueueAgeSeconds": 40}
    "percentRoll": 1-100              the number Distribute by percentage draws

Everything that can be wrong is checked before the call: a flow that does not load, a bot that
does not load, or a flow with a Lex block and no bot at all is a clear error for that suite
(status "error", exit 2), never a silent error branch in the middle of the call.
"""
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from app.errors import ConfigError, SuiteError
from app.simulator.connect_blocks.input import missing_bot_error
from app.simulator.connect_blocks.routing import STAFFING_LEVELS
from app.simulator.connect_contact import DEFAULT_CALLER_ID, DEFAULT_DIALED_NUMBER, ContactData
from app.simulator.connect_leg import ConnectFlowLeg
from app.simulator.connect_library import load_target

SUITE_FIELDS = ("callerId", "dialedNumber", "attributes", "hours", "lexBot", "lambdaResponses",
                "staffing", "queueMetrics", "percentRoll")
_PHONE = re.compile(r"^\+?[0-9]{3,15}$")


@dataclass(frozen=True)
class CallOptions:
    """What the offline contact centre answers for one suite's calls."""
    caller_id: str = DEFAULT_CALLER_ID
    dialed_number: str = DEFAULT_DIALED_NUMBER
    attributes: dict = field(default_factory=dict)
    hours_open: object = True
    lex_bot: str | None = None
    lambda_responses: dict | None = None
    staffing: str | dict = "available"
    queue_metrics: dict = field(default_factory=dict)
    percent_roll: int | None = None


def parse_suite_options(meta, where, base):
    """The Connect fields of a suite object, checked; `where` prefixes errors ("file: ")."""
    return {key: _FIELDS[key](meta[key], f'{where}"{key}": ', Path(base))
            for key in SUITE_FIELDS if meta.get(key) is not None}


def _fail(where, expected, value):
    raise SuiteError(f"{where}expected {expected}, got {json.dumps(value)[:80]}")


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _phone(value, where, base):
    if not isinstance(value, str) or not _PHONE.match(value.replace(" ", "")):
        _fail(where, 'a phone number such as "+15551230000"', value)
    return value.replace(" ", "")


def _attributes(value, where, base):
    if not isinstance(value, dict) or not all(isinstance(v, str) or _number(v) for v in value.values()):
        _fail(where, "an object of text values", value)
    return {str(k): str(v) for k, v in value.items()}


def _hours(value, where, base):
    if value not in ("open", "closed", True, False):
        _fail(where, '"open" or "closed"', value)
    return value in ("open", True)


def _staffing(value, where, base):
    if value not in STAFFING_LEVELS:
        _fail(where, f"one of {', '.join(STAFFING_LEVELS)}", value)
    return value


def _queue_metrics(value, where, base):
    if not isinstance(value, dict) or not all(_number(v) for v in value.values()):
        _fail(where, "an object of numbers", value)
    return dict(value)


def _percent_roll(value, where, base):
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        _fail(where, "a whole number from 1 to 100", value)
    return value


def _path(value, where, base):
    if not isinstance(value, str) or not value.strip():
        _fail(where, "a path", value)
    path = base / value
    if not path.exists():
        raise SuiteError(f"{where}{path} does not exist")
    return str(path)


def _lambda_responses(value, where, base):
    if isinstance(value, str):
        from app.run_options import read_lambda_responses      # one reader for every layer
        try:
            value = read_lambda_responses(_path(value, where, base))
        except ConfigError as exc:
            raise SuiteError(f"{where}{exc}") from None
    if not isinstance(value, dict):
        raise SuiteError(f"{where}expected an object mapping a function name or ARN to its response")
    for name, response in value.items():       # a Lambda for Connect returns a JSON object
        if not isinstance(response, dict):
            raise SuiteError(f'{where[:-3]}.{name}": expected an object (the function\'s response), '
                             f"got {json.dumps(response)[:80]}")
    return value


_FIELDS = {"callerId": _phone, "dialedNumber": _phone, "attributes": _attributes, "hours": _hours,
           "lexBot": _path, "lambdaResponses": _lambda_responses, "staffing": _staffing,
           "queueMetrics": _queue_metrics, "percentRoll": _percent_roll}


def options_for(suite, defaults):
    """`defaults` with the suite's own fields over them."""
    fields = getattr(suite, "options", None) or {}
    if not fields:
        return defaults             # (frozen: the same options as a copy would be)
    names = {"callerId": "caller_id", "dialedNumber": "dialed_number", "hours": "hours_open",
             "lexBot": "lex_bot", "lambdaResponses": "lambda_responses", "queueMetrics": "queue_metrics",
             "percentRoll": "percent_roll"}
    return replace(defaults, **{names.get(key, key): value for key, value in fields.items()})


class ConnectCalls:
    """Builds the IVR leg of each call to a flow, loading each flow and bot once."""

    def __init__(self, clock, load_bot):
        self.clock, self.load_bot = clock, load_bot
        self._targets, self._bots = {}, {}
        self._bot_checked = set()       # (flow path, bot path) pairs missing_bot_error passed

    def flow(self, path):
        return self._target(path)[0]

    def _target(self, path):
        if path not in self._targets:
            self._targets[path] = load_target(path)
        return self._targets[path]

    def _bot(self, path):
        if path not in self._bots:
            self._bots[path] = self.load_bot(path)
        return self._bots[path]

    def maker(self, path, options):
        """A function line -> ConnectFlowLeg; every loading error is raised here, before the call."""
        flow, library = self._target(path)
        bot = self._bot(options.lex_bot) if options.lex_bot else None
        if (path, options.lex_bot) not in self._bot_checked:     # every block looked at once, not per call
            error = missing_bot_error(flow, bot)
            if error:
                raise error
            self._bot_checked.add((path, options.lex_bot))

        def make(line):
            contact = ContactData(caller_id=options.caller_id, dialed_number=options.dialed_number,
                                  contact_key=line.noise_key)
            return ConnectFlowLeg(self.clock, line, flow, lex_bot=bot, contact=contact,
                                  lambda_responses=options.lambda_responses, hours_open=options.hours_open,
                                  attributes=options.attributes, library=library, staffing=options.staffing,
                                  queue_metrics=options.queue_metrics, percent_roll=options.percent_roll)
        return make
