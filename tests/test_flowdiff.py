"""`diff`: a flow against a changed copy reports exactly the paths whose words changed."""
import json

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.flowdiff import diff
from app.targets import parse_target

SAMPLE = "aws-connect-contact-flows/SalesIVR.json"
BOT = "aws-lex-bot"


def changed_copy(tmp_path, block_id, text=None, next_action=None):
    flow = json.loads(open(SAMPLE).read())
    for action in flow["Actions"]:
        if action["Identifier"] == block_id:
            if text is not None:
                action["Parameters"]["Text"] = text
            if next_action is not None:
                action["Transitions"]["NextAction"] = next_action
    path = tmp_path / f"{block_id}.json"
    path.write_text(json.dumps(flow))
    return str(path)


def test_one_changed_prompt_is_reported_on_exactly_its_path(tmp_path):
    new = changed_copy(tmp_path, "say-support-closed", "Support is closed today. Please call back tomorrow.")
    changes, _, _ = diff(parse_target(SAMPLE, BOT), parse_target(new, BOT))
    assert [(c.path, c.condition, c.old, c.new) for c in changes] == [
        (("press 2",), "hours closed", "Support is closed. Goodbye.",
         "Support is closed today. Please call back tomorrow.")]
    assert changes[0].line() == ("press 2 (hours closed): now says 'Support is closed today. Please call back "
                                 "tomorrow.' instead of 'Support is closed. Goodbye.'")


def test_a_changed_greeting_is_one_change_at_the_start(tmp_path):
    new = changed_copy(tmp_path, "main-menu", "Welcome to the new phone center, press 1 for sales.")
    changes, _, _ = diff(parse_target(SAMPLE, BOT), parse_target(new, BOT))
    assert len(changes) == 1 and changes[0].path == ()
    assert changes[0].line().startswith("at the start: now says 'Welcome to the new phone center")


def test_a_rewired_branch_says_what_the_caller_now_hears(tmp_path):
    new = changed_copy(tmp_path, "say-please-hold", next_action="say-goodbye")
    changes, _, _ = diff(parse_target(SAMPLE, BOT), parse_target(new, BOT))
    assert changes and all(c.path[-1] == "press 2" for c in changes)
    assert any(c.old == "Please hold while we connect you to support." and
               c.new == "Please hold while we connect you to support. Goodbye." for c in changes)


def test_the_same_flow_in_both_formats_has_no_change_and_exits_0():
    result = CliRunner().invoke(cli, ["diff", SAMPLE, "aws-connect-contact-flows/legacy/SalesIVR.json",
                                      "--lex-bot", BOT])
    assert result.exit_code == 0, result.output
    assert "no change for the caller on 10 paths played both ways" in result.output


def test_cli_exits_1_and_prints_the_change(tmp_path):
    new = changed_copy(tmp_path, "say-support-closed", "Support is shut.")
    result = CliRunner().invoke(cli, ["diff", SAMPLE, new, "--lex-bot", BOT])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == ("press 2 (hours closed): now says 'Support is shut.' instead of "
                                             "'Support is closed. Goodbye.'")


@pytest.mark.parametrize("args", [["diff", "nope.json", SAMPLE], ["generate", "nope.json"]])
def test_a_missing_flow_is_bad_input(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "nope.json" in result.output


def test_same_words_but_another_queue_is_a_changed_ending(tmp_path):
    flow = json.loads(open(SAMPLE).read())
    flow["Metadata"]["ActionMetadata"]["set-support-queue"]["queue"]["text"] = "Billing"
    new = tmp_path / "queue.json"
    new.write_text(json.dumps(flow))
    changes, _, _ = diff(parse_target(SAMPLE, BOT), parse_target(str(new), BOT))
    assert [c.line() for c in changes] == [
        "press 2: the call now ends 'transferred to queue Billing' instead of 'transferred to queue Support'"]
