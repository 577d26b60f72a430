"""Suite-level call conditions: validated with the field named, honoured by offline runs, and
found by generation for a flow that compares an attribute."""
import json

import pytest

from app.errors import SuiteError
from app.generate.pipeline import generate
from app.runner import Job, OfflineRunner
from app.suite import parse_suite
from app.targets import parse_target

TIER_FLOW = {"Version": "2019-10-30", "StartAction": "check", "Actions": [
    {"Identifier": "check", "Type": "Compare", "Parameters": {"ComparisonValue": "$.Attributes.tier"},
     "Transitions": {"Conditions": [
         {"NextAction": "gold", "Condition": {"Operator": "Equals", "Operands": ["gold"]}},
         {"NextAction": "big", "Condition": {"Operator": "NumberGreaterThan", "Operands": ["100"]}}],
         "Errors": [{"NextAction": "plain", "ErrorType": "NoMatchingCondition"}]}},
    {"Identifier": "gold", "Type": "MessageParticipant", "Parameters": {"Text": "Welcome, gold member."},
     "Transitions": {"NextAction": "bye"}},
    {"Identifier": "big", "Type": "MessageParticipant", "Parameters": {"Text": "Welcome, big spender."},
     "Transitions": {"NextAction": "bye"}},
    {"Identifier": "plain", "Type": "MessageParticipant", "Parameters": {"Text": "Welcome."},
     "Transitions": {"NextAction": "bye"}},
    {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}]}


@pytest.mark.parametrize("field, value, message", [
    ("hours", "sometimes", '"hours": expected "open" or "closed"'),
    ("lambdaResponses", [], '"lambdaResponses": expected an object'),
    ("lambdaResponses", {"fn": "ok"}, '"lambdaResponses.fn": expected an object'),
    ("attributes", {"tier": ["gold"]}, '"attributes": expected an object of text values'),
    ("callerId", 5, '"callerId": expected a phone number'),
])
def test_bad_conditions_name_the_field(field, value, message):
    with pytest.raises(SuiteError, match=message.replace(".", r"\.")):
        parse_suite({field: value, "steps": [{"expect": "x"}]}, "s.json")


def test_attributes_set_in_the_suite_reach_the_flow(tmp_path, store):
    flow = tmp_path / "tier.json"
    flow.write_text(json.dumps(TIER_FLOW))
    target = parse_target(str(flow))
    heard = []
    for attributes in ({"tier": "gold"}, {"tier": "150"}, {}):
        suite = parse_suite({"attributes": attributes, "steps": [{"match": "any"}]}, "s.json")
        doc = OfflineRunner(store, noise="off").run([Job(suite, target)]).documents[0]
        heard.append(doc["results"][0]["actualResult"])
    assert heard == ["Welcome, gold member.", "Welcome, big spender.", "Welcome."]


def test_generation_sets_the_attribute_each_branch_needs(tmp_path):
    flow = tmp_path / "tier.json"
    flow.write_text(json.dumps(TIER_FLOW))
    gen = generate(parse_target(str(flow)))
    by_text = {s["steps"][0]["expect"][0]: s.get("attributes") for s in gen.suites}
    assert by_text == {"Welcome, gold member.": {"tier": "gold"}, "Welcome, big spender.": {"tier": "101"},
                       "Welcome.": None}
    assert len(gen.reached) == 6 and gen.unreachable == []


def test_caller_id_is_the_from_number_a_twiml_app_sees(store):
    import threading

    from flask import Flask, request
    from werkzeug.serving import make_server
    app = Flask(__name__)

    @app.post("/voice")
    def voice():
        return f"<Response><Say>You are calling from {request.form['From']}.</Say></Response>", 200, \
            {"Content-Type": "text/xml"}

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = parse_target(f"twiml:http://127.0.0.1:{server.server_port}/voice")
        suite = parse_suite({"callerId": "+15557654321", "steps": [{"match": "any"}]}, "s.json")
        doc = OfflineRunner(store, noise="off").run([Job(suite, target)]).documents[0]
    finally:
        server.shutdown()
        server.server_close()
    assert doc["results"][0]["actualResult"] == "You are calling from +15557654321."
