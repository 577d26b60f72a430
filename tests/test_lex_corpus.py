"""The public Lex exports in tests/fixtures/real/lex: every bot loads, and natural paraphrases
(written for this project, none a sample of the bot) reach the intent a real Lex would pick."""
import json
from datetime import date
from pathlib import Path

import pytest

from app.simulator.lex import LexBot

CORPUS = Path(__file__).resolve().parent / "fixtures" / "real" / "lex"
PARAPHRASES = json.loads((CORPUS / "paraphrases.json").read_text())
BOTS = sorted(name for name in PARAPHRASES if not name.startswith("_"))
CALL_DATE = date(2026, 3, 4)


def picked(bot, said):
    """The intent the bot picks for a first utterance; None when it does not understand."""
    reply = bot.new_session(today=CALL_DATE).turn(said)
    if reply.intent in (None, "FallbackIntent") or reply.state == "Failed":
        return None
    return reply.intent


def test_the_corpus_has_five_public_bots_of_both_versions_and_fifty_paraphrases():
    exports = [p for p in CORPUS.iterdir() if p.name not in ("paraphrases.json", "SOURCES.md")]
    assert len(exports) >= 5 and set(BOTS) == {p.name for p in exports}
    versions = {LexBot.load(CORPUS / name).version for name in BOTS}
    assert versions == {"V1", "V2"}
    assert sum(len(PARAPHRASES[name]) for name in BOTS) >= 50
    sources = (CORPUS / "SOURCES.md").read_text()
    assert all(f"`{name}" in sources for name in BOTS)


@pytest.mark.parametrize("name", BOTS)
def test_every_bot_loads_with_intents_and_sample_utterances(name):
    bot = LexBot.load(CORPUS / name)
    real = [i for i in bot.intents.values() if not i.is_fallback]
    assert real and all(i.templates for i in real), name
    expected = {want for _, want in PARAPHRASES[name] if want}
    assert expected <= {i.name for i in real}, expected - {i.name for i in real}


def test_paraphrase_hit_rate_is_at_least_90_percent():
    results = [(name, said, want, picked(LexBot.load(CORPUS / name), said))
               for name in BOTS for said, want in PARAPHRASES[name]]
    misses = [r for r in results if r[2] != r[3]]
    rate = 1 - len(misses) / len(results)
    assert rate >= 0.9, f"hit rate {rate:.0%}; misses: {misses}"


@pytest.mark.parametrize("name", BOTS)
def test_each_bot_sends_unrelated_input_to_its_fallback(name):
    """Every bot has at least one out-of-domain phrasing, and a real Lex would not match it."""
    unrelated = [said for said, want in PARAPHRASES[name] if want is None]
    assert unrelated
    bot = LexBot.load(CORPUS / name)
    assert [picked(bot, said) for said in unrelated].count(None) >= len(unrelated) - 1


def test_airline_bot_reads_cities_dates_and_passengers_from_one_sentence():
    bot = LexBot.load(CORPUS / "AirlineBot")
    reply = bot.new_session(today=CALL_DATE).turn(
        "I want to book a round trip flight from Boston to Chicago on march tenth for two "
        "passengers")
    assert reply.intent == "BookFlight"
    assert reply.slots == {"TripType": "Round Trip", "OriginCity": "Boston",
                           "DestinationCity": "Chicago", "DepartureDate": "2026-03-10",
                           "NumberOfPassengers": "2"}


def test_travel_bot_takes_cities_by_their_cue_words():
    bot = LexBot.load(CORPUS / "TravelBuddy-DRAFT-ZDTO0KRNFY-LexJson.zip")
    reply = bot.new_session(today=CALL_DATE).turn("get me a plane ticket from Dallas to Miami")
    assert reply.intent == "BookFlight"
    assert reply.slots == {"LocationFrom": "Dallas", "LocationTo": "Miami"}


def test_the_v2_built_in_repeat_intent_understands_lex_own_phrases():
    bot = LexBot.load(CORPUS / "OrderFlower-repeat-DRAFT-LexJson.zip")
    assert picked(bot, "can you say that again") == "RepeatIntent"
    # The Lex V2 FallbackIntent guide's own example for an OrderFlowers bot.
    assert picked(bot, "I'd like to order candy") is None
