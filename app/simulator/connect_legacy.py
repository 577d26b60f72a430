"""The older console export of a Connect flow (`modules`), read into the flow-language model.

Each legacy block type becomes its flow-language twin (`_LEGACY`: the type and a converter of
its `parameters`, a list of name/value/key/namespace entries), and its `branches` become
NextAction, Conditions and Errors with the labels the flow language gives them, so a flow
behaves and is covered the same whichever format it was exported in. A type with no twin here
keeps its own name and its parameters by name; the interpreter plays it if it has a handler for
it, and otherwise ends the call there, naming it.
"""
from app.errors import FlowError
from app.simulator.connect_flow import (CATCH_ALL_ERROR, SUCCESS, Block, Condition, Flow, _add_block,
                                        _block_where, _expect_objects, _expect_type, _operator,
                                        condition_label)

# Legacy branch conditions that are errors, by their flow-language error type.
_LEGACY_ERRORS = {"Timeout": "InputTimeLimitExceeded", "NoMatch": "NoMatchingCondition",
                  "Error": CATCH_ALL_ERROR, "AtCapacity": "QueueAtCapacity"}
# Legacy branch conditions that are fixed results compared with Equals.
_LEGACY_RESULTS = {"True": "True", "False": "False", "Looping": "ContinueLooping",
                   "Complete": "DoneLooping"}
# Legacy attribute namespaces, as flow-language reference prefixes.
_LEGACY_NAMESPACES = {"User Defined": "Attributes", "External": "External", "Lex Slots": "Lex.Slots",
                      "Lex Attributes": "Lex.SessionAttributes"}
# Legacy System attributes (console names, any case) as flow-language references.
_LEGACY_SYSTEM = {"stored customer input": "StoredCustomerInput", "queue name": "Queue.Name",
                  "queue arn": "Queue.ARN", "customer number": "CustomerEndpoint.Address",
                  "dialed number": "SystemEndpoint.Address", "contact id": "ContactId",
                  "initial contact id": "InitialContactId", "channel": "Channel",
                  "initiation method": "InitiationMethod", "language": "LanguageCode",
                  "language code": "LanguageCode", "text to speech voice": "TextToSpeechVoice",
                  "name": "Name", "description": "Description"}


def read_legacy(data, source):
    """A `Flow` from a legacy export's parsed JSON."""
    modules = data.get("modules")
    if not isinstance(modules, list):
        raise FlowError(f"{source}: 'modules' must be a list of blocks")
    start = _expect_type(data.get("start"), str, source, "start")
    blocks = {}
    for index, module in enumerate(modules):
        if not isinstance(module, dict):
            raise FlowError(f"{source}: every entry of 'modules' must be an object")
        _add_block(blocks, source, _module_block(module, source, index))
    return Flow(start=start, blocks=blocks, source=source, format="legacy")


def _module_block(module, source, index):
    block_id = _expect_type(module.get("id"), str, f"{source}: modules[{index}]", "id")
    kind = _expect_type(module.get("type"), str, _block_where(source, block_id), "type", required=True)
    where = _block_where(source, block_id, kind)
    params = _legacy_params(module, where, source)
    block = Block(id=block_id, type=_legacy_type(kind, module.get("target")), params=params, source_type=kind)
    for number, branch in enumerate(_expect_objects(module.get("branches"), where, "branches")):
        _add_legacy_branch(block, branch, source, where, f"branches[{number}]")
    return block


def _add_legacy_branch(block, branch, source, where, name):
    condition = _expect_type(branch.get("condition"), str, where, f"{name}.condition", required=True)
    target = _expect_type(branch.get("transition"), str, where, f"{name}.transition")
    if condition == SUCCESS:
        block.next = target
    elif condition in _LEGACY_ERRORS:
        block.errors[_LEGACY_ERRORS[condition]] = target
    elif condition in _LEGACY_RESULTS or condition == "Evaluate":
        if condition == "Evaluate":
            operator = _expect_type(branch.get("conditionType"), str, where, f"{name}.conditionType")
            operator = _operator(source, block.id, operator)
            operands = (str(branch.get("conditionValue")),)
        else:
            operator, operands = "Equals", (_LEGACY_RESULTS[condition],)
        block.conditions.append(Condition(operator, operands, target,
                                          condition_label(block, operator, operands)))
    else:   # a result of a block type we do not translate, such as "MessagesInterrupted"
        operator, operands = "Equals", (condition,)
        block.conditions.append(Condition(operator, operands, target,
                                          condition_label(block, operator, operands)))


def _reference(param):
    """A legacy parameter's value: literal, or a `$.` reference when it names a namespace."""
    value, namespace = param.get("value"), param.get("namespace")
    if not namespace:
        return value
    if namespace == "System":
        return f"$.{_LEGACY_SYSTEM.get(str(value).strip().lower(), 'System.' + str(value))}"
    return f"$.{_LEGACY_NAMESPACES.get(namespace, namespace)}.{value}"


def _legacy_params(module, where, source):
    """Legacy `parameters` (name/value/key/namespace) as flow-language Parameters."""
    kind, target = module.get("type"), module.get("target")
    raw = _expect_objects(module.get("parameters"), where, "parameters")
    for number, param in enumerate(raw):
        for part in ("name", "key", "namespace"):
            _expect_type(param.get(part), str, where, f"parameters[{number}].{part}")
        if param.get("namespace"):   # a reference names an attribute
            _expect_type(param.get("value"), str, where, f"parameters[{number}].value")
    named = {p.get("name"): p for p in raw}
    value = {name: _reference(p) for name, p in named.items()}
    if kind == "Transfer":
        return _TRANSFERS.get(target, _TRANSFERS[None])[1](value, raw, named, target)
    return _LEGACY[kind][1](value, raw, named, target) if kind in _LEGACY else value


def _legacy_type(kind, target):
    """The flow-language type of a legacy block; Transfer depends on its target."""
    if kind == "Transfer":
        return _TRANSFERS.get(target, _TRANSFERS[None])[0]
    return _LEGACY[kind][0] if kind in _LEGACY else kind


def _prompt(value):
    text = value.get("Text")
    return {"SSML": text} if str(value.get("TextToSpeechType", "")).lower() == "ssml" else {"Text": text}


def _get_user_input(value, raw, named, target):
    params = {**_prompt(value), "InputTimeLimitSeconds": value.get("Timeout", "5"),
              "MaxDigits": value.get("MaxDigits", "1")}
    if target == "Lex" or "BotName" in value:
        params["LexBot"] = {"Name": value.get("BotName"), "Alias": value.get("BotAlias"),
                            "Region": value.get("BotRegion")}
    return params


def _store_user_input(value, raw, named, target):
    return {**_prompt(value), "StoreInput": "True", "InputTimeLimitSeconds": value.get("Timeout", "5"),
            "MaxDigits": value.get("MaxDigits", "20")}


def _set_attributes(value, raw, named, target):
    return {"Attributes": {p.get("key"): _reference(p) for p in raw if p.get("name") == "Attribute"}}


def _check_attribute(value, raw, named, target):
    param = {"value": value.get("Attribute"), "namespace": (named.get("Namespace") or {}).get("value")}
    return {"ComparisonValue": _reference(param)}


def _set_queue(value, raw, named, target):
    queue = named.get("Queue") or {}
    params = {"QueueId": _reference(queue)}
    if queue.get("resourceName"):
        params["QueueName"] = queue["resourceName"]
    return params


def _invoke_external(value, raw, named, target):
    return {"LambdaFunctionARN": value.get("FunctionArn"),
            "InvocationTimeLimitSeconds": value.get("TimeLimit", "8"),
            "LambdaFunctionParameters": {p.get("key"): _reference(p) for p in raw
                                         if p.get("name") == "Parameter"}}


def _no_parameters(value, raw, named, target):
    return {}


def _to_flow(value, raw, named, target):
    """A transfer to a flow names it by ARN and by `resourceName` (its name in the instance)."""
    flow = named.get("ContactFlowId") or {}
    return {"ContactFlowId": _reference(flow) or flow.get("resourceName"),
            "ContactFlowIdName": flow.get("resourceName")}


def _to_phone(value, raw, named, target):
    return {"ThirdPartyPhoneNumber": value.get("PhoneNumber") or value.get("ThirdPartyPhoneNumber"),
            "ContinueFlowExecution": value.get("ContinueFlowExecution", "False")}


def _loop_prompts(value, raw, named, target):
    """LoopPrompts: each prompt parameter (text, SSML or audio) is one message."""
    messages = []
    for param in raw:
        if param.get("name") in ("Text", "Prompt", "AudioPrompt", "PromptId"):
            kind = "SSML" if str(param.get("textToSpeechType", "")).lower() == "ssml" else "Text"
            messages.append({kind: _reference(param)} if param.get("name") == "Text" else {"PromptId": param.get("value")})
    interrupt = value.get("InterruptFrequencySeconds") or value.get("Timeout") or value.get("InterruptSeconds")
    return {"Messages": messages, "InterruptFrequencySeconds": interrupt}


def _queue_metric(value):
    """Check queue status compares either the time in queue or the queue's size ("capacity")."""
    text = " ".join(f"{k} {v}" for k, v in value.items() if k != "Queue").lower()
    return "OldestContactInQueueAgeSeconds" if "time" in text or "age" in text else "NumberOfContactsInQueue"


def _event_hook(value, raw, named, target):
    """SetEventHook / SetContactFlow: `Type` (CustomerQueue, CustomerHold, ...) names the hook."""
    flow = named.get("ContactFlowId") or named.get("EventHook") or {}
    return {"EventHooks": {str(value.get("Type") or value.get("EventHookType") or "Hook"):
                           _reference(flow) or flow.get("resourceName")}}


# Each legacy block type: the flow-language type it becomes, and how its parameters convert.
_LEGACY = {
    "PlayPrompt": ("MessageParticipant", lambda value, raw, named, target: _prompt(value)),
    "GetUserInput": ("GetParticipantInput", _get_user_input),
    "StoreUserInput": ("GetParticipantInput", _store_user_input),
    "SetAttributes": ("UpdateContactAttributes", _set_attributes),
    "CheckAttribute": ("Compare", _check_attribute),
    "Loop": ("Loop", lambda value, raw, named, target: {"LoopCount": value.get("LoopCount")}),
    "SetVoice": ("UpdateContactTextToSpeechVoice",
                 lambda value, raw, named, target: {"TextToSpeechVoice": value.get("GlobalVoice")}),
    "SetLoggingBehavior": ("UpdateFlowLoggingBehavior", lambda value, raw, named, target: {
        "FlowLoggingBehavior": value.get("LoggingBehavior")}),
    "Disconnect": ("DisconnectParticipant", _no_parameters),
    "SetQueue": ("UpdateContactTargetQueue", _set_queue),
    "Transfer": ("TransferContactToQueue", _no_parameters),
    "InvokeExternalResource": ("InvokeLambdaFunction", _invoke_external),
    "CheckHoursOfOperation": ("CheckHoursOfOperation", lambda value, raw, named, target: (
        {"HoursOfOperationId": value["Hours"]} if value.get("Hours") else {})),
    "SetRecordingBehavior": ("UpdateContactRecordingBehavior", lambda value, raw, named, target: value),
    "SetEventHook": ("UpdateContactEventHooks", _event_hook),
    "SetContactFlow": ("UpdateContactEventHooks", _event_hook),
    "LoopPrompts": ("MessageParticipantIteratively", _loop_prompts),
    "Resume": ("EndFlowExecution", _no_parameters),
    "ResumeContact": ("EndFlowExecution", _no_parameters),
    "EndFlowExecution": ("EndFlowExecution", _no_parameters),
    "CheckStaffing": ("CheckMetricData", lambda value, raw, named, target: {"Status": value.get("Status")}),
    "CheckQueueStatus": ("CheckMetricData", lambda value, raw, named, target: {
        "MetricType": _queue_metric(value), "QueueId": value.get("Queue")}),
    "SetCallbackNumber": ("UpdateContactCallbackNumber", lambda value, raw, named, target: {
        "CallbackNumber": value.get("CallbackNumber")}),
    "StartMediaStreaming": ("UpdateContactMediaStreamingBehavior", lambda value, raw, named, target: {
        **value, "MediaStreamingState": "Enabled"}),
    "StopMediaStreaming": ("UpdateContactMediaStreamingBehavior", lambda value, raw, named, target: {
        **value, "MediaStreamingState": "Disabled"}),
    "InvokeFlowModule": ("InvokeFlowModule", lambda value, raw, named, target: {
        "FlowModuleId": value.get("FlowModuleId") or value.get("ModuleId")}),
}

# Legacy Transfer by its target: the flow-language type and the parameter converter.
_TRANSFERS = {
    None: ("TransferContactToQueue", _no_parameters),
    "Queue": ("TransferContactToQueue", _no_parameters),
    "Flow": ("TransferToFlow", _to_flow),
    "PhoneNumber": ("TransferParticipantToThirdParty", _to_phone),
    "ThirdParty": ("TransferParticipantToThirdParty", _to_phone),
    "Agent": ("TransferContactToAgent", _no_parameters),
}
