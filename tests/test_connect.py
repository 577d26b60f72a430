"""The Connect flow interpreter: both export formats, every block type, the sample flow's paths.

Every call runs on a virtual clock between a scripted caller and the flow on a `Line`; times in
assertions follow from the line's pacing (0.4 s a word, 0.25 s a DTMF tone), so they would move if
a timeout were waited for twice or not at all.
"""
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.errors import FlowError
from app.simulator import connect_blocks
from app.simulator.connect_blocks.input import missing_bot_error
from app.simulator.clock import VirtualClock
from app.simulator.connect_flow import (SUPPORTED_TYPES, Condition, as_bool, as_number, parsed_number, load_flow,
                                        parse_flow)
from app.simulator.connect_leg import ConnectFlowLeg
from app.simulator.line import Endpoint, Line

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "aws-connect-contact-flows"
SAMPLE_LEGACY = SAMPLE / "legacy"

PROMPT = "Hello, and welcome to the awesome phone center, press 1 for sales."
SORRY = "Sorry, I didn't get that."
ASK = "Who is your favorite programmer?"
NOT_UNDERSTOOD = "Sorry, I could not understand you. Goodbye."
HOLD = "Please hold while we connect you to support."
CLOSED = "Support is closed. Goodbye."


# --------------------------------------------------------------------------- the caller


class ScriptedCaller(Endpoint):
    """Hears the IVR and follows a script, one step at a time, in order.

    A step is (trigger, action, arg): the trigger is a phrase (act once a transcript containing
    it has been heard) or a number (act at that virtual time); the action is "press", "say" or
    "hangup".
    """

    name = "caller"

    def __init__(self, clock, line, script=()):
        self.clock, self.line, self.script = clock, line, list(script)
        self.heard = []          # (time the utterance ended, transcript)
        self.hangup_reason = None

    @property
    def texts(self):
        return [text for _, text in self.heard]

    def on_connect(self):
        self._arm()

    def on_speech_end(self, transcript, confidence):
        self.heard.append((round(self.clock.now, 3), transcript))
        if self.script and isinstance(self.script[0][0], str) and \
                self.script[0][0].lower() in transcript.lower():
            self._act()

    def on_hangup(self, reason):
        self.hangup_reason = reason

    def _arm(self):
        if self.script and not isinstance(self.script[0][0], str):
            self.clock.call_at(self.script[0][0], self._act)

    def _act(self):
        if self.line.closed or not self.script:
            return
        _, action, arg = self.script.pop(0)
        if action == "press":
            self.line.play_digits(self, arg)
        elif action == "say":
            self.line.say(self, arg)
        else:
            self.line.hangup(self, "caller hung up")
        self._arm()


# --------------------------------------------------------------------------- a fake Lex bot


@dataclass
class Reply:
    state: str
    message: str | None = None
    intent: str | None = None
    slots: dict = field(default_factory=dict)

    @property
    def done(self):
        return self.state in ("Fulfilled", "Failed")


class FakeSession:
    """Names fulfil PersonName; "someone" asks for the slot; "pizza" is another intent."""

    def __init__(self, bot):
        self.bot, self.misses, self.wants_slot = bot, 0, False

    def turn(self, utterance):
        self.bot.turns.append(utterance)
        text = (utterance or "").lower()
        if text in self.bot.names:
            return Reply("Fulfilled", None, "PersonName", {"Programmer": text})
        if "someone" in text:
            return Reply("ElicitSlot", "Which programmer?", "PersonName", {"Programmer": None})
        if "pizza" in text:
            return Reply("Fulfilled", "Pizza ordered.", "OrderPizza", {})
        self.misses += 1
        if self.misses >= 2:
            return Reply("Failed", "Bot gives up.")
        return Reply("ElicitIntent", "Say that again?")


class FakeBot:
    def __init__(self, names=("alan turing", "ada lovelace")):
        self.names, self.turns, self.session_attributes = set(names), [], []

    def new_session(self, attributes=None):
        self.session_attributes.append(attributes)
        return FakeSession(self)


# --------------------------------------------------------------------------- helpers


def call(flow, script=(), until=600, **leg_options):
    """Play one call; returns (caller, ivr, line, clock)."""
    clock = VirtualClock()
    line = Line(clock)
    caller = ScriptedCaller(clock, line, script)
    ivr = ConnectFlowLeg(clock, line, flow, **leg_options)
    line.connect(caller, ivr)
    clock.run(until=until)
    return caller, ivr, line, clock


def action(ident, kind, params=None, next_=None, conditions=(), errors=()):
    """A flow-language action; conditions are (operand, target) or (operator, operand, target)."""
    transitions = {}
    if next_:
        transitions["NextAction"] = next_
    if conditions:
        transitions["Conditions"] = [
            {"NextAction": c[-1], "Condition": {"Operator": c[0] if len(c) == 3 else "Equals",
                                                "Operands": [c[-2]]}} for c in conditions]
    if errors:
        transitions["Errors"] = [{"NextAction": target, "ErrorType": kind_} for kind_, target in errors]
    return {"Identifier": ident, "Type": kind, "Parameters": params or {}, "Transitions": transitions}


def say(ident, text, next_=None):
    return action(ident, "MessageParticipant", {"Text": text}, next_)


def flow_of(*actions, start=None):
    return parse_flow({"Version": "2019-10-30", "StartAction": start or actions[0]["Identifier"],
                       "Actions": list(actions)})


def module(ident, kind, params=(), branches=(), target=None):
    data = {"id": ident, "type": kind, "parameters": list(params), "branches": list(branches)}
    if target:
        data["target"] = target
    return data


def legacy_of(*modules, start=None):
    return parse_flow({"modules": list(modules), "start": start or modules[0]["id"], "version": "1"})


@pytest.fixture(scope="module")
def sample():
    return load_flow(SAMPLE)


@pytest.fixture(scope="module")
def sample_legacy():
    return load_flow(SAMPLE_LEGACY)


@pytest.fixture(params=["flow-language", "legacy"])
def either_sample(request, sample, sample_legacy):
    return sample if request.param == "flow-language" else sample_legacy


# --------------------------------------------------------------------------- the sample flow


def test_sample_folder_loads_the_single_top_level_file(sample, sample_legacy):
    assert sample.format == "flow-language" and sample.source.endswith("SalesIVR.json")
    assert sample_legacy.format == "legacy"
    assert sample.blocks["main-menu"].params["Text"] == PROMPT


def test_sample_press_1_then_a_name_reaches_the_lex_conclusion(either_sample):
    bot = FakeBot()
    caller, ivr, line, _ = call(either_sample, [("press 1", "press", "1"), (ASK, "say", "alan turing")],
                                lex_bot=bot)
    assert caller.texts == [PROMPT, ASK, "Great choice! alan turing is a legend. Goodbye."]
    assert ivr.outcome == "disconnected" and line.end_reason == "disconnected"
    assert ivr.attributes == {"department": "sales"}
    assert bot.turns == ["alan turing"]
    assert bot.session_attributes == [{"department": "sales"}]
    assert ivr.lex_intent == "PersonName" and ivr.lex_slots == {"Programmer": "alan turing"}
    assert ivr.voice == "Joanna"


def test_sample_press_2_in_hours_transfers_to_the_support_queue(either_sample):
    caller, ivr, line, _ = call(either_sample, [("press 1", "press", "2")], hours_open=True)
    assert caller.texts == [PROMPT, HOLD]
    assert ivr.outcome == "transferred to queue Support"
    assert line.end_reason == "transferred to queue Support" == caller.hangup_reason
    assert line.log[-1]["party"] == "ivr"


def test_sample_press_2_out_of_hours_says_closed(either_sample):
    caller, ivr, _, _ = call(either_sample, [("press 1", "press", "2")], hours_open=False)
    assert caller.texts == [PROMPT, CLOSED]
    assert ivr.outcome == "disconnected" and ivr.queue is None


def test_sample_silent_caller_gets_two_tries_then_goodbye(either_sample):
    caller, ivr, line, _ = call(either_sample)
    # the prompt ends at 4.8 s; 5 s of silence; "Sorry..." takes 2 s; and again; then "Goodbye."
    assert caller.heard == [(4.8, PROMPT), (11.8, SORRY), (16.6, PROMPT), (23.6, SORRY),
                            (24.0, "Goodbye.")]
    assert ivr.outcome == "disconnected" and line.ended_at == 24.0
    assert ("menu-attempts", "DoneLooping", "say-goodbye") in ivr.taken_branches


def test_sample_wrong_key_is_no_match_then_the_menu_again(either_sample):
    script = [("press 1", "press", "9"), ("press 1", "press", "1"), (ASK, "say", "ada lovelace")]
    caller, ivr, _, _ = call(either_sample, script, lex_bot=FakeBot())
    assert caller.texts == [PROMPT, SORRY, PROMPT, ASK, "Great choice! ada lovelace is a legend. Goodbye."]
    assert ("main-menu", "NoMatchingCondition", "say-sorry") in ivr.taken_branches
    assert ("main-menu", "InputTimeLimitExceeded", "say-sorry") not in ivr.taken_branches


def test_sample_lex_failure_takes_the_error_branch(either_sample):
    script = [("press 1", "press", "1"), (ASK, "say", "mumble"), ("again", "say", "mumble")]
    caller, ivr, _, _ = call(either_sample, script, lex_bot=FakeBot())
    assert caller.texts == [PROMPT, ASK, "Say that again?", "Bot gives up.", NOT_UNDERSTOOD]
    assert ("ask-programmer", "Error", "say-not-understood") in ivr.taken_branches


SCRIPTS = [
    [("press 1", "press", "1"), (ASK, "say", "alan turing")],
    [("press 1", "press", "1"), (ASK, "say", "mumble")],
    [("press 1", "press", "2")],
    [("press 1", "press", "7"), ("press 1", "press", "2")],
    [],
    [(2.0, "hangup", None)],
]


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("hours_open", [True, False])
def test_legacy_and_flow_language_behave_the_same(sample, sample_legacy, script, hours_open):
    runs = [call(flow, script, lex_bot=FakeBot(), hours_open=hours_open)
            for flow in (sample, sample_legacy)]
    (caller_a, ivr_a, line_a, _), (caller_b, ivr_b, line_b, _) = runs
    assert caller_a.heard == caller_b.heard
    assert line_a.log == line_b.log and len(line_a.log) >= 2     # who said what, when
    assert ivr_a.outcome == ivr_b.outcome
    assert ivr_a.visited_blocks == ivr_b.visited_blocks
    assert ivr_a.taken_branches == ivr_b.taken_branches


def test_both_formats_describe_the_same_graph(sample, sample_legacy):
    assert set(sample.block_ids) == set(sample_legacy.block_ids)
    assert sorted(sample.branches) == sorted(sample_legacy.branches)


def test_sample_with_the_real_lex_bot():
    lex = pytest.importorskip("app.simulator.lex")
    bot = lex.LexBot.load(ROOT / "aws-lex-bot")
    caller, ivr, _, _ = call(load_flow(SAMPLE), [("press 1", "press", "1"), (ASK, "say", "alan turing")],
                             lex_bot=bot)
    assert caller.texts[-1] == "Great choice! alan turing is a legend. Goodbye."
    assert ivr.outcome == "disconnected"


# --------------------------------------------------------------------------- coverage


def test_coverage_of_the_press_1_path(sample):
    _, ivr, _, _ = call(sample, [("press 1", "press", "1"), (ASK, "say", "alan turing")], lex_bot=FakeBot())
    assert ivr.visited_blocks == {"set-voice", "enable-logging", "menu-attempts", "main-menu",
                                  "set-department", "ask-programmer", "say-great-choice", "hang-up"}
    assert ivr.taken_branches == {
        ("set-voice", "Success", "enable-logging"), ("enable-logging", "Success", "menu-attempts"),
        ("menu-attempts", "ContinueLooping", "main-menu"),
        ("main-menu", "Condition:Equals 1", "set-department"),
        ("set-department", "Success", "ask-programmer"),
        ("ask-programmer", "intent:PersonName", "say-great-choice"),
        ("say-great-choice", "Success", "hang-up")}
    assert ivr.visited_blocks <= set(sample.block_ids)
    assert ivr.taken_branches <= set(sample.branches)


def test_the_sample_scenarios_cover_every_reachable_branch(sample):
    taken = set()
    for script in SCRIPTS:
        for hours_open in (True, False):
            taken |= call(sample, script, lex_bot=FakeBot(), hours_open=hours_open)[1].taken_branches
    unreachable = {("check-support-hours", "Error", "say-support-closed"),
                   ("set-support-queue", "Error", "hang-up"),
                   ("transfer-to-support", "Error", "hang-up"),
                   ("transfer-to-support", "QueueAtCapacity", "hang-up"),
                   ("main-menu", "Error", "say-sorry"),
                   ("ask-programmer", "NoMatchingCondition", "say-not-understood")}
    assert set(sample.branches) - taken == unreachable


def test_flow_lists_blocks_and_labelled_branches():
    flow = flow_of(
        action("menu", "GetParticipantInput", {"Text": "Pick"}, conditions=[("1", "one")],
               errors=[("InputTimeLimitExceeded", "bye"), ("NoMatchingCondition", "bye"),
                       ("NoMatchingError", "bye")]),
        say("one", "One", "bye"), action("bye", "DisconnectParticipant"))
    assert flow.block_ids == ["menu", "one", "bye"]
    assert set(flow.branches) == {("menu", "Condition:Equals 1", "one"),
                                  ("menu", "InputTimeLimitExceeded", "bye"),
                                  ("menu", "NoMatchingCondition", "bye"), ("menu", "Error", "bye"),
                                  ("one", "Success", "bye")}


# --------------------------------------------------------------------------- messages and values


def test_message_interpolates_attributes_external_and_stored_input():
    flow = flow_of(
        action("lambda", "InvokeLambdaFunction",
               {"LambdaFunctionARN": "arn:aws:lambda:us-east-1:1:function:lookup"}, "set"),
        action("set", "UpdateContactAttributes", {"Attributes": {"plan": "$.External.plan",
                                                                 "greeting": "Hi $.Attributes.name"}},
               "speak"),
        say("speak", "$.Attributes.greeting, your plan is $.Attributes.plan, code $.External.code. "
                     "$.Attributes.missing"),
    )
    caller, ivr, _, _ = call(flow, attributes={"name": "Ada"},
                             lambda_responses={"lookup": {"plan": "gold", "code": 42}})
    assert caller.texts == ["Hi Ada, your plan is gold, code 42."]
    assert ivr.attributes == {"name": "Ada", "plan": "gold", "greeting": "Hi Ada"}


def test_ssml_is_spoken_without_markup():
    flow = flow_of(action("m", "MessageParticipant",
                          {"SSML": "<speak>Thanks <break time='1s'/> for calling</speak>"}))
    caller, _, _, _ = call(flow)
    assert caller.texts[0].split() == ["Thanks", "for", "calling"]


def test_end_of_flow_disconnects():
    caller, ivr, line, _ = call(flow_of(say("only", "Bye now")))
    assert caller.texts == ["Bye now"]
    assert ivr.outcome == "disconnected" and line.ended_at == 0.8


def test_voice_and_logging_blocks_continue():
    flow = flow_of(action("v", "UpdateContactTextToSpeechVoice", {"TextToSpeechVoice": "Matthew"}, "l"),
                   action("l", "UpdateFlowLoggingBehavior", {"FlowLoggingBehavior": "Disabled"}, "r"),
                   action("r", "UpdateContactRecordingBehavior", {}, "m"), say("m", "Done"))
    caller, ivr, _, _ = call(flow)
    assert caller.texts == ["Done"]
    assert (ivr.voice, ivr.logging) == ("Matthew", "Disabled")


# --------------------------------------------------------------------------- digits


def menu_flow(params, conditions=(("1", "yes"),), extra=()):
    return flow_of(
        action("menu", "GetParticipantInput", {"Text": "Press 1 now please", **params},
               conditions=conditions,
               errors=[("InputTimeLimitExceeded", "slow"), ("NoMatchingCondition", "wrong")]),
        say("yes", "You entered $.StoredCustomerInput."), say("slow", "Too slow"), say("wrong", "Wrong key"),
        *extra)


def test_input_time_limit_is_read_from_a_string():
    caller, ivr, _, _ = call(menu_flow({"InputTimeLimitSeconds": "8"}))
    # prompt ends at 1.6 s, 8 s of silence, "Too slow" takes 0.8 s
    assert caller.heard == [(1.6, "Press 1 now please"), (10.4, "Too slow")]
    assert ("menu", "InputTimeLimitExceeded", "slow") in ivr.taken_branches


def test_a_digit_during_the_prompt_barges_in():
    caller, ivr, _, _ = call(menu_flow({}), [(0.5, "press", "1")])
    # the digit lands at 0.75 s, mid-prompt; the branch is taken when the prompt ends at 1.6 s
    assert caller.heard == [(1.6, "Press 1 now please"), (2.8, "You entered .")]
    assert ("menu", "Condition:Equals 1", "yes") in ivr.taken_branches


def test_single_digit_block_takes_only_the_first_digit():
    _, ivr, _, _ = call(menu_flow({}), [("now", "press", "12")])
    assert ("menu", "Condition:Equals 1", "yes") in ivr.taken_branches


def test_wrong_digit_is_no_matching_condition():
    caller, _, _, _ = call(menu_flow({}), [("now", "press", "5")])
    assert caller.texts == ["Press 1 now please", "Wrong key"]


@pytest.mark.parametrize("keys, heard_at, stored", [
    # the prompt ends at 1.6 s, each key takes 0.25 s, "You entered N." takes 1.2 s
    ("1234", 1.6 + 1.0 + 1.2, "1234"),  # four digits end the entry at once
    ("12#", 1.6 + 0.75 + 1.2, "12"),    # the terminator ends it
    ("12", 1.6 + 0.5 + 3 + 1.2, "12"),  # three seconds after the last digit
])
def test_multi_digit_entry_is_stored(keys, heard_at, stored):
    flow = menu_flow({"StoreInput": "True", "MaxDigits": "4"},
                     conditions=[("1234", "yes"), ("12", "yes")])
    caller, ivr, _, _ = call(flow, [("now", "press", keys)])
    assert caller.heard[-1] == (round(heard_at, 3), f"You entered {stored}.")
    assert ivr.stored_input == stored


def test_store_input_false_string_does_not_store():
    flow = menu_flow({"StoreInput": "False"})
    caller, ivr, _, _ = call(flow, [("now", "press", "1")])
    assert ivr.stored_input is None and caller.texts[-1] == "You entered ."


def test_maximum_length_validation_sets_the_digit_count():
    flow = menu_flow({"StoreInput": "True", "InputValidation": {"CustomValidation": {"MaximumLength": "2"}}},
                     conditions=[("42", "yes")])
    caller, ivr, _, _ = call(flow, [("now", "press", "42")])
    assert ivr.stored_input == "42" and caller.heard[-1] == (3.3, "You entered 42.")


# --------------------------------------------------------------------------- decisions


@pytest.mark.parametrize("operator, operand, value, expected", [
    ("Equals", "8", "8", True), ("Equals", "8", "8.0", True), ("Equals", "sales", "Sales", False),
    ("NumberGreaterThan", "8", "10", True), ("NumberGreaterThan", "8", "8", False),
    ("NumberGreaterOrEqualTo", "8", "8", True), ("NumberLessThan", "8", "10", False),
    ("NumberLessOrEqualTo", "2.5", "2.5", True), ("NumberLessThan", "8", "abc", False),
    ("TextContains", "lov", "ada lovelace", True), ("TextStartsWith", "ada", "ada lovelace", True),
    ("TextStartsWith", "love", "ada lovelace", False), ("TextEndsWith", "lace", "ada lovelace", True),
    ("Equals", "x", None, False),
])
def test_condition_operators(operator, operand, value, expected):
    assert Condition(operator, (operand,), "t", "l").matches(value) is expected


@pytest.mark.parametrize("operator, expected", [
    ("NumberGreaterThan", "big"), ("NumberLessOrEqualTo", "small"), ("Contains", "big"),
    ("StartsWith", "small"),
])
def test_compare_routes_on_a_numeric_string_attribute(operator, expected):
    operand = {"NumberGreaterThan": "8", "NumberLessOrEqualTo": "8", "Contains": "0",
               "StartsWith": "9"}[operator]
    flow = flow_of(action("cmp", "Compare", {"ComparisonValue": "$.Attributes.count"},
                          conditions=[(operator, operand, "big")], errors=[("NoMatchingCondition", "small")]),
                   say("big", "Big"), say("small", "Small"))
    caller, _, _, _ = call(flow, attributes={"count": "10"})
    assert caller.texts == [expected.capitalize()]


def test_loop_counts_then_completes():
    flow = flow_of(action("loop", "Loop", {"LoopCount": "3"},
                          conditions=[("ContinueLooping", "tick"), ("DoneLooping", "done")]),
                   say("tick", "Tick", "loop"), say("done", "Done"))
    caller, ivr, _, _ = call(flow)
    assert caller.texts == ["Tick", "Tick", "Tick", "Done"]
    assert ("loop", "DoneLooping", "done") in ivr.taken_branches


def test_loop_starts_counting_again_after_it_completes():
    flow = flow_of(action("inner", "Loop", {"LoopCount": "1"},
                          conditions=[("ContinueLooping", "tick"), ("DoneLooping", "done")]),
                   say("tick", "Tick", "inner"), say("done", "Done", "outer"),
                   action("outer", "Loop", {"LoopCount": "1"},
                          conditions=[("ContinueLooping", "inner"), ("DoneLooping", "end")]),
                   action("end", "DisconnectParticipant"))
    assert call(flow)[0].texts == ["Tick", "Done", "Tick", "Done"]


def test_check_hours_can_ask_a_callable_with_the_hours_id():
    asked = []
    flow = flow_of(action("hours", "CheckHoursOfOperation", {"HoursOfOperationId": "weekend"},
                          conditions=[("True", "open"), ("False", "shut")]),
                   say("open", "Open"), say("shut", "Shut"))
    caller, _, _, _ = call(flow, hours_open=lambda hours: asked.append(hours) or False)
    assert caller.texts == ["Shut"] and asked == ["weekend"]


def test_lambda_by_arn_callable_and_failure():
    def lookup(params):
        return {"tier": params["who"].upper()}

    def broken(params):
        raise RuntimeError("boom")

    def flow(arn):
        return flow_of(action("fn", "InvokeLambdaFunction",
                              {"LambdaFunctionARN": arn, "InvocationTimeLimitSeconds": "3",
                               "LambdaFunctionParameters": {"who": "$.Attributes.who"}},
                              "ok", errors=[("NoMatchingError", "bad")]),
                       say("ok", "Tier $.External.tier"), say("bad", "Lambda failed"))
    responses = {"arn:aws:lambda:us-east-1:1:function:lookup": lookup, "broken": broken}
    attrs = {"who": "gold"}
    assert call(flow("arn:aws:lambda:us-east-1:1:function:lookup"), lambda_responses=responses,
                attributes=attrs)[0].texts == ["Tier GOLD"]
    assert call(flow("arn:aws:lambda:us-east-1:1:function:broken:live"), lambda_responses=responses,
                attributes=attrs)[0].texts == ["Lambda failed"]
    assert call(flow("arn:aws:lambda:us-east-1:1:function:unknown"), lambda_responses=responses,
                attributes=attrs)[0].texts == ["Lambda failed"]


def test_queue_name_comes_from_the_arn_without_metadata():
    flow = flow_of(action("q", "UpdateContactTargetQueue",
                          {"QueueId": "arn:aws:connect:us-east-1:1:instance/abc/queue/BillingQueue"}, "t"),
                   action("t", "TransferContactToQueue", {}, errors=[("QueueAtCapacity", "full")]),
                   say("full", "Full"))
    caller, ivr, line, _ = call(flow)
    assert ivr.outcome == "transferred to queue BillingQueue" and caller.texts == []
    assert line.end_reason == "transferred to queue BillingQueue"


def test_transfer_without_a_queue_takes_the_error_branch():
    flow = flow_of(action("t", "TransferContactToQueue", {}, errors=[("NoMatchingError", "oops")]),
                   say("oops", "No queue"))
    caller, ivr, _, _ = call(flow)
    assert caller.texts == ["No queue"] and ivr.outcome == "disconnected"


def test_an_error_with_no_branch_ends_the_call_with_an_error_outcome():
    caller, ivr, line, _ = call(flow_of(action("t", "TransferContactToQueue", {})))
    assert ivr.outcome.startswith("error: block 't' (TransferContactToQueue)")
    assert line.closed and line.end_reason == ivr.outcome


# --------------------------------------------------------------------------- Lex


def lex_flow(params=None, conditions=(("PersonName", "great"),), errors=None):
    errors = errors if errors is not None else [("NoMatchingCondition", "other"),
                                                ("InputTimeLimitExceeded", "silent"),
                                                ("NoMatchingError", "failed")]
    return flow_of(
        action("lex", "ConnectParticipantWithLexBot",
               {"Text": "Who is your favorite programmer?", "LexBot": {"Name": "FavoriteProgrammer"},
                **(params or {})}, "next", conditions=conditions, errors=errors),
        say("great", "Great $.Lex.Slots.Programmer"), say("other", "Other $.Lex.IntentName"),
        say("silent", "No answer"), say("failed", "Failed"), say("next", "Next"))


def test_lex_elicits_a_slot_over_several_turns():
    bot = FakeBot()
    script = [(ASK, "say", "i like someone"), ("which", "say", "ada lovelace")]
    caller, _, _, _ = call(lex_flow(), script, lex_bot=bot)
    assert caller.texts == [ASK, "Which programmer?", "Great ada lovelace"]
    assert bot.turns == ["i like someone", "ada lovelace"]


def test_lex_no_input_is_a_turn_after_the_start_timeout():
    bot = FakeBot()
    caller, ivr, _, _ = call(lex_flow(), lex_bot=bot)
    # prompt ends 2.0; silence 5 s -> "Say that again?" (1.2 s); silence 5 s -> gives up (1.2 s)
    assert caller.heard == [(2.0, ASK), (8.2, "Say that again?"), (14.4, "Bot gives up."),
                            (15.2, "No answer")]
    assert bot.turns == [None, None]
    assert ("lex", "InputTimeLimitExceeded", "silent") in ivr.taken_branches


def test_lex_start_timeout_from_session_attributes():
    flow = lex_flow({"LexSessionAttributes": {"x-amz-lex:audio:start-timeout-ms": "2000"}})
    caller, _, _, _ = call(flow, lex_bot=FakeBot())
    assert caller.heard[1] == (5.2, "Say that again?")


def test_lex_waits_for_speech_that_started_before_the_timeout():
    bot = FakeBot()
    # the start timeout would fire at 7.0 s; the caller starts at 6.5 s and ends at 8.9 s
    caller, _, _, _ = call(lex_flow(), [(6.5, "say", "i like someone really a lot")], lex_bot=bot)
    assert bot.turns[0] == "i like someone really a lot"
    assert caller.heard[1] == (9.7, "Which programmer?")


def test_lex_other_intent_speaks_the_conclusion_then_no_matching_condition():
    caller, ivr, _, _ = call(lex_flow(), [(ASK, "say", "pizza please")], lex_bot=FakeBot())
    assert caller.texts == [ASK, "Pizza ordered.", "Other OrderPizza"]
    assert ("lex", "NoMatchingCondition", "other") in ivr.taken_branches


def test_lex_failure_after_speech_is_no_matching_error():
    script = [(ASK, "say", "hmm"), ("again", "say", "hmm")]
    caller, ivr, _, _ = call(lex_flow(), script, lex_bot=FakeBot())
    assert caller.texts[-1] == "Failed" and ("lex", "Error", "failed") in ivr.taken_branches


def test_lex_without_conditions_takes_next_action():
    flow = lex_flow(conditions=(), errors=[])
    caller, _, _, _ = call(flow, [(ASK, "say", "alan turing")], lex_bot=FakeBot())
    assert caller.texts == [ASK, "Next"]


def test_lex_speech_during_the_prompt_is_answered_when_it_ends():
    caller, _, _, _ = call(lex_flow(), [(0.2, "say", "alan turing")], lex_bot=FakeBot())
    # the caller finishes at 1.0 s, mid-prompt; the bot is asked when the prompt ends at 2.0 s
    assert caller.heard[-2:] == [(2.0, ASK), (3.2, "Great alan turing")]


def test_lex_bots_by_name_and_missing_bot():
    flow = lex_flow()
    assert call(flow, [(ASK, "say", "alan turing")],
                lex_bot={"Other": FakeBot(), "FavoriteProgrammer": FakeBot()})[0].texts[-1] == \
        "Great alan turing"
    caller, ivr, _, _ = call(flow, lex_bot={"Other": FakeBot(), "Another": FakeBot()})
    assert caller.texts == ["Failed"] and ("lex", "Error", "failed") in ivr.taken_branches


def test_no_bot_at_all_ends_the_call_saying_so_and_is_refused_before_a_call():
    caller, ivr, _, _ = call(lex_flow(), lex_bot=None)
    assert caller.texts == [] and "no Lex bot" in ivr.outcome and "FavoriteProgrammer" in ivr.outcome
    assert not any(label == "Error" for _, label, _ in ivr.taken_branches)
    error = missing_bot_error(lex_flow(), None)
    assert "block 'lex'" in str(error) and "--lex-bot" in str(error)
    assert missing_bot_error(lex_flow(), FakeBot()) is None
    assert missing_bot_error(flow_of(say("a", "Hi")), None) is None


def test_get_participant_input_with_lex_v2_uses_the_bot():
    flow = flow_of(action("in", "GetParticipantInput",
                          {"Text": "Name?",
                           "LexV2Bot": {"AliasArn": "arn:aws:lex:us-east-1:1:bot-alias/B/A"}},
                          conditions=[("PersonName", "ok")]), say("ok", "Ok"))
    bot = FakeBot()
    caller, _, _, _ = call(flow, [("name", "say", "alan turing")], lex_bot=bot)
    assert caller.texts == ["Name?", "Ok"] and bot.turns == ["alan turing"]
    assert flow.blocks["in"].is_lex


# --------------------------------------------------------------------------- ends of calls


def test_caller_hangup_stops_the_flow_and_its_timers():
    caller, ivr, line, clock = call(menu_flow({"InputTimeLimitSeconds": "30"}), [(0.5, "hangup", None)])
    assert ivr.outcome == "caller hung up" and line.ended_at == 0.5
    assert caller.texts == [] and clock.pending() == 0
    assert [e["kind"] for e in line.log if e["party"] == "ivr"] == ["say"]


def test_network_hangup_is_not_reported_as_the_caller():
    flow = menu_flow({"InputTimeLimitSeconds": "30"})
    clock = VirtualClock()
    line = Line(clock)
    ivr = ConnectFlowLeg(clock, line, flow)
    line.connect(ScriptedCaller(clock, line), ivr)
    clock.call_at(3, line.hangup, None, "time limit")
    clock.run()
    assert ivr.outcome == "call ended: time limit"


def test_a_flow_that_loops_forever_stops_at_the_block_limit():
    flow = flow_of(action("a", "UpdateContactAttributes", {"Attributes": {"x": "1"}}, "b"),
                   action("b", "Compare", {"ComparisonValue": "$.Attributes.x"},
                          conditions=[("1", "a")]))
    caller, ivr, line, clock = call(flow, max_blocks=50)
    assert ivr.outcome == "block limit reached" == line.end_reason
    assert ivr.blocks_run == 50 and clock.now == 0


def test_the_default_block_limit_needs_no_deep_recursion():
    flow = flow_of(action("a", "Compare", {"ComparisonValue": "x"}, conditions=[("x", "a")]))
    _, ivr, _, _ = call(flow)
    assert ivr.outcome == "block limit reached" and ivr.blocks_run == 1000


def test_a_speaking_loop_stops_at_the_block_limit_too():
    caller, ivr, _, _ = call(flow_of(say("a", "Again", "a")), max_blocks=5)
    assert caller.texts == ["Again"] * 5 and ivr.outcome == "block limit reached"


def test_every_supported_type_has_a_handler():
    assert set(connect_blocks.HANDLERS) == set(SUPPORTED_TYPES)
    assert all(callable(handler) for handler in connect_blocks.HANDLERS.values())


# --------------------------------------------------------------------------- legacy specifics


SUCCESS_TO_BYE = {"condition": "Success", "transition": "bye"}


def test_legacy_blocks_translate_to_the_same_behaviour():
    flow = legacy_of(
        module("lambda", "InvokeExternalResource",
               [{"name": "FunctionArn", "value": "arn:aws:lambda:eu-west-2:1:function:count"},
                {"name": "TimeLimit", "value": "3"},
                {"name": "Parameter", "key": "who", "value": "name", "namespace": "User Defined"}],
               [{"condition": "Success", "transition": "set"}, {"condition": "Error", "transition": "bad"}],
               target="Lambda"),
        module("set", "SetAttributes",
               [{"name": "Attribute", "key": "tries", "value": "count", "namespace": "External"},
                {"name": "Attribute", "key": "plan", "value": "gold", "namespace": None}],
               [{"condition": "Success", "transition": "check"}]),
        module("check", "CheckAttribute",
               [{"name": "Attribute", "value": "tries"}, {"name": "Namespace", "value": "User Defined"}],
               [{"condition": "Evaluate", "conditionType": "GreaterThan", "conditionValue": "8",
                 "transition": "many"},
                {"condition": "NoMatch", "transition": "few"}]),
        module("many", "PlayPrompt", [{"name": "Text", "value": "<speak>$.Attributes.tries tries</speak>"},
                                      {"name": "TextToSpeechType", "value": "ssml"}],
               [SUCCESS_TO_BYE]),
        module("few", "PlayPrompt", [{"name": "Text", "value": "Few"}], [SUCCESS_TO_BYE]),
        module("bad", "PlayPrompt", [{"name": "Text", "value": "Bad"}], [SUCCESS_TO_BYE]),
        module("bye", "Disconnect"),
    )
    seen = []
    caller, ivr, _, _ = call(flow, attributes={"name": "ada"},
                             lambda_responses={"count": lambda p: seen.append(p) or {"count": "10"}})
    assert seen == [{"who": "ada"}]
    assert caller.texts == ["10 tries"]
    assert ivr.attributes == {"name": "ada", "tries": "10", "plan": "gold"}
    assert ("check", "Condition:NumberGreaterThan 8", "many") in ivr.taken_branches
    assert flow.blocks["many"].params == {"SSML": "<speak>$.Attributes.tries tries</speak>"}


def test_legacy_branch_names_become_flow_language_labels():
    flow = legacy_of(
        module("in", "GetUserInput",
               [{"name": "Text", "value": "Pick"}, {"name": "Timeout", "value": "8"},
                {"name": "MaxDigits", "value": "1"}],
               [{"condition": "Evaluate", "conditionType": "Equals", "conditionValue": "1",
                 "transition": "end"},
                {"condition": "Timeout", "transition": "end"},
                {"condition": "NoMatch", "transition": "end"},
                {"condition": "Error", "transition": "end"}], target="Digits"),
        module("store", "StoreUserInput",
               [{"name": "Text", "value": "Code"}, {"name": "MaxDigits", "value": "4"}],
               [{"condition": "Success", "transition": "end"},
                {"condition": "Error", "transition": "end"}]),
        module("end", "Disconnect"))
    assert set(flow.branches) == {("in", "Condition:Equals 1", "end"),
                                  ("in", "InputTimeLimitExceeded", "end"),
                                  ("in", "NoMatchingCondition", "end"), ("in", "Error", "end"),
                                  ("store", "Success", "end"), ("store", "Error", "end")}
    assert flow.blocks["in"].params["InputTimeLimitSeconds"] == "8"
    assert flow.blocks["store"].params["StoreInput"] == "True"


def test_legacy_store_user_input_collects_digits():
    flow = legacy_of(
        module("store", "StoreUserInput",
               [{"name": "Text", "value": "Code"}, {"name": "MaxDigits", "value": "3"},
                {"name": "Timeout", "value": "5"}],
               [{"condition": "Success", "transition": "say"}]),
        module("say", "PlayPrompt", [{"name": "Text", "value": "Got $.StoredCustomerInput"}]))
    caller, _, _, _ = call(flow, [("code", "press", "987")])
    assert caller.texts == ["Code", "Got 987"]


# --------------------------------------------------------------------------- loading errors


def test_dangling_next_action_names_block_branch_and_target():
    with pytest.raises(FlowError) as err:
        flow_of(say("hello", "Hi", "nowhere"))
    message = str(err.value)
    assert "'hello'" in message and "'Success'" in message and "'nowhere'" in message


def test_dangling_condition_target_is_reported():
    with pytest.raises(FlowError, match=r"block 'menu' branch 'Condition:Equals 2' goes to 'ghost'"):
        flow_of(action("menu", "GetParticipantInput", {"Text": "x"}, conditions=[("2", "ghost")]))


def test_dangling_legacy_transition_is_reported():
    with pytest.raises(FlowError, match=r"block 'a' branch 'InputTimeLimitExceeded' goes to 'b'"):
        legacy_of(module("a", "GetUserInput", [{"name": "Text", "value": "x"}],
                         [{"condition": "Timeout", "transition": "b"}]))


@pytest.mark.parametrize("make", [
    lambda: flow_of(action("weird", "SendCarrierPigeon", {})),
    lambda: legacy_of(module("weird", "SendCarrierPigeon")),
])
def test_unknown_block_type_loads_and_ends_the_call_naming_type_and_id(make):
    flow = make()
    assert [block.id for block in flow.unmodelled] == ["weird"]
    caller, ivr, line, _ = call(flow)
    assert ivr.outcome == "unmodelled block: type 'SendCarrierPigeon' (id 'weird') is not simulated"
    assert line.end_reason == ivr.outcome and ivr.visited_blocks == {"weird"}


def test_an_unknown_operator_loads_and_ends_the_call_when_reached():
    flow = flow_of(action("c", "Compare", {"ComparisonValue": "1"}, conditions=[("Roughly", "1", "c")]))
    assert flow.blocks["c"].unmodelled == "condition operator 'Roughly' in block 'c' (Compare) is not simulated"
    assert call(flow)[1].outcome == "unmodelled block: " + flow.blocks["c"].unmodelled


def test_an_unmodelled_block_that_is_never_reached_costs_nothing():
    flow = flow_of(say("a", "Hello", "b"), action("b", "DisconnectParticipant"),
                   action("never", "SendCarrierPigeon", {}, "b"))
    caller, ivr, _, _ = call(flow)
    assert caller.texts == ["Hello"] and ivr.outcome == "disconnected"


@pytest.mark.parametrize("data, pattern", [
    ({"Version": "2019-10-30", "Actions": [say("a", "Hi")]}, "no start block"),
    ({"Version": "2019-10-30", "StartAction": "zzz", "Actions": [say("a", "Hi")]}, "start block 'zzz'"),
    ({"modules": [module("a", "Disconnect")], "start": "b"}, "start block 'b'"),
    ({"something": "else"}, "not an Amazon Connect flow export"),
    ([1, 2], "JSON object"),
    ({"StartAction": "a", "Actions": [say("a", "x"), say("a", "y")]}, "two blocks have the identifier 'a'"),
    ({"StartAction": "l", "Actions": [action("l", "Loop", {"LoopCount": "many"})]},
     r"block 'l' \(Loop\) parameter LoopCount is 'many', not a number"),
    ({"modules": [module("a", "Disconnect", branches=[{"condition": "Sometimes", "transition": "b"}])],
      "start": "a"}, "branch 'Condition:Equals Sometimes' goes to 'b'"),
])
def test_invalid_flows_are_rejected_at_load(data, pattern):
    with pytest.raises(FlowError, match=pattern):
        parse_flow(data)


def menu_with(**fields):
    return {"StartAction": "main-menu", "Actions": [
        {"Identifier": "main-menu", "Type": "GetParticipantInput", "Parameters": {"Text": "Pick"}, **fields}]}


@pytest.mark.parametrize("data, message", [
    (menu_with(Transitions=[]),
     'block \'main-menu\' (GetParticipantInput): "Transitions": expected an object, got a list'),
    (menu_with(Parameters="x"), '(GetParticipantInput): "Parameters": expected an object, got a string'),
    (menu_with(Identifier=7), 'Actions[0]: "Identifier": expected a string, got a number'),
    (menu_with(Type=None), "block 'main-menu': \"Type\": expected a string, got null"),
    (menu_with(Transitions={"NextAction": ["x"]}), '"Transitions.NextAction": expected a string, got a list'),
    (menu_with(Transitions={"Conditions": {}}), '"Transitions.Conditions": expected a list, got an object'),
    (menu_with(Transitions={"Conditions": [{"Condition": {"Operator": ["Equals"]}}]}),
     '"Transitions.Conditions[0].Condition.Operator": expected a string, got a list'),
    (menu_with(Transitions={"Conditions": [{"Condition": {"Operator": "Equals", "Operands": "12"}}]}),
     '"Transitions.Conditions[0].Condition.Operands": expected a list, got a string'),
    (menu_with(Transitions={"Errors": [{"ErrorType": {}, "NextAction": "main-menu"}]}),
     '"Transitions.Errors[0].ErrorType": expected a string, got an object'),
    (menu_with(Transitions={"Errors": [{"ErrorType": "NoMatchingError", "NextAction": 1}]}),
     '"Transitions.Errors[0].NextAction": expected a string, got a number'),
    ({"StartAction": True, "Actions": []}, '"StartAction": expected a string, got a boolean'),
    (menu_with(Parameters={"DTMFConfiguration": "#"}), '"DTMFConfiguration": expected an object, got a string'),
    (menu_with(Parameters={"InputValidation": {"CustomValidation": 4}}),
     '"InputValidation.CustomValidation": expected an object, got a number'),
    (menu_with(Parameters={"LexV2Bot": {"AliasArn": ["arn"]}}),
     '"LexV2Bot.AliasArn": expected a string, got a list'),
    ({"StartAction": "a", "Actions": [action("a", "UpdateContactAttributes", {"Attributes": ["n"]})]},
     "block 'a' (UpdateContactAttributes): \"Attributes\": expected an object, got a list"),
    ({"StartAction": "a", "Actions": [action("a", "InvokeLambdaFunction", {"LambdaFunctionParameters": 1})]},
     '"LambdaFunctionParameters": expected an object, got a number'),
    ({"StartAction": "a", "Actions": [action("a", "ConnectParticipantWithLexBot", {"LexSessionAttributes": []})]},
     '"LexSessionAttributes": expected an object, got a list'),
    ({"start": "a", "modules": [module("a", "PlayPrompt", branches=[{"condition": ["Success"]}])]},
     "block 'a' (PlayPrompt): \"branches[0].condition\": expected a string, got a list"),
    ({"start": "a", "modules": [module("a", "PlayPrompt", params=[None])]},
     '"parameters[0]": expected an object, got null'),
    ({"start": "a", "modules": [module("a", "PlayPrompt", params=[{"name": ["Text"], "value": "Hi"}])]},
     '"parameters[0].name": expected a string, got a list'),
    ({"start": "a", "modules": [module("a", "SetAttributes", params=[
        {"name": "Attribute", "key": "n", "value": {}, "namespace": "System"}])]},
     '"parameters[0].value": expected a string, got an object'),
    ({"start": "a", "modules": [module("a", ["PlayPrompt"])]},
     "block 'a': \"type\": expected a string, got a list"),
    ({"start": 1, "modules": [module("a", "Disconnect")]}, '"start": expected a string, got a number'),
    ({"StartAction": "l", "Actions": [action("l", "Loop", {"LoopCount": "nan"})]},
     "parameter LoopCount is 'nan', not a number"),
])
def test_parts_of_the_wrong_json_type_are_named_in_the_error(data, message):
    with pytest.raises(FlowError) as err:
        parse_flow(data, source="flow.json")
    assert str(err.value).startswith("flow.json: ") and message in str(err.value)


def test_non_object_metadata_is_ignored_and_queue_names_still_read():
    queue = action("q", "UpdateContactTargetQueue", {"QueueId": "arn:aws:connect:x:queue/abc"})
    assert parse_flow({"StartAction": "q", "Actions": [queue], "Metadata": ["x"]}).blocks["q"].params == \
        {"QueueId": "arn:aws:connect:x:queue/abc"}
    metadata = {"ActionMetadata": {"q": {"queue": {"text": "Sales"}}, "r": "x"}}
    flow = parse_flow({"StartAction": "q", "Actions": [queue], "Metadata": metadata})
    assert flow.blocks["q"].params["QueueName"] == "Sales"


def test_numbers_must_be_finite():
    assert as_number("nan") is None and as_number("1e400") is None and as_number(float("inf")) is None
    assert as_number(10 ** 400) is None and as_number(2.5) == 2.5 and as_number(" 7 ") == 7


def test_dynamic_loop_count_is_allowed_at_load():
    flow = flow_of(action("l", "Loop", {"LoopCount": "$.Attributes.tries"},
                          conditions=[("ContinueLooping", "tick"), ("DoneLooping", "done")]),
                   say("tick", "Tick", "l"), say("done", "Done"))
    assert call(flow, attributes={"tries": "2"})[0].texts == ["Tick", "Tick", "Done"]


def test_folder_with_several_flows_lists_them(tmp_path):
    for name in ("b.json", "a.json"):
        (tmp_path / name).write_text(json.dumps({"StartAction": "x", "Actions": [say("x", "Hi")]}))
    with pytest.raises(FlowError, match="expected exactly one flow file .* found a.json, b.json"):
        load_flow(tmp_path)


def test_folder_ignores_subfolders_and_reports_an_empty_one(tmp_path):
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.json").write_text("{}")
    with pytest.raises(FlowError, match="found none"):
        load_flow(tmp_path)
    (tmp_path / "main.json").write_text(json.dumps({"StartAction": "x", "Actions": [say("x", "Hi")]}))
    assert load_flow(tmp_path).block_ids == ["x"]


def test_unreadable_files_are_flow_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"StartAction": ')
    with pytest.raises(FlowError, match=r"bad.json: not valid JSON \(line 1"):
        load_flow(bad)
    with pytest.raises(FlowError, match="no such flow file"):
        load_flow(tmp_path / "missing.json")


def test_export_strings_are_understood():
    assert as_number("8") == 8 and as_number("2.5") == 2.5 and as_number("eight") is None
    assert as_number(True) is None and as_number(3) == 3
    assert as_bool("True") is True and as_bool("False") is False and as_bool("false") is False
    assert as_bool(None) is False and as_bool(None, default=True) is True and as_bool(True) is True


def test_as_number_reads_what_float_reads():
    """as_number skips float() for text without a decimal digit: the same answers as parsing."""
    values = [None, "", " ", "None", "nan", "-inf", "Infinity", "1_000", "\u0661\u0662", "\u00b2", " 5 ",
              "1e3", "x1", "0x10", "-0", ".5", "5.", "ContinueLooping", "True", 7, 2.5, "\u0967", "1e400"]
    for value in values:
        parsed = parsed_number(value)
        assert as_number(value) == parsed and type(as_number(value)) is type(parsed), value


def test_a_document_that_is_no_flow_is_told_apart_from_a_broken_flow():
    """Folder scans (`flows`, the flow library, the corpus bench) skip NotAFlowExport and
    report every other FlowError."""
    from app.errors import NotAFlowExport
    for not_a_flow in ([], {"something": "else"}):
        with pytest.raises(NotAFlowExport):
            parse_flow(not_a_flow)
    with pytest.raises(FlowError) as broken:
        parse_flow({"Version": "2019-10-30", "StartAction": "gone", "Actions": []})
    assert not isinstance(broken.value, NotAFlowExport)
