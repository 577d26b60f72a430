"""One test (or a few) per Connect block type beyond the sample flow's, as Connect documents it
for a voice contact: what the caller hears, which branch it takes, what it sets.

Times follow the line's pacing (0.4 s a word); see tests/test_connect.py for the helpers.
"""
import json

import pytest

from app.simulator.connect_blocks.routing import percent_roll, staffing_counts
from app.simulator.connect_contact import ContactData, contact_id_for
from app.simulator.connect_flow import load_flow, parse_flow
from app.simulator.connect_library import FlowLibrary, load_target
from app.simulator.ssml import spoken_seconds
from tests.test_connect import FakeBot, action, call, flow_of, legacy_of, module, say

SUCCESS_TO_BYE = {"condition": "Success", "transition": "bye"}


def write_flow(path, *actions, start=None, **wrapper):
    data = {"Version": "2019-10-30", "StartAction": start or actions[0]["Identifier"], "Actions": list(actions)}
    if wrapper:
        data = {**wrapper, "Content": json.dumps(data)}
    path.write_text(json.dumps(data))
    return path


# --------------------------------------------------------------------------- prompts


def test_loop_prompts_repeat_until_the_interrupt_then_messages_interrupted():
    flow = flow_of(action("loop", "MessageParticipantIteratively",
                          {"Messages": [{"Text": "Please hold"}, {"Text": "Still here"}],
                           "InterruptFrequencySeconds": "3"},
                          conditions=[("MessagesInterrupted", "after")]),
                   say("after", "Thanks for waiting"))
    caller, ivr, _, _ = call(flow)
    # the message playing at the interrupt is heard to its end (the line cannot cut speech short)
    assert caller.heard == [(0.8, "Please hold"), (1.6, "Still here"), (2.4, "Please hold"),
                            (3.2, "Still here"), (4.2, "Thanks for waiting")]
    assert ("loop", "MessagesInterrupted", "after") in ivr.taken_branches


def test_loop_prompts_without_interrupt_play_until_the_caller_hangs_up():
    flow = flow_of(action("loop", "MessageParticipantIteratively", {"Messages": [{"Text": "Hold on"}]}))
    caller, ivr, _, _ = call(flow, [(5.0, "hangup", None)])
    assert caller.texts == ["Hold on"] * 6 and ivr.outcome == "caller hung up"


def test_audio_messages_in_a_loop_take_time():
    flow = flow_of(action("loop", "MessageParticipantIteratively",
                          {"Messages": [{"PromptId": "arn:prompt/music"}], "InterruptFrequencySeconds": "12"},
                          conditions=[("MessagesInterrupted", "after")]), say("after", "Agent now"))
    caller, _, _, _ = call(flow)
    assert caller.heard == [(12.8, "Agent now")]


def test_legacy_loop_prompts_take_their_timeout_branch():
    flow = legacy_of(module("loop", "LoopPrompts", [{"name": "Text", "value": "Hold please"},
                                                    {"name": "InterruptFrequencySeconds", "value": "2"}],
                            [{"condition": "Timeout", "transition": "bye"}]),
                     module("bye", "PlayPrompt", [{"name": "Text", "value": "Bye"}]))
    assert flow.blocks["loop"].type == "MessageParticipantIteratively"
    caller, _, _, _ = call(flow)
    # interrupted at 2.0 s; the call ends with "Bye" before the third "Hold please" does
    assert caller.heard == [(0.8, "Hold please"), (1.6, "Hold please"), (2.4, "Bye")]


def test_ssml_breaks_and_slow_prosody_take_time():
    assert spoken_seconds('<speak>One <break time="2s"/> two</speak>') == pytest.approx(2.8)
    assert spoken_seconds('<speak><break time="800ms"/></speak>') == pytest.approx(0.8)
    assert spoken_seconds('<speak><prosody rate="x-slow">one two</prosody> three</speak>') == pytest.approx(2.0)
    assert spoken_seconds('<speak><prosody rate="50%">one</prosody></speak>') == pytest.approx(0.8)
    assert spoken_seconds('<speak>a<break time="60s"/></speak>') == pytest.approx(10.4)
    flow = flow_of(action("m", "MessageParticipant", {"SSML": '<speak>Hello <break time="3s"/> there</speak>'},
                          "n"), say("n", "Next"))
    caller, _, _, _ = call(flow)
    assert caller.heard == [(3.8, "Hello there"), (4.2, "Next")]


def test_remembered_prompt_lengths_are_the_plain_computation():
    from app.simulator.connect_leg import remembered_seconds
    texts = ['<speak>One <break time="2s"/> two</speak>', "Press 1 for sales.", "", "  ",
             '<speak><prosody rate="x-slow">one two</prosody> three</speak>', "Press 1 for sales."]
    for text in texts * 2:
        assert remembered_seconds(text) == spoken_seconds(text)


# --------------------------------------------------------------------------- attributes and settings


def test_update_contact_data_sets_the_language_read_by_reference():
    flow = flow_of(action("d", "UpdateContactData", {"LanguageCode": "en-AU", "Name": "Claim"}, "s"),
                   say("s", "Language $.LanguageCode for $.Name"))
    assert call(flow)[0].texts == ["Language en-AU for Claim"]


def test_update_flow_attributes_are_read_as_flow_attributes():
    flow = flow_of(action("f", "UpdateFlowAttributes",
                          {"FlowAttributes": {"greeting": {"Value": "Hi $.Attributes.name"}}}, "s"),
                   say("s", "$.FlowAttributes.greeting"))
    assert call(flow, attributes={"name": "Ada"})[0].texts == ["Hi Ada"]


@pytest.mark.parametrize("kind, params", [
    ("UpdateContactEventHooks", {"EventHooks": {"CustomerQueue": "arn:aws:connect:x:contact-flow/q"}}),
    ("UpdateContactRecordingBehavior", {"RecordingBehavior": {"RecordedParticipants": ["Customer"]}}),
    ("UpdateContactRoutingBehavior", {"QueuePriority": "1"}),
    ("UpdateContactRoutingCriteria", {"RoutingCriteria": {"Steps": [{"Expression": {"AttributeCondition": {
        "Name": "connect:Agent", "Value": "$.Attributes.agent", "ComparisonOperator": "Match"}}}]}}),
    ("UpdateRoutingCriteria", {"RoutingCriteria": {"Steps": []}}),
    ("UpdateContactCallbackNumber", {"CallbackNumber": "$.CustomerEndpoint.Address"}),
    ("UpdateContactMediaStreamingBehavior", {"MediaStreamingState": "Enabled"}),
    ("StartVoiceIdStream", {}),
])
def test_settings_blocks_are_remembered_and_take_success(kind, params):
    caller, ivr, _, _ = call(flow_of(action("x", kind, params, "s", errors=[("NoMatchingError", "e")]),
                                     say("s", "Set"), say("e", "Error")))
    assert caller.texts == ["Set"] and ("x", "Success", "s") in ivr.taken_branches
    assert set(ivr.settings[kind]) == set(params)
    if kind == "UpdateContactCallbackNumber":
        assert ivr.settings[kind]["CallbackNumber"] == "+15550100001"


def test_legacy_recording_and_event_hook_blocks_translate():
    flow = legacy_of(
        module("rec", "SetRecordingBehavior", [{"name": "RecordingBehaviorOption", "value": "Enable"}],
               [{"condition": "Success", "transition": "hook"}]),
        module("hook", "SetEventHook", [{"name": "Type", "value": "CustomerQueue"},
                                        {"name": "ContactFlowId", "value": "arn:flow/q", "resourceName": "Q"}],
               [{"condition": "Success", "transition": "bye"}]),
        module("bye", "PlayPrompt", [{"name": "Text", "value": "Done"}]))
    caller, ivr, _, _ = call(flow)
    assert caller.texts == ["Done"]
    assert ivr.settings["UpdateContactEventHooks"]["EventHooks"] == {"CustomerQueue": "arn:flow/q"}
    assert ivr.settings["UpdateContactRecordingBehavior"]["RecordingBehaviorOption"] == "Enable"


# --------------------------------------------------------------------------- contact data


def test_system_attributes_come_from_the_call():
    contact = ContactData(caller_id="+14155550000", dialed_number="+18005550199", contact_id="c-1")
    flow = flow_of(action("ch", "Compare", {"ComparisonValue": "$.Channel"}, conditions=[("VOICE", "s")]),
                   say("s", "From $.CustomerEndpoint.Address to $.SystemEndpoint.Address, "
                            "$.InitiationMethod $.ContactId."))
    caller, _, _, _ = call(flow, contact=contact)
    assert caller.texts == ["From +14155550000 to +18005550199, INBOUND c-1."]


def test_legacy_system_references_are_the_same_system_attributes():
    flow = legacy_of(
        module("set", "SetAttributes", [
            {"name": "Attribute", "key": "from", "value": "Customer Number", "namespace": "System"},
            {"name": "Attribute", "key": "to", "value": "Dialed Number", "namespace": "System"},
            {"name": "Attribute", "key": "channel", "value": "Channel", "namespace": "System"}],
               [{"condition": "Success", "transition": "bye"}]),
        module("bye", "PlayPrompt", [{"name": "Text", "value": "$.Attributes.from $.Attributes.to $.Attributes.channel"}]))
    assert call(flow)[0].texts == ["+15550100001 +15550100002 VOICE"]


def test_contact_id_is_stable_for_a_suite():
    assert contact_id_for("suites/a.json#0") == contact_id_for("suites/a.json#0") != contact_id_for("b#0")


def test_contact_id_from_a_key_is_made_when_first_read():
    contact = ContactData(contact_key="3f2a9c0d11e4b7aa#12")
    assert contact.contact_id is None
    assert contact.lookup("ContactId") == contact_id_for("3f2a9c0d11e4b7aa#12") == contact.contact_id
    assert contact.lookup("InitialContactId") == contact.contact_id
    random_id = ContactData().lookup("ContactId")
    assert len(random_id) == 36 and ContactData().lookup("ContactId") != random_id


def test_contact_id_is_the_uuid5_of_the_key():
    import uuid
    from app.simulator.connect_contact import _CONTACT_NAMESPACE
    for key in ["suites/a.json#0", "3f2a9c0d11e4b7aa#12", "", "caf\u00e9 \U0001f600", 42] + [f"k{n}" for n in range(300)]:
        assert contact_id_for(key) == str(uuid.uuid5(_CONTACT_NAMESPACE, str(key)))


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize("staffing, available, staffed, online", [
    ("available", 1, 1, 1), ("staffed", 0, 1, 1), ("online", 0, 0, 1), ("none", 0, 0, 0)])
def test_staffing_levels(staffing, available, staffed, online):
    assert staffing_counts(staffing) == {"NumberOfAgentsAvailable": available, "NumberOfAgentsStaffed": staffed,
                                         "NumberOfAgentsOnline": online}


@pytest.mark.parametrize("staffing, heard", [("available", "Agents free"), ("none", "Nobody")])
def test_check_staffing_compares_the_agent_count(staffing, heard):
    flow = flow_of(action("st", "CheckMetricData", {"MetricType": "NumberOfAgentsAvailable"},
                          conditions=[("NumberGreaterThan", "0", "yes")],
                          errors=[("NoMatchingCondition", "no")]),
                   say("yes", "Agents free"), say("no", "Nobody"))
    assert call(flow, staffing=staffing)[0].texts == [heard]


@pytest.mark.parametrize("staffing, heard", [("staffed", "Staffed"), ("online", "Not staffed")])
def test_legacy_check_staffing_has_true_and_false(staffing, heard):
    flow = legacy_of(module("st", "CheckStaffing", [{"name": "Status", "value": "Staffed"}],
                            [{"condition": "True", "transition": "y"}, {"condition": "False", "transition": "n"}]),
                     module("y", "PlayPrompt", [{"name": "Text", "value": "Staffed"}]),
                     module("n", "PlayPrompt", [{"name": "Text", "value": "Not staffed"}]))
    assert call(flow, staffing=staffing)[0].texts == [heard]


def test_check_queue_status_reads_queue_metrics():
    flow = flow_of(action("q", "CheckMetricData", {"MetricType": "NumberOfContactsInQueue"},
                          conditions=[("NumberGreaterThan", "5", "busy")],
                          errors=[("NoMatchingCondition", "quiet")]),
                   say("busy", "Long wait"), say("quiet", "Short wait"))
    assert call(flow)[0].texts == ["Short wait"]
    assert call(flow, queue_metrics={"NumberOfContactsInQueue": 9})[0].texts == ["Long wait"]


def test_get_metric_data_loads_metrics_references():
    flow = flow_of(action("m", "GetMetricData", {}, "s"),
                   say("s", "$.Metrics.Queue.Size waiting, $.Metrics.Agents.Available.Count free"))
    assert call(flow, queue_metrics={"NumberOfContactsInQueue": 4})[0].texts == ["4 waiting, 1 free"]


def percentage_flow():
    return flow_of(action("p", "DistributeByPercentage", {},
                          conditions=[("NumberLessThan", "21", "a"), ("NumberLessThan", "41", "b")],
                          errors=[("NoMatchingCondition", "rest")]),
                   say("a", "A"), say("b", "B"), say("rest", "Rest"))


def test_distribute_by_percentage_takes_the_largest_share_by_default():
    flow = percentage_flow()
    assert percent_roll(flow.blocks["p"]) == 41       # 1-20 A, 21-40 B, 41-100 the rest
    assert call(flow)[0].texts == ["Rest"]


@pytest.mark.parametrize("roll, heard", [(1, "A"), (20, "A"), (21, "B"), (40, "B"), (41, "Rest"), (100, "Rest")])
def test_distribute_by_percentage_follows_a_given_roll(roll, heard):
    assert call(percentage_flow(), percent_roll=roll)[0].texts == [heard]


def test_wait_on_a_voice_contact_takes_the_error_branch():
    flow = flow_of(action("w", "Wait", {"TimeLimitSeconds": "900", "Events": ["CustomerReturned"]},
                          conditions=[("WaitCompleted", "done")], errors=[("NoMatchingError", "err")]),
                   say("done", "Done"), say("err", "Voice cannot wait here"))
    caller, ivr, _, _ = call(flow)
    assert caller.heard == [(1.6, "Voice cannot wait here")] and ("w", "Error", "err") in ivr.taken_branches


def test_transfers_out_end_the_call():
    third = flow_of(action("t", "TransferParticipantToThirdParty",
                           {"ThirdPartyPhoneNumber": "$.Attributes.n", "ContinueFlowExecution": "False"}))
    assert call(third, attributes={"n": "+15557654321"})[1].outcome == "transferred to +15557654321"
    back = flow_of(action("t", "TransferParticipantToThirdParty",
                          {"ThirdPartyPhoneNumber": "+15557654321", "ContinueFlowExecution": "True"}, "s"),
                   say("s", "Welcome back"))
    assert call(back)[0].texts == ["Welcome back"]
    assert call(flow_of(action("a", "TransferContactToAgent", {})))[1].outcome == "transferred to agent"
    dequeue = flow_of(action("d", "DequeueContactAndTransferToQueue", {"QueueId": "arn:x:queue/Billing"}))
    assert call(dequeue)[1].outcome == "transferred to queue Billing"


# --------------------------------------------------------------------------- integrations


def test_lambda_invocation_attributes_are_sent():
    flow = flow_of(action("fn", "InvokeLambdaFunction",
                          {"LambdaFunctionARN": "arn:aws:lambda:r:1:function:tier",
                           "LambdaInvocationAttributes": {"who": "$.CustomerEndpoint.Address"}}, "s"),
                   say("s", "Tier $.External.tier"))
    responses = {"tier": lambda params: {"tier": "gold" if params["who"] == "+15550100001" else "none"}}
    assert call(flow, lambda_responses=responses)[0].texts == ["Tier gold"]


@pytest.mark.parametrize("kind, branch", [
    ("CreateTask", "Success"), ("CreateCallbackContact", "Success"), ("CreateCustomerProfile", "Success"),
    ("ShowView", "Error"), ("CheckVoiceId", "Error"), ("GetCustomerProfile", "NoneFoundError"),
])
def test_service_blocks(kind, branch):
    errors = [("NoMatchingError", "err")] + ([("NoneFoundError", "none")] if branch == "NoneFoundError" else [])
    flow = flow_of(action("x", kind, {}, "ok", errors=errors),
                   say("ok", "Ok"), say("err", "Error"), say("none", "None found"))
    caller, ivr, _, _ = call(flow)
    target = {"Success": "ok", "Error": "err", "NoneFoundError": "none"}[branch]
    assert ("x", branch, target) in ivr.taken_branches


# --------------------------------------------------------------------------- many flows


@pytest.fixture
def instance(tmp_path):
    """A folder of flows: main transfers to 'Billing' by ARN, invokes a module by name."""
    write_flow(tmp_path / "main.json",
               say("hi", "Main menu", "mod"),
               action("mod", "InvokeFlowModule", {"FlowModuleId": "Greeting module"}, "after",
                      errors=[("NoMatchingError", "after")]),
               say("after", "Back in main", "xfer"),
               action("xfer", "TransferToFlow",
                      {"ContactFlowId": "arn:aws:connect:us-east-1:1:instance/i/contact-flow/bill-id"}))
    write_flow(tmp_path / "billing.json", say("b", "Billing here", "end"), action("end", "EndFlowExecution"),
               Name="Billing", Type="CONTACT_FLOW", Id="bill-id")
    (tmp_path / "modules").mkdir()
    write_flow(tmp_path / "modules" / "greeting.json", say("g", "Module says hello", "done"),
               action("done", "EndFlowModuleExecution"), Name="Greeting module", Type="MODULE")
    (tmp_path / "notes.json").write_text('{"not": "a flow"}')
    return tmp_path


def test_transfer_and_module_resolve_within_the_folder(instance):
    flow, library = load_target(instance / "main.json")
    caller, ivr, _, _ = call(flow, library=library)
    assert caller.texts == ["Main menu", "Module says hello", "Back in main", "Billing here"]
    assert ivr.outcome == "flow ended (EndFlowExecution)"
    assert ("mod", "Success", "after") in ivr.taken_branches


def test_transfer_to_a_missing_flow_ends_the_call_with_that_reason(instance):
    write_flow(instance / "lost.json", action("x", "TransferToFlow", {"ContactFlowId": "arn:x:contact-flow/nope"},
                                              errors=[("NoMatchingError", "x")]))
    flow, library = load_target(instance / "lost.json")
    caller, ivr, _, _ = call(flow, library=library)
    assert ivr.outcome.startswith("TransferToFlow to flow arn:x:contact-flow/nope: no flow with that ARN")


def test_transfer_from_a_single_flow_without_a_folder_says_so():
    caller, ivr, _, _ = call(flow_of(action("x", "TransferToFlow", {"ContactFlowId": "Other"})))
    assert "give the folder" in ivr.outcome


def test_library_finds_flows_by_arn_id_name_file_name_and_template(instance):
    library = FlowLibrary(instance)
    assert library.find("bill-id")[0].name == "Billing"
    assert library.find("arn:aws:connect:r:1:instance/i/contact-flow/bill-id")[0].name == "Billing"
    assert library.find("greeting_module")[0].name == "Greeting module"
    assert library.find("main")[0].source.endswith("main.json")
    assert library.find('${var.contact_flows_map["billing"]}')[0].name == "Billing"
    assert library.find("{{contactFlows.main.arn}}")[0].source.endswith("main.json")
    assert library.find("ghost")[0] is None


def test_legacy_transfer_to_a_flow_resolves_by_resource_name(instance):
    (instance / "legacy.json").write_text(json.dumps({"modules": [
        module("t", "Transfer", [{"name": "ContactFlowId", "value": "arn:unknown", "resourceName": "Billing"}],
               [{"condition": "Error", "transition": "t"}], target="Flow")], "start": "t", "version": "1"}))
    flow, library = load_target(instance / "legacy.json")
    assert flow.blocks["t"].type == "TransferToFlow"
    assert call(flow, library=library)[0].texts == ["Billing here"]


def test_legacy_resume_ends_the_flow():
    flow = legacy_of(module("r", "Resume"))
    assert call(flow)[1].outcome == "flow ended (Resume)"


def test_end_module_without_a_caller_ends_the_call():
    assert call(flow_of(action("e", "EndFlowModuleExecution")))[1].outcome == "flow module ended"


@pytest.mark.parametrize("wrap", [
    lambda flow: {"Name": "Wrapped", "Type": "CONTACT_FLOW", "Content": json.dumps(flow)},
    lambda flow: {"ContactFlow": {"Name": "Wrapped", "Arn": "arn:a", "Id": "i", "Content": json.dumps(flow)}},
    lambda flow: {"Name": "Wrapped", "Content": json.dumps(flow).replace("Hello", "Hello\\\\'s")},
])
def test_wrapped_content_files_load(tmp_path, wrap):
    flow = {"Version": "2019-10-30", "StartAction": "a", "Actions": [say("a", "Hello")]}
    (tmp_path / "w.json").write_text(json.dumps(wrap(flow)))
    loaded = load_flow(tmp_path / "w.json")
    assert loaded.name == "Wrapped" and loaded.blocks["a"].params["Text"].startswith("Hello")


def test_wrapped_content_that_is_not_a_flow_is_a_clear_error():
    from app.errors import FlowError
    with pytest.raises(FlowError, match='"Content" is not a flow in JSON'):
        parse_flow({"Name": "x", "Content": "{not json"}, source="w.json")


def test_a_lex_flow_reached_by_transfer_with_no_bot_ends_saying_so():
    flow = flow_of(action("lex", "ConnectParticipantWithLexBot", {"Text": "Hi", "LexBot": {"Name": "Bot"}}))
    assert "no Lex bot" in call(flow)[1].outcome
    assert call(flow, lex_bot=FakeBot())[0].texts[0] == "Hi"


@pytest.mark.parametrize("check, contacts, heard", [("Time in queue", 0, "Short"), ("Queue capacity", 7, "Long")])
def test_legacy_check_queue_status_compares_the_queue(check, contacts, heard):
    flow = legacy_of(
        module("q", "CheckQueueStatus", [{"name": "Queue", "value": "arn:x:queue/Sales"},
                                         {"name": "CheckType", "value": check}],
               [{"condition": "Evaluate", "conditionType": "GreaterThan", "conditionValue": "5", "transition": "l"},
                {"condition": "NoMatch", "transition": "s"}]),
        module("l", "PlayPrompt", [{"name": "Text", "value": "Long"}]),
        module("s", "PlayPrompt", [{"name": "Text", "value": "Short"}]))
    metric = "OldestContactInQueueAgeSeconds" if check.startswith("Time") else "NumberOfContactsInQueue"
    assert flow.blocks["q"].params["MetricType"] == metric
    metrics = {"NumberOfContactsInQueue": contacts, "OldestContactInQueueAgeSeconds": 0}
    assert call(flow, queue_metrics=metrics)[0].texts == [heard]


def test_documented_operator_spelling_numeric_less_than():
    flow = flow_of(action("p", "DistributeByPercentage", {}, conditions=[("NumericLessThan", "90", "a")],
                          errors=[("NoMatchingCondition", "b")]), say("a", "A"), say("b", "B"))
    assert call(flow)[0].texts == ["A"]
