"""Blocks that set or read contact data: Set contact attributes, Set flow attributes, Update
contact data, Check contact attributes (Compare), and the settings blocks that change how
Connect treats the call (voice, logging, recording, event hooks, routing priority, callback
number, media streaming) without the caller hearing anything.

Settings blocks are kept in `leg.settings` by block type, so a test can see what a flow set;
on a voice contact each of them takes Success.
"""


def update_attributes(leg, block):
    """Set contact attributes: each value resolved ($.References too), stored as text."""
    for key, value in (block.params.get("Attributes") or {}).items():
        resolved = leg.value(value)
        leg.contact.attributes[key] = "" if resolved is None else str(resolved)
    leg.next(block)


def update_flow_attributes(leg, block):
    """Set flow attributes: `FlowAttributes: {key: {"Value": ...}}`, read as $.FlowAttributes.key."""
    for key, entry in (block.params.get("FlowAttributes") or {}).items():
        value = entry.get("Value") if isinstance(entry, dict) else entry
        resolved = leg.value(value)
        leg.contact.flow_attributes[key] = "" if resolved is None else str(resolved)
    leg.next(block)


# UpdateContactData parameters that are contact properties we can read back by reference.
_CONTACT_FIELDS = {"LanguageCode": "language", "Name": "name", "Description": "description"}


def update_contact_data(leg, block):
    """Set contact properties (language, name, description, Voice ID settings, ...)."""
    for key, value in block.params.items():
        if key in _CONTACT_FIELDS and not isinstance(value, (dict, list)):
            setattr(leg.contact, _CONTACT_FIELDS[key], str(leg.value(value) or ""))
    _remember(leg, block)
    leg.next(block)


def compare(leg, block):
    """Check contact attributes: route on the value of `ComparisonValue`."""
    leg.route(block, leg.value(block.params.get("ComparisonValue")))


def set_voice(leg, block):
    """Set voice: later prompts are spoken in it (it changes nothing the caller's transcript shows)."""
    leg.contact.voice = leg.value(block.params.get("TextToSpeechVoice"))
    _remember(leg, block)
    leg.next(block)


def set_logging(leg, block):
    leg.logging = leg.value(block.params.get("FlowLoggingBehavior"))
    leg.next(block)


def setting(leg, block):
    """A block that only changes a setting of the contact: remember it, then Success."""
    _remember(leg, block)
    leg.next(block)


def _remember(leg, block):
    leg.settings.setdefault(block.type, {}).update(
        {key: value if isinstance(value, (dict, list)) else leg.value(value)
         for key, value in block.params.items()})


HANDLERS = {
    "UpdateContactAttributes": update_attributes,
    "UpdateFlowAttributes": update_flow_attributes,
    "UpdateContactData": update_contact_data,
    "Compare": compare,
    "UpdateContactTextToSpeechVoice": set_voice,
    "UpdateFlowLoggingBehavior": set_logging,
    "UpdateContactRecordingBehavior": setting,
    "UpdateContactEventHooks": setting,
    "UpdateContactRoutingBehavior": setting,
    # Set routing criteria (the docs' UpdateRoutingCriteria; console exports spell it with
    # "Contact"): which agents may take the contact once queued. No agents are simulated.
    "UpdateRoutingCriteria": setting,
    "UpdateContactRoutingCriteria": setting,
    "UpdateContactCallbackNumber": setting,
    "UpdateContactMediaStreamingBehavior": setting,
    "UpdateContactMediaProcessing": setting,
    "StartVoiceIdStream": setting,
    "UpdatePreviousContactParticipantState": setting,
    "UpdateContactRecordingAndAnalyticsBehavior": setting,
    "TagContact": setting,
    "UnTagContact": setting,
}
