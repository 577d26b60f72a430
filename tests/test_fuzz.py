"""Fuzzing with hypothesis: whatever a suite file, a webhook request or a Connect flow export holds,
the answer is a clear error or a valid result, never a crash, a 500 or a hang.

Bounded so CI stays fast: few examples per property, no deadline (a slow CI machine is not a bug).
"""
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st
from twilio.request_validator import RequestValidator

from app import create_app
from app.errors import FlowError, SuiteError
from app.simulator.clock import VirtualClock
from app.simulator.connect_flow import SUPPORTED_TYPES, Flow, parse_flow
from app.simulator.connect_leg import ConnectFlowLeg
from app.simulator.lex import LexBot
from app.simulator.line import Endpoint, Line
from app.store import ResultStore
from app.matching import DEFAULT_THRESHOLD, MATCH_MODES
from app.suite import DEFAULT_TIMEOUT, MAX_TIMEOUT, Suite, parse_suite

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOKEN = "fuzz-token-0123456789abcdef"
PUBLIC_URL = "https://fuzz.example.ngrok.app"

# Text a form, a URL or a JSON file can carry (no lone surrogates: those cannot be UTF-8 encoded).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12)


def strict_json(text):
    def refuse(token):
        raise AssertionError(f"{token} in db.json is not JSON")
    return json.loads(text, parse_constant=refuse)


# ---------------------------------------------------------------------------------- suites

STEP_VALUES = {
    "expect": st.one_of(TEXT, st.lists(TEXT, max_size=3), JSON),
    "then": st.one_of(st.none(), st.sampled_from(["hangup", "press=1", "press=12w#", "say=hi", "press=",
                                                  "say=", "press=x", "HANGUP", "dial=1"]), TEXT, JSON),
    "timeout": st.one_of(st.integers(-5, 100), st.floats(allow_nan=True, allow_infinity=True), JSON),
    "match": st.one_of(st.sampled_from(["fuzzy", "exact", "contains", "regex", "any", "Fuzzy"]), JSON),
    "threshold": st.one_of(st.floats(allow_nan=True, allow_infinity=True), JSON),
}
STEP = st.fixed_dictionaries({}, optional={**STEP_VALUES, "expct": JSON})

# Well-formed steps, as the format documents them: a non-empty phrase or list of phrases, then
# null / press=DIGITS / say=TEXT / hangup, a timeout in (0, 60], a known match mode, a threshold
# in [0, 1]. Each of these must load, and load as written.
PHRASE = TEXT.filter(lambda text: text.strip())
GOOD_THEN = st.one_of(
    st.none(),
    st.text("0123456789*#wW", min_size=1, max_size=8).map(lambda digits: "press=" + digits),
    PHRASE.map(lambda text: "say=" + text),
    st.sampled_from(["hangup", "HANGUP", " Hangup "]))
GOOD_NUMBERS = {
    "timeout": st.one_of(st.integers(1, MAX_TIMEOUT),
                         st.floats(0, MAX_TIMEOUT, exclude_min=True, allow_nan=False)),
    "threshold": st.one_of(st.integers(0, 1), st.floats(0, 1, allow_nan=False)),
}
PLAIN_STEP = st.fixed_dictionaries(
    {"expect": st.one_of(PHRASE, st.lists(PHRASE, min_size=1, max_size=3))},
    optional={"then": GOOD_THEN, "match": st.sampled_from([m for m in MATCH_MODES if m != "regex"]),
              **GOOD_NUMBERS})
REGEX_STEP = st.fixed_dictionaries(                        # escaped text: always a valid pattern
    {"expect": st.lists(PHRASE.map(re.escape), min_size=1, max_size=3), "match": st.just("regex")},
    optional={"then": GOOD_THEN, **GOOD_NUMBERS})
GOOD_STEP = PLAIN_STEP | REGEX_STEP
GOOD_SUITE = st.one_of(
    st.lists(GOOD_STEP, min_size=1, max_size=4),
    st.fixed_dictionaries({"steps": st.lists(GOOD_STEP, min_size=1, max_size=4)},
                          optional={"name": TEXT, "description": TEXT, "target": st.none() | TEXT}),
)
SUITE = st.one_of(
    JSON,
    st.lists(STEP, max_size=4),
    st.fixed_dictionaries({"steps": st.lists(STEP, max_size=4)},
                          optional={"name": JSON, "description": JSON, "target": JSON, "extra": JSON}),
    GOOD_SUITE,
)


def expected_action(then):
    """(kind, str) of a valid `then`, read from the documented format (not from app.suite)."""
    if then is None:
        return "none", "null"
    if then.strip().lower() == "hangup":
        return "hangup", "hangup"
    kind, _, value = then.partition("=")
    return (kind, f"press={value}") if kind == "press" else (kind, f"say={value.strip()}")


def assert_loaded_as_written(suite, data):
    """A suite that loaded holds the input's steps, in order, with the input's values."""
    raw_steps = data["steps"] if isinstance(data, dict) else data
    assert isinstance(suite, Suite) and len(suite.steps) == len(raw_steps) > 0
    if isinstance(data, dict):
        assert suite.name == (data.get("name") or "fuzz.json")
        assert suite.description == (data.get("description") or "")
        assert suite.target == data.get("target")
    for step, raw in zip(suite.steps, raw_steps):
        kind, text = expected_action(raw.get("then"))
        assert (step.then.kind, str(step.then)) == (kind, text), (raw, step.then)
        expect = raw.get("expect")
        assert step.expect == (() if expect is None else (expect,) if isinstance(expect, str)
                               else tuple(expect))
        assert step.match == raw.get("match", "fuzzy")
        assert step.timeout == raw.get("timeout", DEFAULT_TIMEOUT)
        assert step.threshold == raw.get("threshold", DEFAULT_THRESHOLD)
        assert step.instruction == raw


def test_any_suite_json_is_a_suite_or_a_suite_error():
    outcomes = {"suite": 0, "error": 0}

    @FUZZ
    @given(SUITE)
    @example([{"expect": ["a(b"], "match": "regex", "then": None}])
    @example([{"expect": "hello", "then": "press=1", "timeout": 3}])
    def check(data):
        try:
            suite = parse_suite(data, "fuzz.json")
        except SuiteError as exc:
            assert str(exc).startswith("fuzz.json: ")
            outcomes["error"] += 1
            return
        assert_loaded_as_written(suite, data)
        outcomes["suite"] += 1
    check()
    # Both branches ran on generated input, not only on the @examples: about a quarter of the
    # inputs come from GOOD_SUITE (measured: 25-45 % valid), so at least one in eight must be a
    # valid suite, and at least a quarter an error.
    total = outcomes["suite"] + outcomes["error"]
    assert outcomes["suite"] >= total / 8 and outcomes["error"] >= total / 4, outcomes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GOOD_SUITE)
def test_a_well_formed_suite_always_loads_as_written(data):
    assert_loaded_as_written(parse_suite(data, "fuzz.json"), data)


def test_a_regex_with_a_huge_repeat_is_a_suite_error():
    with pytest.raises(SuiteError):
        parse_suite([{"expect": ["a{4294967296}"], "match": "regex"}], "fuzz.json")


# ---------------------------------------------------------------------------------- webhooks

SUITE_FOR_RUNS = parse_suite([{"expect": ["hello"], "then": "press=1", "timeout": 3},
                              {"expect": ["goodbye"], "then": "say=bye", "timeout": 3}], "calls.json")
CALL_SIDS = ["CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32]
FIELD_VALUE = st.one_of(
    TEXT, st.sampled_from(["", " ", "0", "-1", "1.5", "nan", "inf", "-inf", "1e400", "null", "<Say>x</Say>",
                           "]]>", "&amp;", "\x00", "completed", "busy", "in-progress", "no-answer"]),
    st.integers().map(str), st.just("x" * 70_000))                   # over the 64 KB body limit
FORM = st.dictionaries(
    st.sampled_from(["CallSid", "AccountSid", "SpeechResult", "Confidence", "CallStatus", "Digits",
                     "StableSpeechResult", "UnstableSpeechResult", "From", "To", "Direction"]) | TEXT,
    FIELD_VALUE, max_size=6)
REQUEST = st.fixed_dictionaries({
    "path": st.sampled_from(["/voice", "/gather", "/partial", "/status"]),
    "run": st.one_of(st.none(), st.integers(0, 2), TEXT),           # 0-2: a run that exists
    "step": st.one_of(st.none(), st.integers(-2, 3), st.sampled_from(["1.5", "", "x", "9" * 30]), TEXT),
    "silence": st.booleans(),
    "sid": st.one_of(st.sampled_from(CALL_SIDS), TEXT, st.none()),
    "form": FORM,
    "signed": st.sampled_from([True, True, True, False]),
})


@pytest.fixture
def fuzz_app(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "db.json", flush_delay=0.01)
    app = create_app({"TESTING": True, "STORE": store, "TWILIO_AUTH_TOKEN": TOKEN,
                      "PUBLIC_URL": PUBLIC_URL})
    # every unknown call logs a warning; not the point here. The logger is shared by every app
    # of this process, so it is switched back on after the test.
    monkeypatch.setattr(app.logger, "disabled", True)
    yield app, store
    store.close()


def send(client, run_ids, request):
    query = {}
    if request["run"] is not None:
        query["run"] = run_ids[request["run"]] if isinstance(request["run"], int) else request["run"]
    if request["step"] is not None:
        query["step"] = request["step"]
    if request["silence"]:
        query["silence"] = "1"
    path = request["path"] + ("?" + urlencode(query) if query else "")
    form = dict(request["form"])
    if request["sid"] is not None:
        form["CallSid"] = request["sid"]
    headers = {}
    if request["signed"]:
        headers["X-Twilio-Signature"] = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + path, form)
    return client.post(path, data=form, headers=headers)


def test_random_webhook_requests_get_a_4xx_or_valid_twiml_and_the_db_stays_json(fuzz_app):
    app, store = fuzz_app
    client, runs = app.test_client(), app.extensions["runs"]

    @FUZZ
    @given(st.lists(REQUEST, min_size=1, max_size=6))
    def check(requests):
        run_ids = [runs.create(SUITE_FOR_RUNS, target="fuzz") for _ in range(3)]
        for request in requests:
            response = send(client, run_ids, request)
            assert response.status_code < 500, (request, response.get_data(as_text=True)[:300])
            body = response.get_data(as_text=True)
            if response.status_code == 200:
                root = ET.fromstring(body)                 # valid XML ...
                assert root.tag == "Response"              # ... and TwiML
            else:
                assert 400 <= response.status_code < 500
        store.flush()
        strict_json(store.path.read_text(encoding="utf-8"))
    check()


def test_random_calls_that_follow_the_protocol_stay_consistent(fuzz_app):
    """Requests in a plausible order for one call (answer, gathers with random steps and
    transcripts, partials, a final status): the stored run never holds a step twice."""
    app, store = fuzz_app
    client, runs = app.test_client(), app.extensions["runs"]
    events = st.lists(st.one_of(
        st.tuples(st.just("/gather"), st.integers(-1, 3), TEXT | FIELD_VALUE, st.booleans()),
        st.tuples(st.just("/partial"), st.integers(-1, 3), TEXT, st.just(False)),
        st.tuples(st.just("/status"), st.just(0), st.sampled_from(["completed", "busy", "failed", "x"]),
                  st.just(False)),
    ), max_size=8)

    @FUZZ
    @given(events, st.sampled_from(CALL_SIDS))
    def check(sequence, sid):
        run_id = runs.create(SUITE_FOR_RUNS, target="fuzz")
        base = {"run": 0, "sid": sid, "signed": True, "silence": False}
        assert send(client, [run_id], {**base, "path": "/voice", "step": None, "form": {}}).status_code == 200
        for path, step, value, silence in sequence:
            field = {"/gather": "SpeechResult", "/partial": "StableSpeechResult",
                     "/status": "CallStatus"}[path]
            response = send(client, [run_id], {**base, "path": path, "step": step, "silence": silence,
                                               "form": {field: value, "Confidence": "0.9"}})
            assert response.status_code < 500
        doc = store.get(run_id)
        steps = [result["step"] for result in doc["results"]]
        assert steps == sorted(set(steps)) and len(steps) <= 2
        assert doc["currentIndex"] == len([r for r in doc["results"] if r["status"] == "passed"]) \
            or doc["status"] not in ("queued", "in-progress")
        store.flush()
        strict_json(store.path.read_text(encoding="utf-8"))
    check()


# ---------------------------------------------------------------------------------- Connect flows

IDS = ["a", "b", "c", "d", "e"]
NUMBER_TEXT = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["0.5", "x", "", "-1", "1e9", "1e400",
                                                                      "$.Attributes.n", "nan", "inf"]))


def flow_strategies(part):
    """(flow-language, legacy) export strategies; `part` wraps each part's well-typed strategy:
    unchanged for well-typed exports, or `| JSON` for exports with any JSON in any place."""
    target = part(st.one_of(st.sampled_from(IDS), st.none()))
    condition = part(st.fixed_dictionaries({
        "NextAction": target,
        "Condition": part(st.fixed_dictionaries({
            "Operator": part(st.sampled_from(["Equals", "NumberGreaterThan", "NumberLessThan",
                                              "TextContains", "Contains", "StartsWith", "GreaterThan"])),
            "Operands": part(st.lists(st.sampled_from(["1", "2", "ContinueLooping", "DoneLooping", "True",
                                                       "False", "FavoriteProgrammer", "x",
                                                       "$.Attributes.n"]), min_size=1, max_size=2))}))}))
    error = part(st.fixed_dictionaries({"NextAction": target, "ErrorType": part(st.sampled_from(
        ["NoMatchingError", "NoMatchingCondition", "InputTimeLimitExceeded", "QueueAtCapacity"]))}))
    number = part(NUMBER_TEXT)
    parameters = part(st.fixed_dictionaries({}, optional={
        "Text": part(st.one_of(TEXT, st.just("Press 1. $.Attributes.n $.External.x $.Lex.Slots.name"))),
        "LoopCount": number, "InputTimeLimitSeconds": number, "MaxDigits": number,
        "StoreInput": part(st.sampled_from(["True", "False"])),
        "ComparisonValue": part(st.sampled_from(["$.Attributes.n", "$.StoredCustomerInput", "1",
                                                 "$.Lex.IntentName"])),
        "Attributes": part(st.dictionaries(st.sampled_from(["n", "m"]), number, max_size=2)),
        "QueueId": part(st.sampled_from(["arn:aws:connect:x:queue/Sales", "", "$.Attributes.n"])),
        "LambdaFunctionARN": part(st.sampled_from(["arn:aws:lambda:r:1:function:lookup", "missing"])),
        "LambdaFunctionParameters": part(st.dictionaries(st.sampled_from(["n", "m"]), number, max_size=2)),
        "LexBot": part(st.fixed_dictionaries({"Name": part(st.just("FavoriteProgrammer")),
                                              "Region": st.just("us-east-1")})),
        "LexV2Bot": part(st.fixed_dictionaries({"AliasArn": part(st.just("arn:aws:lex:r:1:bot-alias/B/A"))})),
        "LexSessionAttributes": part(st.dictionaries(st.just("x-amz-lex:audio:start-timeout-ms"), number,
                                                     max_size=1)),
        "InputValidation": part(st.fixed_dictionaries({"CustomValidation": part(st.fixed_dictionaries(
            {"MaximumLength": number}))})),
        "DTMFConfiguration": part(st.fixed_dictionaries({}, optional={
            "InputTerminationSequence": part(st.sampled_from(["#", "*"])),
            "InterdigitTimeLimitSeconds": number})),
        "TextToSpeechVoice": part(TEXT),
        "FlowLoggingBehavior": part(st.sampled_from(["Enabled", "Disabled"])),
    }))
    action = st.fixed_dictionaries({
        "Identifier": part(st.sampled_from(IDS)),
        "Type": part(st.sampled_from(sorted(SUPPORTED_TYPES)) | st.sampled_from(["Wait", "Transfer"])),
        "Parameters": parameters,
        "Transitions": part(st.fixed_dictionaries({}, optional={
            "NextAction": target, "Conditions": part(st.lists(condition, max_size=2)),
            "Errors": part(st.lists(error, max_size=3))})),
    })
    queue_metadata = st.fixed_dictionaries({"ActionMetadata": part(st.dictionaries(
        st.sampled_from(IDS), part(st.fixed_dictionaries({"queue": part(st.fixed_dictionaries(
            {"text": part(st.just("Sales"))}))})), max_size=2))})
    flow_language = st.fixed_dictionaries({
        "Version": st.just("2019-10-30"), "StartAction": part(st.one_of(st.sampled_from(IDS), st.none())),
        "Actions": st.lists(action, min_size=1, max_size=6,
                            unique_by=lambda a: json.dumps(a["Identifier"], sort_keys=True)),
    }, optional={"Metadata": part(queue_metadata)})
    legacy = st.fixed_dictionaries({
        "start": part(st.sampled_from(IDS)),
        "modules": st.lists(st.fixed_dictionaries({
            "id": part(st.sampled_from(IDS)),
            "type": part(st.sampled_from(["PlayPrompt", "GetUserInput", "Disconnect", "SetAttributes",
                                          "CheckAttribute", "Transfer", "Loop", "InvokeExternalResource",
                                          "Nope"])),
            "branches": part(st.lists(part(st.fixed_dictionaries({
                "condition": part(st.sampled_from(["Success", "Error", "Timeout", "NoMatch", "Evaluate"])),
                "transition": target}, optional={
                    "conditionType": part(st.sampled_from(["Equals", "GreaterThan"])),
                    "conditionValue": part(st.sampled_from(["1", "2"]))})), max_size=3)),
            "parameters": part(st.lists(part(st.fixed_dictionaries({
                "name": part(st.sampled_from(["Text", "Timeout", "MaxDigits", "Attribute", "Value", "Queue",
                                              "Parameter", "FunctionArn", "BotName"])),
                "value": st.one_of(TEXT, NUMBER_TEXT, part(st.none()))},
                optional={"key": part(st.sampled_from(["n", "m"])),
                          "namespace": part(st.sampled_from(["User Defined", "System", "External"]))})),
                max_size=3)),
        }), min_size=1, max_size=5, unique_by=lambda m: json.dumps(m["id"], sort_keys=True)),
    })
    return flow_language, legacy


FLOW_LANGUAGE, LEGACY = flow_strategies(lambda strategy: strategy)
# Any JSON in any part: a wrong type (a list where an object belongs) is a FlowError at load.
ANY_FLOW_LANGUAGE, ANY_LEGACY = flow_strategies(lambda strategy: strategy | JSON)


ANY_TOP_LEVEL = st.fixed_dictionaries({}, optional={
    "Version": JSON, "StartAction": TEXT | JSON, "start": TEXT | JSON, "Actions": JSON, "modules": JSON,
    "Metadata": JSON})


@FUZZ
@given(st.one_of(JSON, FLOW_LANGUAGE, LEGACY, ANY_FLOW_LANGUAGE, ANY_LEGACY, ANY_TOP_LEVEL))
def test_any_flow_json_is_a_flow_or_a_flow_error(data):
    try:
        flow = parse_flow(data, source="fuzz-flow.json")
    except FlowError as exc:
        assert "fuzz-flow.json" in str(exc)
        return
    assert isinstance(flow, Flow) and flow.start in flow.blocks


# Exports with the wrong JSON type where an object, a list or a string belongs. Found by fuzzing
# (any JSON in those places); kept as concrete cases.
def flow_language(action, **top):
    return {"StartAction": "a", "Actions": [{"Identifier": "a", "Type": "MessageParticipant", **action}],
            **top}


def legacy(module):
    return {"start": "a", "modules": [{"id": "a", "type": "PlayPrompt", "branches": [],
                                       "parameters": [], **module}]}


WRONGLY_TYPED_FLOWS = {
    "Transitions not an object": flow_language({"Transitions": True}),
    "Parameters not an object": flow_language({"Parameters": ["x"]}),
    "Identifier not a string": flow_language({"Identifier": ["a"]}),
    "Type not a string": flow_language({"Type": {"x": 1}}),
    "a Condition entry not an object": flow_language({"Type": "Compare", "Transitions": {"Conditions": [None]}}),
    "Conditions not a list": flow_language({"Type": "Compare", "Transitions": {"Conditions": 5}}),
    "an Errors entry not an object": flow_language({"Transitions": {"Errors": [[]]}}),
    "StartAction not a string": {"StartAction": ["a"], "Actions": []},
    "legacy branch not an object": legacy({"branches": [None]}),
    "legacy branches not a list": legacy({"branches": True}),
    "legacy id not a string": legacy({"id": ["a"]}),
    "legacy parameters not a list": legacy({"parameters": 7}),
}


@pytest.mark.parametrize("data", WRONGLY_TYPED_FLOWS.values(), ids=WRONGLY_TYPED_FLOWS.keys())
def test_a_flow_with_wrongly_typed_parts_is_a_flow_error(data):
    with pytest.raises(FlowError):
        parse_flow(data, source="fuzz-flow.json")


@pytest.mark.parametrize("metadata", [True, [], {"ActionMetadata": 5},
                                      {"ActionMetadata": {"a": {"queue": 1}}}])
def test_metadata_of_the_wrong_type_is_ignored(metadata):
    """Metadata is layout (read only for queue names), so a non-object there is no error."""
    assert parse_flow(flow_language({}, Metadata=metadata), source="fuzz-flow.json").start == "a"


def test_a_parameter_of_the_wrong_type_is_refused_at_load():
    data = {"StartAction": "a", "Actions": [{"Identifier": "a", "Type": "UpdateContactAttributes",
                                             "Parameters": {"Attributes": 5}}]}
    with pytest.raises(FlowError):
        parse_flow(data, source="fuzz-flow.json")


_BOT = []


def sample_bot():
    if not _BOT:
        _BOT.append(LexBot.load("aws-lex-bot"))
    return _BOT[0]


class SilentCaller(Endpoint):
    name = "caller"


# Flows that load: every block of a supported type with parameters it plausibly holds, and
# StartAction and every NextAction drawn from the identifiers actually generated.
VALID_NUMBER = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["0.5", "1e9", "$.Attributes.n"]))
GOOD_PARAMETERS = {
    "Text": st.one_of(TEXT, st.just("Press 1. $.Attributes.n $.External.x $.Lex.Slots.name")),
    "LoopCount": VALID_NUMBER, "InputTimeLimitSeconds": VALID_NUMBER, "MaxDigits": VALID_NUMBER,
    "StoreInput": st.sampled_from(["True", "False"]),
    "ComparisonValue": st.sampled_from(["$.Attributes.n", "$.StoredCustomerInput", "1", "$.Lex.IntentName",
                                        "$.External.x"]),
    "Attributes": st.dictionaries(st.sampled_from(["n", "m"]), VALID_NUMBER, max_size=2),
    "QueueId": st.sampled_from(["arn:aws:connect:x:queue/Sales", "", "$.Attributes.n"]),
    "LambdaFunctionARN": st.sampled_from(["arn:aws:lambda:r:1:function:lookup", "missing"]),
    "LambdaFunctionParameters": st.dictionaries(st.sampled_from(["n", "m"]), VALID_NUMBER, max_size=2),
    "InvocationTimeLimitSeconds": VALID_NUMBER,
    "LexBot": st.fixed_dictionaries({"Name": st.just("FavoriteProgrammer"), "Region": st.just("us-east-1")}),
    "LexV2Bot": st.fixed_dictionaries({"AliasArn": st.just("arn:aws:lex:r:1:bot-alias/B/A")}),
    "LexSessionAttributes": st.dictionaries(st.just("x-amz-lex:audio:start-timeout-ms"), VALID_NUMBER,
                                            max_size=1),
    "InputValidation": st.fixed_dictionaries({"CustomValidation": st.fixed_dictionaries(
        {"MaximumLength": VALID_NUMBER})}),
    "DTMFConfiguration": st.fixed_dictionaries({}, optional={
        "InputTerminationSequence": st.sampled_from(["#", "*"]), "InterdigitTimeLimitSeconds": VALID_NUMBER}),
    "TextToSpeechVoice": st.sampled_from(["Joanna", "Matthew"]),
    "FlowLoggingBehavior": st.sampled_from(["Enabled", "Disabled"]),
    "RecordingBehavior": st.just({"RecordedParticipants": ["Agent", "Customer"]}),
    "HoursOfOperationId": st.sampled_from(["arn:aws:connect:x:operating-hours/Main"]),
}
PARAMETERS_BY_TYPE = {
    "MessageParticipant": ["Text"],
    "GetParticipantInput": ["Text", "InputTimeLimitSeconds", "MaxDigits", "StoreInput", "LexBot",
                            "LexV2Bot", "LexSessionAttributes", "InputValidation", "DTMFConfiguration"],
    "ConnectParticipantWithLexBot": ["Text", "LexBot", "LexV2Bot", "LexSessionAttributes"],
    "UpdateContactAttributes": ["Attributes"],
    "Compare": ["ComparisonValue"],
    "Loop": ["LoopCount"],
    "UpdateContactTextToSpeechVoice": ["TextToSpeechVoice"],
    "UpdateFlowLoggingBehavior": ["FlowLoggingBehavior"],
    "UpdateContactRecordingBehavior": ["RecordingBehavior"],
    "DisconnectParticipant": [],
    "UpdateContactTargetQueue": ["QueueId"],
    "TransferContactToQueue": ["QueueId"],
    "InvokeLambdaFunction": ["LambdaFunctionARN", "LambdaFunctionParameters", "InvocationTimeLimitSeconds"],
    "CheckHoursOfOperation": ["HoursOfOperationId"],
}
# Block types whose parameters the fuzzer leaves out: drawn with none, they must still end the call.
PARAMETERS_BY_TYPE.update({kind: [] for kind in SUPPORTED_TYPES - set(PARAMETERS_BY_TYPE)})
assert set(PARAMETERS_BY_TYPE) == SUPPORTED_TYPES
OPERANDS = ["1", "2", "ContinueLooping", "DoneLooping", "True", "False", "FavoriteProgrammer", "x"]


@st.composite
def loadable_flows(draw):
    ids = draw(st.lists(st.text("abcdefgh-0123456789", min_size=1, max_size=8), min_size=1, max_size=6,
                        unique=True))
    target = st.sampled_from(ids)

    def action(identifier):
        kind = draw(st.sampled_from(sorted(SUPPORTED_TYPES)))
        parameters = draw(st.fixed_dictionaries({}, optional={
            name: GOOD_PARAMETERS[name] for name in PARAMETERS_BY_TYPE[kind]}))
        condition = st.fixed_dictionaries({
            "Operator": st.sampled_from(["Equals", "NumberGreaterThan", "NumberLessThan", "TextContains",
                                         "Contains", "StartsWith", "GreaterThan"]),
            "Operands": st.lists(st.sampled_from(OPERANDS), min_size=1, max_size=2)})
        conditions = draw(st.lists(st.fixed_dictionaries({"NextAction": target, "Condition": condition}),
                                   max_size=3))
        errors = draw(st.lists(st.fixed_dictionaries({"NextAction": target, "ErrorType": st.sampled_from(
            ["NoMatchingError", "NoMatchingCondition", "InputTimeLimitExceeded", "QueueAtCapacity"])}),
            max_size=3))
        transitions = {"Conditions": conditions, "Errors": errors}
        # Most blocks go on (as in real flows), so calls run through several blocks.
        if kind != "DisconnectParticipant" and draw(st.sampled_from([True, True, True, False])):
            transitions["NextAction"] = draw(target)
        return {"Identifier": identifier, "Type": kind, "Parameters": parameters, "Transitions": transitions}
    actions = [action(identifier) for identifier in ids]
    queues = draw(st.dictionaries(target, st.sampled_from(["Sales", "Support"]), max_size=2))
    metadata = {block: {"queue": {"text": name}} for block, name in queues.items()}
    return {"Version": "2019-10-30", "StartAction": draw(target), "Actions": actions,
            "Metadata": {"ActionMetadata": metadata}}


def test_a_valid_random_flow_ends_against_a_silent_caller():
    ran = []

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(loadable_flows(), st.booleans(), st.booleans())
    def check(data, with_bot, hours_open):
        flow = parse_flow(data, source="fuzz-flow.json")   # built to load: a FlowError is a failure
        assert flow.start == data["StartAction"]
        assert list(flow.blocks) == [action["Identifier"] for action in data["Actions"]]
        clock = VirtualClock()
        line = Line(clock, call_id="fuzz")
        ivr = ConnectFlowLeg(clock, line, flow, lex_bot=sample_bot() if with_bot else None,
                             lambda_responses={"lookup": {"x": "1"}}, hours_open=hours_open,
                             max_blocks=200)
        line.connect(SilentCaller(), ivr)
        clock.run(max_events=50_000)
        assert line.closed, f"the call did not end: {ivr.blocks_run} blocks, {len(line.log)} log entries"
        assert ivr.outcome and clock.pending() == 0
        assert 1 <= ivr.blocks_run <= 200
        ran.append(ivr.blocks_run)
    check()
    # The "never hangs" check ran on (at least) most of the examples, not on a handful.
    assert len(ran) >= 75, f"only {len(ran)} flows ran"
