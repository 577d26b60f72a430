"""The offline Lex bot: loading V1 and V2 exports, recognizing intents, and the dialogue rules."""
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from app.errors import LexError
from app.simulator.lex import LexBot, LexReply, min_score
from app.simulator.recognizer import Recognizer

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_BOT = ROOT / "aws-lex-bot"
V2_FIXTURE = ROOT / "tests" / "fixtures" / "lex_v2"
V2_LOCALE = "PhoneBank/BotLocales/en_US"
CLARIFY = "Sorry, I did not catch that. Who is your favorite programmer?"
ABORT = "Sorry, I could not understand. Goodbye."
ASK_PROGRAMMER = "Who is your favorite programmer?"


@pytest.fixture(scope="module")
def v1_bot():
    return LexBot.load(SAMPLE_BOT)


@pytest.fixture(scope="module")
def v2_bot():
    return LexBot.load(V2_FIXTURE)


def zip_folder(folder: Path, target: Path) -> Path:
    """Zip a folder's contents at the zip root, as a Lex V2 export is laid out."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return target


def copy_v2(tmp_path) -> Path:
    return Path(shutil.copytree(V2_FIXTURE, tmp_path / "export"))


def edit_json(path: Path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def talk(bot, *utterances) -> list[LexReply]:
    session = bot.new_session()
    return [session.turn(u) for u in utterances]


# --------------------------------------------------------------------------- V1 sample bot


def test_sample_bot_loads_from_its_folder(v1_bot):
    assert v1_bot.name == "FavoriteProgrammer"
    assert v1_bot.locale == "en-US"
    assert list(v1_bot.intents) == ["PersonName"]
    assert v1_bot.confidence_threshold == 0.4
    assert v1_bot.min_score == pytest.approx(0.76)
    assert v1_bot.clarification == CLARIFY
    assert v1_bot.abort == ABORT
    assert v1_bot.fallback_intent is None


def test_sample_bot_file_is_a_faithful_v1_export():
    data = json.loads((SAMPLE_BOT / "FavoriteProgrammer_Export.json").read_text())
    assert data["metadata"] == {"schemaVersion": "1.0", "importType": "LEX", "importFormat": "JSON"}
    slot = data["resource"]["intents"][0]["slots"][0]
    assert slot["slotConstraint"] == "Required" and slot["slotType"] == "ProgrammerName"
    assert data["resource"]["slotTypes"][0]["valueSelectionStrategy"] == "TOP_RESOLUTION"


@pytest.mark.parametrize("said, programmer", [
    ("alan turing", "alan turing"),
    ("Alan Turing.", "alan turing"),
    ("my favorite programmer is grace hopper", "grace hopper"),
    ("It's Linus Torvalds!", "linus torvalds"),
    ("alan turnig", "alan turing"),
    ("garce hopper", "grace hopper"),
    ("turing", "alan turing"),
    ("it is van rossum", "guido van rossum"),
    ("tim berners lee", "tim berners-lee"),
])
def test_v1_recognizes_a_programmer_and_resolves_the_canonical_value(v1_bot, said, programmer):
    [reply] = talk(v1_bot, said)
    assert (reply.state, reply.intent, reply.slots) == ("Fulfilled", "PersonName",
                                                        {"Programmer": programmer})
    assert reply.message is None  # ReturnIntent: no conclusion statement in a V1 export
    assert reply.done


def test_noise_from_the_recognizer_still_matches(v1_bot):
    recognizer = Recognizer(noise="realistic", seed=7, error_rate=1.0)
    for name in ("alan turing", "ada lovelace", "grace hopper", "dennis ritchie",
                 "guido van rossum", "margaret hamilton", "bjarne stroustrup"):
        heard, _ = recognizer.transcribe(f"Um, my favorite programmer is {name.title()}.", key=name)
        assert heard == f"my favorite programmer is {name}"  # filler dropped, case and punctuation lost
        [reply] = talk(v1_bot, heard)
        assert reply.slots == {"Programmer": name}, heard


def test_no_match_clarifies_max_attempts_times_then_aborts(v1_bot):
    replies = talk(v1_bot, "pizza please", "what", "no idea")
    assert [(r.state, r.message, r.intent) for r in replies] == [
        ("ElicitIntent", CLARIFY, None),
        ("ElicitIntent", CLARIFY, None),
        ("Failed", ABORT, None),
    ]
    assert [r.done for r in replies] == [False, False, True]


def test_no_input_counts_as_a_miss(v1_bot):
    replies = talk(v1_bot, None, "", None)
    assert [r.state for r in replies] == ["ElicitIntent", "ElicitIntent", "Failed"]
    assert replies[-1].message == ABORT


def test_a_match_resets_the_miss_count(v1_bot):
    replies = talk(v1_bot, "pizza", "ada lovelace", "pizza", "pizza", "grace hopper")
    assert [r.state for r in replies] == ["ElicitIntent", "Fulfilled", "ElicitIntent",
                                          "ElicitIntent", "Fulfilled"]


def test_carrier_phrase_alone_cannot_carry_an_unknown_name(v1_bot):
    [reply] = talk(v1_bot, "it is bob")
    assert reply.state == "ElicitIntent"


def test_v1_carrier_phrase_with_unknown_name_elicits_the_slot(v1_bot):
    replies = talk(v1_bot, "my favorite programmer is bob", "it is hoper")
    assert [(r.state, r.message) for r in replies] == [("ElicitSlot", ASK_PROGRAMMER),
                                                       ("Fulfilled", None)]
    assert replies[1].slots == {"Programmer": "grace hopper"}


def test_v1_slot_elicitation_fails_after_max_attempts(v1_bot):
    replies = talk(v1_bot, "my favorite programmer is bob", "bob", "still bob")
    assert [r.state for r in replies] == ["ElicitSlot", "ElicitSlot", "Failed"]
    assert (replies[-1].message, replies[-1].intent) == (ABORT, "PersonName")


def test_session_starts_over_after_an_exchange_ends(v1_bot):
    replies = talk(v1_bot, "x", "y", "z", "ada")
    assert [r.state for r in replies] == ["ElicitIntent", "ElicitIntent", "Failed", "Fulfilled"]


# --------------------------------------------------------------------------- V2 fixture


def test_v2_folder_loads(v2_bot):
    assert v2_bot.name == "PhoneBank"
    assert v2_bot.locale == "en_US"
    assert set(v2_bot.intents) == {"CheckBalance", "TalkToAgent", "FallbackIntent"}
    assert v2_bot.fallback_intent.name == "FallbackIntent"
    assert v2_bot.confidence_threshold == 0.4


def test_v2_elicits_a_required_slot_and_closes_with_its_value(v2_bot):
    replies = talk(v2_bot, "check my balance", "it is one two three four")
    assert [(r.state, r.intent, r.message) for r in replies] == [
        ("ElicitSlot", "CheckBalance", "What is your account number?"),
        ("Fulfilled", "CheckBalance", "Checking the balance for account 1234."),
    ]
    assert replies[1].slots == {"AccountNumber": "1234"}


def test_v2_slot_given_in_the_first_utterance_is_not_asked(v2_bot):
    [reply] = talk(v2_bot, "balance for account 5678")
    assert (reply.state, reply.slots) == ("Fulfilled", {"AccountNumber": "5678"})


def test_v2_optional_slot_is_filled_when_said_and_not_asked_otherwise(v2_bot):
    [with_slot] = talk(v2_bot, "connect me to tech support")
    [without] = talk(v2_bot, "talk to an agent")
    assert with_slot.slots == {"Department": "technical support"}
    assert (without.state, without.intent, without.slots) == ("Fulfilled", "TalkToAgent", {})


def test_v2_slot_retries_exhausted_resolve_to_the_fallback_intent(v2_bot):
    # maxRetries 1: the prompt is spoken twice, then Lex invokes FallbackIntent.
    replies = talk(v2_bot, "what is my balance", "um", "no")
    assert [(r.state, r.intent) for r in replies] == [
        ("ElicitSlot", "CheckBalance"), ("ElicitSlot", "CheckBalance"),
        ("Fulfilled", "FallbackIntent")]


def test_v2_has_no_clarification_prompt_a_miss_goes_straight_to_fallback(v2_bot):
    # Lex V2 has no bot-level clarification prompt: input it does not understand (or none)
    # matches AMAZON.FallbackIntent at once, which Connect takes as the no-match branch.
    replies = talk(v2_bot, "pizza", None, "weather", "check my balance")
    assert [(r.state, r.message, r.intent) for r in replies] == [
        ("Fulfilled", None, "FallbackIntent"),
        ("Fulfilled", None, "FallbackIntent"),
        ("Fulfilled", None, "FallbackIntent"),
        ("ElicitSlot", "What is your account number?", "CheckBalance"),
    ]
    assert v2_bot.clarification is None and v2_bot.version == "V2"


def test_v2_loads_from_a_zip(tmp_path, v2_bot):
    bot = LexBot.load(zip_folder(V2_FIXTURE, tmp_path / "PhoneBank_DRAFT_X_LexJson.zip"))
    assert (bot.name, set(bot.intents)) == (v2_bot.name, set(v2_bot.intents))
    assert talk(bot, "balance for account 42")[0].slots == {"AccountNumber": "42"}


def test_a_folder_holding_one_zip_loads_it(tmp_path):
    holder = tmp_path / "bot"
    holder.mkdir()
    zip_folder(V2_FIXTURE, holder / "export.zip")
    assert LexBot.load(holder).name == "PhoneBank"


def test_a_v1_export_zip_loads(tmp_path):
    target = tmp_path / "FavoriteProgrammer.zip"
    with zipfile.ZipFile(target, "w") as archive:
        name = "FavoriteProgrammer_Export.json"
        archive.write(SAMPLE_BOT / name, name)
    assert talk(LexBot.load(target), "ada")[0].slots == {"Programmer": "ada lovelace"}


def test_v2_confidence_threshold_tightens_matching(tmp_path):
    folder = copy_v2(tmp_path)
    edit_json(folder / V2_LOCALE / "BotLocale.json",
              lambda d: d.update(nluConfidenceThreshold=1.0))
    strict = LexBot.load(folder)
    assert strict.min_score == 1.0
    assert talk(strict, "check my balance")[0].intent == "CheckBalance"
    assert talk(strict, "check my balanse")[0].intent == "FallbackIntent"
    assert talk(LexBot.load(V2_FIXTURE), "check my balanse")[0].intent == "CheckBalance"


def test_threshold_scale():
    assert min_score(0.4) == pytest.approx(0.76)
    assert (min_score(0.0), min_score(1.0)) == (0.6, 1.0)


# --------------------------------------------------------------------------- broken exports


def test_invalid_json_names_the_file(tmp_path):
    broken = tmp_path / "Broken_Export.json"
    broken.write_text('{"metadata": {')
    with pytest.raises(LexError, match=r"Broken_Export\.json: invalid JSON at line 1"):
        LexBot.load(broken)


def test_missing_resource_names_the_file(tmp_path):
    broken = tmp_path / "NoResource.json"
    broken.write_text(json.dumps({"metadata": {"schemaVersion": "1.0", "importType": "LEX",
                                               "importFormat": "JSON"}}))
    with pytest.raises(LexError, match=r"NoResource\.json: .*missing 'resource'"):
        LexBot.load(broken)


def test_a_slot_type_export_is_not_a_bot(tmp_path):
    export = tmp_path / "SlotType.json"
    export.write_text(json.dumps({"metadata": {"importType": "LEX", "importFormat": "JSON"},
                                  "resource": {"name": "T", "enumerationValues": []}}))
    with pytest.raises(LexError, match="slot type export"):
        LexBot.load(export)


def test_undefined_slot_type_is_reported(tmp_path):
    data = json.loads((SAMPLE_BOT / "FavoriteProgrammer_Export.json").read_text())
    data["resource"]["slotTypes"] = []
    (tmp_path / "bot.json").write_text(json.dumps(data))
    with pytest.raises(LexError, match=r"bot\.json: intent 'PersonName'.*'ProgrammerName'"):
        LexBot.load(tmp_path / "bot.json")


def test_broken_intent_inside_a_zip_names_the_entry(tmp_path):
    folder = copy_v2(tmp_path)
    (folder / V2_LOCALE / "Intents" / "TalkToAgent" / "Intent.json").write_text("{nope")
    archive = zip_folder(folder, tmp_path / "broken.zip")
    with pytest.raises(LexError, match=r"broken\.zip!PhoneBank/BotLocales/en_US/Intents/"
                                       r"TalkToAgent/Intent\.json: invalid JSON"):
        LexBot.load(archive)


def test_placeholder_without_a_slot_is_reported(tmp_path):
    folder = copy_v2(tmp_path)
    edit_json(folder / V2_LOCALE / "Intents" / "TalkToAgent" / "Intent.json",
              lambda d: d["sampleUtterances"].append({"utterance": "call {Nobody}"}))
    with pytest.raises(LexError, match=r"Intent\.json: intent 'TalkToAgent'.*\{Nobody\}"):
        LexBot.load(folder)


def test_missing_path_and_ambiguous_folder(tmp_path):
    with pytest.raises(LexError, match="no such file"):
        LexBot.load(tmp_path / "absent.json")
    (tmp_path / "a.json").write_text("{}")
    (tmp_path / "b.json").write_text("{}")
    with pytest.raises(LexError, match="exactly one Lex export.*a.json, b.json"):
        LexBot.load(tmp_path)


def test_not_a_zip_export(tmp_path):
    archive = tmp_path / "empty.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(LexError, match=r"empty\.zip: not a Lex export"):
        LexBot.load(archive)


# --------------------------------------------------------------------------- properties


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.text(max_size=12), st.none()), min_size=1, max_size=5))
def test_any_input_gives_a_valid_deterministic_reply(v1_bot, utterances):
    first, second = talk(v1_bot, *utterances), talk(v1_bot, *utterances)
    assert first == second
    for reply in first:
        assert reply.state in ("ElicitIntent", "ElicitSlot", "Fulfilled", "Failed")
        assert reply.done == (reply.state in ("Fulfilled", "Failed"))
        assert set(reply.slots) <= {"Programmer"}


def _paths(node, prefix=()):
    """Every path to a value inside a JSON document."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else ()
    for key, child in children:
        yield from _paths(child, prefix + (key,))


_ODD_VALUES = [None, True, 0, -1, "", "x", [], {}, ["x"], {"a": 1}]


def _mangled(document, path, value):
    data = json.loads(json.dumps(document))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


def test_every_mangled_field_loads_or_raises_lex_error(tmp_path):
    """Replace each field of the sample export, one at a time, with each odd value."""
    export = json.loads((SAMPLE_BOT / "FavoriteProgrammer_Export.json").read_text())
    target = tmp_path / "bot.json"
    for path in [p for p in _paths(export) if p]:
        for value in _ODD_VALUES:
            target.write_text(json.dumps(_mangled(export, path, value)))
            try:
                bot = LexBot.load(target)
            except LexError as exc:
                assert "bot.json" in str(exc), (path, value)
                continue
            assert_known_states(talk(bot, "alan turing", "nobody", None, "x", "y"))


def assert_known_states(replies):
    """A bot that loads from a mangled export still answers only as Lex does."""
    for reply in replies:
        assert reply.state in ("ElicitIntent", "ElicitSlot", "Fulfilled", "Failed"), reply
        assert reply.message is None or isinstance(reply.message, str)


def test_every_mangled_v2_field_loads_or_raises_lex_error(tmp_path):
    """The same, for every file of the V2 fixture; errors name the broken file."""
    folder = copy_v2(tmp_path)
    for file in sorted(folder.rglob("*.json")):
        original = file.read_text()
        document = json.loads(original)
        for path in [p for p in _paths(document) if p]:
            for value in _ODD_VALUES:
                file.write_text(json.dumps(_mangled(document, path, value)))
                try:
                    bot = LexBot.load(folder)
                except LexError as exc:
                    assert str(folder) in str(exc), (file, path, value)
                    continue
                assert_known_states(talk(bot, "check my balance", "1 2", "talk to billing", None, "x", "y"))
        file.write_text(original)
