"""`python main.py lex BOT "utterance" ...` shows why each turn went where it went."""
import json

from click.testing import CliRunner

from app.cli import cli

V2_BOT = "tests/fixtures/lex_v2"


def lex(*args):
    return CliRunner().invoke(cli, ["lex", *args])


def test_prints_state_intent_confidence_slots_and_message_per_turn():
    result = lex(V2_BOT, "what is my balance", "one two three four", "--today", "2026-01-05")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("PhoneBank (V2, en_US): 3 intents, confidence threshold 0.4, "
                        "date 2026-01-05")
    assert "1. caller: what is my balance" in lines
    assert "   state: ElicitSlot   intent: CheckBalance (confidence 1.00)" in lines
    assert "   bot: What is your account number?" in lines
    assert "   state: Fulfilled   intent: CheckBalance" in lines
    assert '   slots: {"AccountNumber": "1234"}' in lines
    assert "   bot: Checking the balance for account 1234." in lines


def test_json_lines_and_silence():
    result = lex(V2_BOT, "--json", "pizza", "-")
    assert result.exit_code == 0, result.output
    turns = [json.loads(line) for line in result.output.splitlines()]
    assert [(t["said"], t["state"], t["intent"]) for t in turns] == [
        ("pizza", "Fulfilled", "FallbackIntent"), (None, "Fulfilled", "FallbackIntent")]


def test_candidates_show_the_runner_up_intents():
    result = lex(V2_BOT, "talk to someone about my balance")
    assert result.exit_code == 0
    candidates = next(line for line in result.output.splitlines() if "candidates:" in line)
    assert "CheckBalance" in candidates and "TalkToAgent" in candidates


def test_a_bad_bot_is_a_clear_error(tmp_path):
    (tmp_path / "broken.json").write_text("{")
    result = lex(str(tmp_path / "broken.json"), "hi")
    assert result.exit_code == 2
    assert "broken.json: invalid JSON" in result.output
