"""A suite's call to a Connect flow, end to end: suite fields, missing bots, the `flows` command."""
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.errors import SuiteError
from app.runner import Job, OfflineRunner
from app.suite import load_suite, parse_suite
from app.targets import parse_target

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_BOT = ROOT / "aws-lex-bot"


def run(store, suite, target, **options):
    return OfflineRunner(store, **options).run([Job(suite, target)]).documents[0]


def write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def flow(*actions):
    return {"Version": "2019-10-30", "StartAction": actions[0]["Identifier"], "Actions": list(actions)}


def say(ident, text, next_=None):
    return {"Identifier": ident, "Type": "MessageParticipant", "Parameters": {"Text": text},
            "Transitions": {"NextAction": next_} if next_ else {}}


def step(expect, then=None):
    return {"expect": expect, "then": then, "timeout": 5}


# --------------------------------------------------------------------------- suite fields


def test_suite_fields_set_the_contact(store, tmp_path):
    target = write(tmp_path / "flows" / "main.json", flow(
        {"Identifier": "hours", "Type": "CheckHoursOfOperation", "Parameters": {},
         "Transitions": {"Conditions": [
             {"NextAction": "open", "Condition": {"Operator": "Equals", "Operands": ["True"]}},
             {"NextAction": "shut", "Condition": {"Operator": "Equals", "Operands": ["False"]}}]}},
        say("open", "Open for $.Attributes.tier caller $.CustomerEndpoint.Address on $.SystemEndpoint.Address"),
        say("shut", "Closed for $.Attributes.tier caller $.CustomerEndpoint.Address on $.SystemEndpoint.Address")))
    suite_file = write(tmp_path / "suites" / "s.json", {
        "callerId": "+14155550123", "dialedNumber": "+18005550100", "attributes": {"tier": "gold"},
        "hours": "closed",
        "steps": [step("Closed for gold caller +14155550123 on +18005550100")]})
    suite = load_suite(suite_file)
    assert suite.options == {"callerId": "+14155550123", "dialedNumber": "+18005550100",
                             "attributes": {"tier": "gold"}, "hours": False}
    doc = run(store, suite, parse_target(str(target)), hours_open=True)   # the suite overrides --hours
    assert doc["status"] == "complete", doc.get("endReason")


def test_suite_lambda_responses_and_lex_bot_paths_are_relative_to_the_suite(store, tmp_path):
    shutil.copytree(SAMPLE_BOT, tmp_path / "suites" / "bot")
    write(tmp_path / "suites" / "lambda.json", {"tier": {"level": "platinum"}})
    target = write(tmp_path / "flows" / "main.json", flow(
        {"Identifier": "fn", "Type": "InvokeLambdaFunction",
         "Parameters": {"LambdaFunctionARN": "arn:aws:lambda:r:1:function:tier"},
         "Transitions": {"NextAction": "s"}},
        say("s", "Level $.External.level", "lex"),
        {"Identifier": "lex", "Type": "ConnectParticipantWithLexBot",
         "Parameters": {"Text": "Who is your favorite programmer?", "LexBot": {"Name": "FavoriteProgrammer"}},
         "Transitions": {}}))
    suite_file = write(tmp_path / "suites" / "s.json", {
        "lambdaResponses": "lambda.json", "lexBot": "bot",
        "steps": [step("Level platinum. Who is your favorite programmer?")]})
    doc = run(store, load_suite(suite_file), parse_target(str(target)))
    assert doc["status"] == "complete", doc.get("endReason")


@pytest.mark.parametrize("field, value, message", [
    ("callerId", "not a number", '"callerId": expected a phone number'),
    ("attributes", {"x": {"nested": 1}}, '"attributes": expected an object of text values'),
    ("hours", "sometimes", '"hours": expected "open" or "closed"'),
    ("lexBot", "no/such/bot", '"lexBot": .*does not exist'),
    ("lambdaResponses", [1], '"lambdaResponses": expected an object'),
    ("staffing", "lots", '"staffing": expected one of available, staffed, online, none'),
    ("queueMetrics", {"NumberOfContactsInQueue": "many"}, '"queueMetrics": expected an object of numbers'),
    ("percentRoll", 0, '"percentRoll": expected a whole number from 1 to 100'),
])
def test_bad_suite_fields_name_the_file_and_field(tmp_path, field, value, message):
    with pytest.raises(SuiteError, match=f"s.json: {message}"):
        parse_suite({field: value, "steps": [step("hi")]}, str(tmp_path / "s.json"))


# --------------------------------------------------------------------------- before the call


def lex_flow_file(tmp_path):
    return write(tmp_path / "lex.json", flow(
        {"Identifier": "lex", "Type": "ConnectParticipantWithLexBot",
         "Parameters": {"Text": "Say something", "LexBot": {"Name": "Helper"}}, "Transitions": {}}))


def test_a_lex_flow_without_a_bot_is_an_error_before_the_call(store, tmp_path):
    doc = run(store, parse_suite([step("Say something")], "s.json"), parse_target(str(lex_flow_file(tmp_path))))
    assert doc["status"] == "error" and "no bot was given" in doc["endReason"] and "--lex-bot" in doc["endReason"]
    assert not doc.get("transcript")


def test_the_command_line_exits_2_for_a_lex_flow_without_a_bot(tmp_path):
    suite = write(tmp_path / "s.json", [step("Say something")])
    result = CliRunner().invoke(cli, ["run", str(suite), "--target", str(lex_flow_file(tmp_path)),
                                      "--db", str(tmp_path / "db.json"), "--no-color"])
    assert result.exit_code == 2, result.output
    assert "block 'lex'" in result.output and "Helper" in result.output


def test_a_flow_that_hangs_up_at_once_fails_its_run_instead_of_stalling(store, tmp_path):
    target = write(tmp_path / "bye.json", flow({"Identifier": "bye", "Type": "DisconnectParticipant",
                                                "Parameters": {}, "Transitions": {}}))
    doc = run(store, parse_suite([step("hello")], "s.json"), parse_target(str(target)))
    assert doc["status"] == "failed" and doc["ivrOutcome"] == "disconnected"


def test_a_folder_target_follows_transfers(store, tmp_path):
    write(tmp_path / "instance" / "main.json", flow(
        say("a", "Main", "t"),
        {"Identifier": "t", "Type": "TransferToFlow", "Parameters": {"ContactFlowId": "Support"},
         "Transitions": {}}))
    write(tmp_path / "instance" / "flows" / "support.json",
          {"Name": "Support", "Type": "CONTACT_FLOW", "Content": json.dumps(flow(say("s", "Support here")))})
    doc = run(store, parse_suite([step("Main. Support here.")], "s.json"),
              parse_target(str(tmp_path / "instance")))
    assert doc["status"] == "complete", doc.get("endReason")


# --------------------------------------------------------------------------- flows command


def test_flows_command_marks_unmodelled_blocks(tmp_path):
    write(tmp_path / "f.json", flow(say("a", "Hi", "b"), {"Identifier": "b", "Type": "SendCarrierPigeon",
                                                          "Parameters": {}, "Transitions": {}}))
    write(tmp_path / "package.json", {"name": "not a flow"})
    result = CliRunner().invoke(cli, ["flows", str(tmp_path), "--play"])
    assert result.exit_code == 0, result.output
    assert "2 blocks, 1 not modelled" in result.output
    assert "  b  SendCarrierPigeon  [NOT MODELLED]" in result.output
    assert "first prompt 'Hi'" in result.output and "unmodelled block: type 'SendCarrierPigeon'" in result.output
    assert "1 flow(s) loaded, 0 failed to load, 1 other file(s) skipped" in result.output


def test_flows_command_exits_2_for_a_broken_flow(tmp_path):
    write(tmp_path / "f.json", flow(say("a", "Hi", "ghost")))
    result = CliRunner().invoke(cli, ["flows", str(tmp_path / "f.json")])
    assert result.exit_code == 2 and "'ghost'" in result.output
