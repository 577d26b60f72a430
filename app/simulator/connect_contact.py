"""The contact a flow runs for: its attributes, its system values, and the `$.` references to them.

A Connect flow reads everything about the call through references such as `$.Attributes.tier`,
`$.External.balance`, `$.Channel` or `$.CustomerEndpoint.Address`. Offline there is no contact
record, so this holds one: the caller's and the dialed number come from the call (or the suite),
the channel is always VOICE, the initiation method INBOUND, and the contact id is stable for a
suite, so a prompt that reads it out says the same thing on every run.

A reference nobody set reads as None ("not set") when it is a whole value, and as "" inside text,
as Connect does.
"""
import hashlib
import re
import uuid
from dataclasses import dataclass, field

DEFAULT_CALLER_ID = "+15550100001"
DEFAULT_DIALED_NUMBER = "+15550100002"
_CONTACT_NAMESPACE = uuid.UUID("6f1b2ad2-59c8-4d5e-9a4b-9f0d2c7c1e10")

# `$.` then dotted names; a trailing full stop ends a sentence, not the reference.
REFERENCE = re.compile(r"\$\.[A-Za-z][\w]*(?:\.[\w:-]+)*")

# Namespaces whose second part is a key the flow chose: `$.Attributes.<key>`.
_KEYED = ("Attributes", "External", "Lex.Slots", "Lex.SessionAttributes", "FlowAttributes",
          "Metrics", "Customer", "Case", "Task")


def contact_id_for(key):
    """A contact id that is the same for the same suite on every run (a UUID, like Connect's):
    `str(uuid.uuid5(_CONTACT_NAMESPACE, key))`, written without building a UUID object (one
    per call)."""
    digest = bytearray(hashlib.sha1(_CONTACT_NAMESPACE.bytes + str(key).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50       # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80       # the RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


@dataclass
class ContactData:
    """What Connect knows about one contact, readable by reference."""
    caller_id: str = DEFAULT_CALLER_ID
    dialed_number: str = DEFAULT_DIALED_NUMBER
    contact_id: str | None = None       # None: made when a flow first reads it (see `system`)
    contact_key: str | None = None      # what a stable id is made from; without one it is random
    attributes: dict = field(default_factory=dict)
    external: dict = field(default_factory=dict)
    flow_attributes: dict = field(default_factory=dict)
    lex_slots: dict = field(default_factory=dict)
    lex_session: dict = field(default_factory=dict)
    lex_intent: str | None = None
    stored_input: str | None = None
    queue: str | None = None
    queue_id: str | None = None
    language: str = "en-US"
    voice: str | None = None
    name: str | None = None
    description: str | None = None
    metrics: dict = field(default_factory=dict)

    def system(self):
        """System values by their reference path (without `$.`).

        The contact id is made here, on first read: few flows read it, and a uuid5 per call
        costs about 1% of an offline call."""
        if self.contact_id is None:
            self.contact_id = str(uuid.uuid4()) if self.contact_key is None else contact_id_for(self.contact_key)
        return {
            "Channel": "VOICE", "InitiationMethod": "INBOUND", "ContactId": self.contact_id,
            "InitialContactId": self.contact_id, "CustomerEndpoint.Address": self.caller_id,
            "CustomerEndpoint.Type": "TELEPHONE_NUMBER", "SystemEndpoint.Address": self.dialed_number,
            "SystemEndpoint.Type": "TELEPHONE_NUMBER", "LanguageCode": self.language,
            "TextToSpeechVoice": self.voice, "Name": self.name, "Description": self.description,
            "StoredCustomerInput": self.stored_input, "Queue.Name": self.queue, "Queue.ARN": self.queue_id,
            "Lex.IntentName": self.lex_intent, "AwsRegion": "us-east-1",
        }

    def _stores(self):
        return {"Attributes": self.attributes, "External": self.external, "Lex.Slots": self.lex_slots,
                "Lex.SessionAttributes": self.lex_session, "FlowAttributes": self.flow_attributes,
                "Metrics": self.metrics}

    def lookup(self, path):
        """The value at a reference path ("Attributes.tier", "Channel"), or None when unset."""
        system = self.system()
        if path in system:
            return system[path]
        for namespace in _KEYED:
            if path.startswith(namespace + "."):
                return self._stores().get(namespace, {}).get(path[len(namespace) + 1:])
        return None

    def fill(self, text):
        """Text with every reference replaced by its value ("" when unset)."""
        text = str(text)
        if "$." not in text:        # no reference in it (most prompts): nothing to fill
            return text

        def one(match):
            value = self.lookup(match.group(0)[2:])
            return "" if value is None else str(value)
        return REFERENCE.sub(one, text)

    def value(self, ref):
        """A parameter's value: a whole reference keeps None for "not set"; anything else is text
        with references filled in (exports hold "8", but hand-written flows may hold 8)."""
        if ref is None:
            return None
        if type(ref) is str and "$." not in ref:
            return ref                  # plain text: no reference to resolve or fill in
        if isinstance(ref, str) and REFERENCE.fullmatch(ref.strip()):
            return self.lookup(ref.strip()[2:])
        return self.fill(ref)
