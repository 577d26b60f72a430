"""The suite format as a JSON Schema (draft 2020-12), for editors: a suite that starts with
`"$schema": "../schema/suite.schema.json"` (a path to the published copy) gets completion and
checking as it is typed. `python main.py schema` prints it; `schema/suite.schema.json` is the
published copy (tests/test_schema.py keeps the two equal and checks them against app/suite.py's
validator on valid and broken suites).

It is built from app/suite.py's own tables (keys, match modes, limits), so a key added there
shows up here. The validator stays the authority: it also checks what a schema cannot say well
(a regex that compiles, "did you mean" hints).
"""
import json

from app.caller import CALLER_FIELDS, DIAL_OUTCOMES
from app.matching import DEFAULT_THRESHOLD, MATCH_MODES
from app.run_options import HOURS
from app.simulator.connect_blocks.routing import STAFFING_LEVELS
from app.simulator.recognizer import NOISE_MODES
from app.suite import DEFAULT_TIMEOUT, MAX_TIMEOUT, STEP_KEYS, SUITE_KEYS

SCHEMA_ID = "urn:ivr-test:suite-schema"   # no public URL yet: point "$schema" at the file
ACTION_PATTERN = r"^(press=[0-9*#wW]+|say=.*\S.*|[Hh][Aa][Nn][Gg][Uu][Pp])$"
PHRASE = {"type": "string", "pattern": r"\S"}

STEP = {
    "type": "object",
    "description": "One step: what the IVR should say, then what the caller does.",
    "properties": {
        "expect": {"description": "What the IVR may say: one phrase or a list of acceptable phrasings.",
                   "oneOf": [PHRASE, {"type": "array", "items": PHRASE, "minItems": 1}]},
        "then": {"description": "null (nothing), press=DIGITS (0-9 * # w), say=TEXT or hangup.",
                 "oneOf": [{"type": "null"}, {"type": "string", "pattern": ACTION_PATTERN}]},
        "timeout": {"description": "Seconds of IVR silence that end the step.", "type": "number",
                    "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT, "default": DEFAULT_TIMEOUT},
        "match": {"description": "How the transcript is judged.", "enum": list(MATCH_MODES), "default": "fuzzy"},
        "threshold": {"description": "Score (0 to 1) fuzzy and contains need.", "type": "number",
                      "minimum": 0, "maximum": 1, "default": DEFAULT_THRESHOLD},
    },
    "additionalProperties": False,
    "if": {"properties": {"match": {"const": "any"}}, "required": ["match"]},
    "else": {"required": ["expect"]},
}
STEPS = {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1}
SUITE_PROPERTIES = {
    "$schema": {"type": "string", "description": "This schema, for editors."},
    "name": {"type": "string", "description": "Shown in reports; default: the file name."},
    "description": {"type": "string"},
    "target": {"type": "string", "description": "Flow export (relative to this file), twiml:URL or +E164."},
    "steps": STEPS,
    "hours": {"enum": list(HOURS), "description": "What CheckHoursOfOperation answers for this suite."},
    "noise": {"enum": list(NOISE_MODES), "description": "Offline recognizer noise for this suite."},
    "seed": {"type": "integer", "description": "Seed of the offline recognizer's noise for this suite."},
    "lambdaResponses": {"description": "Lambda function name or ARN -> response: a JSON file "
                                       "(relative to this file) or the object itself.",
                        "oneOf": [{"type": "string"},
                                  {"type": "object", "additionalProperties": {"type": "object"}}]},
    # the call itself (these win over the command line for this suite; README "Precedence")
    "callerId": {"type": "string", "pattern": r"^\+[1-9][0-9]{1,14}$",
                 "description": "The caller's number (E.164): $.CustomerEndpoint.Address, Twilio's From."},
    "caller": {"type": "object", "description": "TwiML targets: who calls (Twilio's inbound parameters).",
               "properties": {key: {"type": "string"} for key in CALLER_FIELDS},
               "additionalProperties": False},
    "dial": {"enum": list(DIAL_OUTCOMES), "description": "TwiML targets: what each <Dial>'s far end does."},
    "dialedNumber": {"type": "string", "description": "The number called: $.SystemEndpoint.Address."},
    "attributes": {"type": "object", "description": "Contact attributes before the first block.",
                   "additionalProperties": {"type": ["string", "number"]}},
    "lexBot": {"type": "string", "description": "The Lex bot export (relative to this file)."},
    "staffing": {"enum": list(STAFFING_LEVELS), "description": "What Check staffing sees."},
    "queueMetrics": {"type": "object", "additionalProperties": {"type": "number"},
                     "description": "NumberOfContactsInQueue, OldestContactInQueueAgeSeconds."},
    "percentRoll": {"type": "integer", "minimum": 1, "maximum": 100,
                    "description": "The number Distribute by percentage acts on."},
}


def suite_schema():
    assert set(SUITE_PROPERTIES) == set(SUITE_KEYS) and set(STEP["properties"]) == set(STEP_KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "IVR test suite",
        "description": "One call: a list of steps, or an object with steps and settings.",
        "oneOf": [
            STEPS,
            {"type": "object", "properties": SUITE_PROPERTIES, "required": ["steps"],
             "additionalProperties": False},
        ],
        "$defs": {"step": STEP},
    }


def schema_text():
    return json.dumps(suite_schema(), indent=2) + "\n"
