"""Intent recognition and slot filling: the words that tell intents apart, a threshold for what
is not understood, and values only where a value was said."""
import json
from datetime import date

import pytest

from app.errors import LexError
from app.simulator.lex import LexBot
from app.simulator.lex.builtins import Context
from app.simulator.lex.dialogue import spoken_words
from app.simulator.lex.model import Intent, Slot, SlotType, Template
from app.simulator.lex.nlu import _slot_cues

TODAY = date(2026, 5, 12)


def make_bot(intents, version="V2", threshold=0.4, fallback=True, **kwargs):
    """A bot from {intent: (samples, {slot: (type, required)})}."""
    built = {}
    for name, (samples, slots) in intents.items():
        slot_objects = {s: Slot(s, kind, required, f"What is your {s}?", 2, n)
                        for n, (s, (kind, required)) in enumerate(slots.items())}
        built[name] = Intent(name, tuple(Template.parse(u) for u in samples), slot_objects,
                             f"Done with {name}.")
    if fallback:
        built["FallbackIntent"] = Intent("FallbackIntent", (), {}, None, True)
    return LexBot("Test", "en_US", built, threshold, version=version, **kwargs)


NUMBER = SlotType("AMAZON.Number", builtin="AMAZON.NUMBER")
FIRST_NAME = SlotType("AMAZON.FirstName", builtin="AMAZON.FIRSTNAME")
DATE = SlotType("AMAZON.Date", builtin="AMAZON.DATE")
DEPARTMENT = SlotType("Department", ("billing", "sales", "tech support"),
                      ("billing", "sales", "technical support"))

BANK = {
    "CheckBalance": (["check my balance", "what is my balance",
                      "what is the balance of account {Account}"],
                     {"Account": (NUMBER, False)}),
    "TalkToAgent": (["talk to an agent", "speak to a representative",
                     "transfer me to {Department}"], {"Department": (DEPARTMENT, False)}),
    "ResetPin": (["reset my pin", "my pin is {Pin}", "I forgot my pin"], {"Pin": (NUMBER, True)}),
}


def first(bot, said):
    return bot.new_session(today=TODAY).turn(said)


@pytest.mark.parametrize("said, intent", [
    ("balance please", "CheckBalance"),
    ("how much is in my balance", "CheckBalance"),
    ("check my balanse", "CheckBalance"),                  # a misrecognized word
    ("can I speak with a real person", "TalkToAgent"),     # synonyms of "agent"
    ("get me an operator", "TalkToAgent"),
    ("I need to change my PIN", "ResetPin"),
    ("connect me with billing", "TalkToAgent"),            # a custom slot value names it
])
def test_the_words_that_tell_intents_apart_choose_the_intent(said, intent):
    assert first(make_bot(BANK), said).intent == intent


@pytest.mark.parametrize("said", ["what's the weather like", "I'd like to order a pizza",
                                  "tell me a joke", "blah"])
def test_unrelated_input_is_not_understood(said):
    reply = first(make_bot(BANK), said)
    assert (reply.state, reply.intent, reply.confidence) == ("Fulfilled", "FallbackIntent", None)


def test_confidence_is_reported_and_the_threshold_is_the_bots():
    loose, strict = make_bot(BANK), make_bot(BANK, threshold=0.95)
    reply = first(loose, "the balance on my savings")      # "savings" is unknown to the bot
    assert reply.intent == "CheckBalance" and 0.4 <= reply.confidence < 0.95
    assert first(strict, "the balance on my savings").intent == "FallbackIntent"
    assert first(strict, "check my balance").confidence == 1.0


def test_interpretations_are_ranked_and_deterministic():
    bot = make_bot(BANK)
    ranked = bot.interpretations(spoken_words("talk to someone about my balance"))
    again = bot.interpretations(spoken_words("talk to someone about my balance"))
    assert [(i.intent.name, i.confidence) for i in ranked] == \
        [(i.intent.name, i.confidence) for i in again]
    assert {i.intent.name for i in ranked} == {"CheckBalance", "TalkToAgent"}
    assert ranked[0].confidence >= ranked[1].confidence


def test_a_number_said_digit_by_digit_fills_the_whole_slot():
    replies = [first(make_bot(BANK), "my pin is one two three four")]
    session = make_bot(BANK).new_session(today=TODAY)
    replies += [session.turn("reset my pin"), session.turn("it's four three two one")]
    assert replies[0].slots == {"Pin": "1234"} and replies[0].state == "Fulfilled"
    assert [(r.state, r.slots) for r in replies[1:]] == [("ElicitSlot", {}),
                                                          ("Fulfilled", {"Pin": "4321"})]


def test_a_carrier_phrase_does_not_carry_an_unknown_value():
    reply = first(make_bot(BANK), "transfer me to the bakery")
    assert reply.intent == "TalkToAgent" and reply.slots == {}


NAMES = {"Greet": (["hi I am {Name}", "hello my name is {Name}", "hello"],
                   {"Name": (FIRST_NAME, True)})}


@pytest.mark.parametrize("said, slots, state", [
    ("hello my name is john", {"Name": "John"}, "Fulfilled"),
    ("hello my name is reservation", {}, "ElicitSlot"),
    ("hi I am boston", {}, "ElicitSlot"),
])
def test_a_first_name_slot_takes_names_not_any_word(said, slots, state):
    reply = first(make_bot(NAMES), said)
    assert (reply.intent, reply.slots, reply.state) == ("Greet", slots, state)


def test_a_first_name_answer_with_carrier_words_fills_and_a_non_name_is_asked_again():
    session = make_bot(NAMES).new_session(today=TODAY)
    replies = [session.turn(u) for u in ("hello", "it's reservation", "my name is Sarah")]
    assert [(r.state, r.slots) for r in replies] == [
        ("ElicitSlot", {}), ("ElicitSlot", {}), ("Fulfilled", {"Name": "Sarah"})]
    session = make_bot(NAMES).new_session(today=TODAY)
    assert [r.slots for r in (session.turn("hello"), session.turn("Sarah Connor here"))] == [
        {}, {"Name": "Sarah"}]


def test_dates_resolve_against_the_call_date():
    bot = make_bot({"Book": (["book a table for {When}", "book a table"],
                             {"When": (DATE, True)})})
    assert first(bot, "book a table for tomorrow").slots == {"When": "2026-05-13"}
    session = bot.new_session(today=date(2026, 12, 31))
    assert [r.slots for r in (session.turn("book a table"), session.turn("next friday"))] == \
        [{}, {"When": "2027-01-01"}]


def test_slots_of_one_type_go_where_the_samples_put_their_cue_words():
    city = SlotType("AMAZON.City", builtin="AMAZON.CITY")
    bot = make_bot({"Fly": (["fly from {From} to {To}"],
                            {"From": (city, True), "To": (city, True)})})
    assert first(bot, "I need to fly to Denver from Seattle").slots == {"From": "Seattle",
                                                                          "To": "Denver"}
    assert _slot_cues(bot.intents["Fly"]) == {"From": {"from"}, "To": {"to"}}


def test_v1_keeps_its_clarification_prompt_then_falls_back_when_it_has_a_fallback_intent():
    bot = make_bot(BANK, version="V1", clarification="Sorry, what was that?",
                   clarification_attempts=2, abort="Goodbye.")
    session = bot.new_session(today=TODAY)
    replies = [session.turn(u) for u in ("pizza", "weather", "music")]
    assert [(r.state, r.intent, r.message) for r in replies] == [
        ("ElicitIntent", None, "Sorry, what was that?"),
        ("ElicitIntent", None, "Sorry, what was that?"),
        ("Fulfilled", "FallbackIntent", None)]
    without = make_bot(BANK, version="V1", fallback=False, clarification="Again?",
                       clarification_attempts=1, abort="Goodbye.")
    session = without.new_session(today=TODAY)
    assert [(r.state, r.message) for r in (session.turn("x"), session.turn("y"))] == [
        ("ElicitIntent", "Again?"), ("Failed", "Goodbye.")]


def _v1_export(tmp_path, slot_type):
    export = {"metadata": {"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"},
              "resource": {"name": "PinBot", "version": "1", "locale": "en-US",
                           "slotTypes": [slot_type],
                           "intents": [{"name": "GivePin", "sampleUtterances": ["my pin is {Pin}",
                                                                                 "pin"],
                                        "slots": [{"name": "Pin", "slotType": "PinType",
                                                   "slotConstraint": "Required",
                                                   "valueElicitationPrompt": {
                                                       "maxAttempts": 2, "messages": [
                                                           {"contentType": "PlainText",
                                                            "content": "Your pin?"}]},
                                                   "priority": 1}]}],
                           "clarificationPrompt": {"maxAttempts": 1, "messages": [
                               {"contentType": "PlainText", "content": "Pardon?"}]},
                           "abortStatement": {"messages": [
                               {"contentType": "PlainText", "content": "Bye."}]}}}
    path = tmp_path / "PinBot_Export.json"
    path.write_text(json.dumps(export))
    return path


def test_a_v1_regex_derived_slot_type_loads_and_validates_values(tmp_path):
    bot = LexBot.load(_v1_export(tmp_path, {
        "name": "PinType", "version": "1", "parentSlotTypeSignature": "AMAZON.AlphaNumeric",
        "slotTypeConfigurations": [{"regexConfiguration": {"pattern": "[0-9]{4}"}}]}))
    assert bot.intents["GivePin"].slots["Pin"].type.pattern == "[0-9]{4}"
    assert first(bot, "my pin is one two three four").slots == {"Pin": "1234"}
    session = bot.new_session(today=TODAY)
    replies = [session.turn(u) for u in ("pin", "one two three", "nine eight seven six")]
    assert [(r.state, r.slots) for r in replies] == [
        ("ElicitSlot", {}), ("ElicitSlot", {}), ("Fulfilled", {"Pin": "9876"})]


def test_a_bad_regex_names_the_file_and_the_slot_type(tmp_path):
    with pytest.raises(LexError, match=r"PinBot_Export\.json.*PinType.*not a valid pattern"):
        LexBot.load(_v1_export(tmp_path, {
            "name": "PinType", "parentSlotTypeSignature": "AMAZON.AlphaNumeric",
            "slotTypeConfigurations": [{"regexConfiguration": {"pattern": "[0-9"}}]}))


def test_typed_email_addresses_are_read_as_spoken():
    assert spoken_words("It's jo.smith@example.com") == "it is jo dot smith at example dot com"
    email = SlotType("AMAZON.EmailAddress", builtin="AMAZON.EMAILADDRESS")
    bot = make_bot({"Email": (["my email is {Address}"], {"Address": (email, True)})})
    assert first(bot, "my email is jo.smith@example.com").slots == {
        "Address": "jo.smith@example.com"}


def test_remembered_utterance_words_are_the_plain_computation():
    from app.simulator.lex.dialogue import remembered_words
    said = ["It's jo.smith@example.com", "I want to check my balance", "  ", "one two three",
            "Caf\u00e9 au lait, please!", "I want to check my balance"]
    for utterance in said * 2:
        assert remembered_words(utterance) == spoken_words(utterance)


def test_sessions_of_a_day_share_one_context_and_remembered_answers_match_fresh_ones():
    bot = make_bot(BANK, version="V1")
    one, two = bot.new_session(today=TODAY), bot.new_session(today=TODAY)
    assert one.context is two.context and one.context == Context(TODAY, "V1")
    for heard in ["check my balance", "nothing like it", "check my balance", ""]:
        remembered = bot.understand(heard, one.context)
        fresh = make_bot(BANK, version="V1").understand(heard, Context(TODAY, "V1"))   # nothing remembered yet
        assert remembered == fresh


def test_context_defaults_to_the_bots_version():
    assert Context(TODAY, "V1").version == "V1"
    assert make_bot(BANK, version="V1").new_session(today=TODAY).context.version == "V1"


def test_a_sample_said_word_for_word_places_each_value_in_its_own_slot():
    """From a public V1 bot (RoboAdvisor): "I'm {age} and I want to invest for my retirement",
    with a number slot for the amount that no sample names. "35" is the age, said where the
    sample puts it; it does not also fill the amount, and no other word becomes the age."""
    bot = make_bot({"RecommendPortfolio": (
        ["I want to save money for my retirement", "I'm {age} and I want to invest for my retirement"],
        {"age": (SlotType("AMAZON.MusicVideo", builtin="AMAZON.MUSICVIDEO"), True),
         "investmentAmount": (NUMBER, True)})}, version="V1")
    reply = bot.new_session(today=TODAY).turn("I'm 35 and I want to invest for my retirement")
    assert reply.intent == "RecommendPortfolio"
    assert reply.slots == {"age": "35"}


def test_a_word_and_its_inflections_meet_whatever_its_last_consonants():
    from app.simulator.lex.words import stem
    for family in (("bill", "billing", "bills"), ("call", "calling", "called"),
                   ("staff", "staffing"), ("cancel", "cancelled", "canceled"), ("run", "running")):
        assert len({stem(word) for word in family}) == 1, family


def test_an_intent_word_that_is_also_a_name_names_the_intent():
    """From a public V2 bot (a hospital IVR): billingIntent says "billing" and has a first-name
    slot; "my bill" is about billing, not a caller named Bill."""
    bot = make_bot({"billingIntent": (["billing", "billing ward", "i would like to talk with billing ward"],
                                      {"getName": (FIRST_NAME, True)}),
                    "emergencyIntent": (["emergency", "talk with emergency ward"], {})})
    reply = bot.new_session(today=TODAY).turn("I have a question about my bill")
    assert reply.intent == "billingIntent" and reply.slots == {}
    named = bot.new_session(today=TODAY).turn("billing please, this is Susan")
    assert named.intent == "billingIntent" and named.slots == {"getName": "Susan"}
