"""Generated suites: they pass, reach every reachable branch, carry readable names and the
conditions they need, and fail when a prompt is edited."""
import json
from pathlib import Path
import re
import threading

import pytest
from werkzeug.serving import make_server

from app.generate.pipeline import generate, verify, write
from app.suite import load_suite
from app.targets import parse_target, resolve_target
from examples.showtimes.app import create_app as create_showtimes

ACME = ("tests/fixtures/generate/AcmeMenu.json", "tests/fixtures/generate/AcmeHelper_Export.json")


def generated(target, tmp_path, **options):
    gen = generate(target, **options)
    paths = write(gen, tmp_path / "generated")
    return gen, paths, verify(gen, paths)


def assert_all_pass_and_cover(gen, check):
    assert check.documents and not check.failed, [d.get("endReason") for d in check.failed]
    assert check.covered == check.reachable and check.percent == 100.0
    names = [suite["name"] for suite in gen.suites]
    assert len(set(names)) == len(names)
    for name in names:
        assert re.search(r"\b(press \S+|says .+|no input)", name), name


@pytest.fixture
def showtimes_url():
    server = make_server("127.0.0.1", 0, create_showtimes(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"twiml:http://127.0.0.1:{server.server_port}/voice"
    server.shutdown()
    server.server_close()


def test_sample_flow_suites_pass_cover_every_reachable_branch_and_say_why_the_rest_cannot(tmp_path):
    gen, paths, check = generated(resolve_target(), tmp_path)
    assert_all_pass_and_cover(gen, check)
    names = [s["name"] for s in gen.suites]
    assert "sales: press 1, says alan turing, alan turing is a legend, goodbye" in names
    assert any(name.endswith("(hours closed)") for name in names)
    reasons = {branch: reason for branch, reason in gen.unreachable}
    assert reasons[("transfer-to-support", "QueueAtCapacity", "hang-up")] == "queues never fill up offline"
    assert len(gen.reached) + len(gen.unreachable) == 26 and len(gen.reached) == 20
    notes = (tmp_path / "generated" / "UNREACHABLE.txt").read_text()
    assert "transfer-to-support -[QueueAtCapacity]-> hang-up: queues never fill up offline" in notes
    first = json.loads(paths[0].read_text())
    folder = paths[0].parent                  # a suite's paths are read relative to the suite
    assert (folder / first["target"]).resolve() == Path("aws-connect-contact-flows").resolve()
    assert (folder / first["lexBot"]).resolve() == Path("aws-lex-bot").resolve()
    assert {step["timeout"] for step in first["steps"]} == {3.0}


def test_the_loop_is_driven_to_its_limit_and_the_bot_to_giving_up(tmp_path):
    gen, _, _ = generated(resolve_target(), tmp_path)
    assert ("menu-attempts", "DoneLooping", "say-goodbye") in gen.reached
    assert ("ask-programmer", "Error", "say-not-understood") in gen.reached
    closed = next(s for s in gen.suites if s.get("hours") == "closed")
    assert closed["steps"][-1]["expect"] == ["Support is closed. Goodbye."]


def test_legacy_sample_generates_the_same_coverage(tmp_path):
    target = parse_target("aws-connect-contact-flows/legacy/SalesIVR.json", "aws-lex-bot")
    gen, _, check = generated(target, tmp_path)
    assert_all_pass_and_cover(gen, check)
    assert len(gen.reached) == 20


def test_showtimes_app_over_http(tmp_path, showtimes_url):
    gen, paths, check = generated(parse_target(showtimes_url), tmp_path)
    assert_all_pass_and_cover(gen, check)
    said = {step["expect"][0] for suite in gen.suites for step in suite["steps"]}
    assert "Sorry, that is not a valid choice. Please choose a theater. For Downtown Cinema, press 1 or " \
           "say Downtown. For Riverside Plaza, press 2 or say Riverside." in said
    endings = {suite["steps"][-1]["expect"][0].split(" is playing")[0] for suite in gen.suites}
    assert {"The Matrix", "Casablanca", "Jurassic Park", "Toy Story"} <= endings
    assert all(json.loads(p.read_text())["target"] == showtimes_url for p in paths)


def test_conditions_hours_lambda_and_compare_values_are_set_in_the_suites(tmp_path):
    gen, _, check = generated(parse_target(*ACME), tmp_path)
    assert_all_pass_and_cover(gen, check)
    by_ending = {s["steps"][-1]["expect"][0]: s for s in gen.suites}
    assert by_ending["Support is closed. Goodbye."]["hours"] == "closed"
    assert by_ending["Billing is unavailable right now. Goodbye."]["lambdaResponses"] == {}
    assert by_ending["You owe nothing. Goodbye."]["lambdaResponses"] == {"billingLookup": {"balanceDue": "0"}}
    assert by_ending["You owe 1 dollars. Goodbye."]["lambdaResponses"] == {"billingLookup": {"balanceDue": "1"}}
    assert "hours" not in by_ending["Your order ships tomorrow. Goodbye."]
    lex = [s for s in gen.suites if any(step["then"] == "press=5" for step in s["steps"])]
    said = {step["then"] for s in lex for step in s["steps"]}
    assert {"say=track order 42", "say=pay my bill", "say=talk to someone in billing"} <= said
    assert len(gen.reached) == 38


def test_max_suites_and_max_depth_bound_the_result(tmp_path):
    gen = generate(resolve_target(), max_suites=2)
    assert len(gen.suites) == 2
    shallow = generate(resolve_target(), max_depth=1)
    assert max(len(s["steps"]) for s in shallow.suites) <= 2
    assert ("menu-attempts", "DoneLooping", "say-goodbye") not in shallow.reached
    reasons = dict(shallow.unreachable)
    assert "not within --max-depth 1" in reasons[("menu-attempts", "DoneLooping", "say-goodbye")]


def test_a_generated_suite_edited_to_a_wrong_prompt_fails(tmp_path):
    gen = generate(resolve_target())
    paths = write(gen, tmp_path / "generated")
    closed = next(p for p in paths if json.loads(p.read_text()).get("hours") == "closed")
    suite = json.loads(closed.read_text())
    suite["steps"][-1]["expect"] = ["Support is open. Please hold."]
    closed.write_text(json.dumps(suite))
    check = verify(gen, paths)
    assert [d["file"] for d in check.failed] == [str(closed)]
    last = check.failed[0]["results"][-1]
    assert last["reason"] == "no-match" and last["expected"] == ["Support is open. Please hold."]
    assert last["actualResult"].lower().startswith("support is closed")
    conditions = load_suite(closed).conditions
    assert conditions["hours"] == "closed" and set(conditions) == {"hours", "lexBot"}
    assert (closed.parent / conditions["lexBot"]).resolve() == Path("aws-lex-bot").resolve()


def test_a_lex_v2_bot_with_a_fallback_intent_and_slots(tmp_path):
    gen, _, check = generated(parse_target("tests/fixtures/generate/BankLexV2.json", "tests/fixtures/lex_v2"), tmp_path)
    assert_all_pass_and_cover(gen, check)
    said = {step["then"] for suite in gen.suites for step in suite["steps"]}
    assert "say=balance for account 42" in said
    assert any(t and t.startswith("say=") and "billing" in t for t in said)
    assert dict(gen.unreachable)[("bot", "Error", "error")] == \
        "the bot never fails: what it cannot place goes to its fallback intent"


def test_a_phone_number_cannot_be_explored():
    from app.errors import TargetError
    with pytest.raises(TargetError, match="snapshot"):
        generate(parse_target("+15551234567"))


def test_writing_again_replaces_generated_files_and_keeps_the_users(tmp_path):
    out = tmp_path / "generated"
    out.mkdir()
    (out / "mine.json").write_text(json.dumps({"name": "mine", "steps": [{"expect": "x"}]}))
    stale = out / "99-stale.json"
    stale.write_text(json.dumps({"name": "old", "description": "Generated by `python main.py generate`: x.",
                                 "steps": [{"expect": "x"}]}))
    paths = write(generate(resolve_target(), max_suites=1), out)
    assert sorted(p.name for p in out.glob("*.json")) == sorted([paths[0].name, "mine.json"])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_generated_suites_pass_whatever_the_recognizer_seed(tmp_path, seed):
    gen = generate(parse_target(*ACME))
    check = verify(gen, write(gen, tmp_path / "generated"), seed=seed)
    assert len(check.documents) == len(gen.suites) and not check.failed


def test_cli_writes_lists_and_verifies_and_says_when_nothing_was_heard(tmp_path):
    from click.testing import CliRunner

    from app.cli import cli
    out = tmp_path / "generated"
    result = CliRunner().invoke(cli, ["generate", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "verified: 5/5 suites pass; coverage: 20/20 reachable branches (100%)" in result.output
    assert "transfer-to-support -[QueueAtCapacity]-> hang-up: queues never fill up offline" in result.output
    assert len(list(out.glob("*.json"))) == 5
    silent = tmp_path / "silent.json"
    silent.write_text(json.dumps({"Version": "2019-10-30", "StartAction": "bye", "Actions": [
        {"Identifier": "bye", "Type": "DisconnectParticipant", "Parameters": {}, "Transitions": {}}]}))
    result = CliRunner().invoke(cli, ["generate", str(silent), "-o", str(tmp_path / "none")])
    assert result.exit_code == 1 and "nothing to generate" in result.output


def test_generated_suites_run_under_the_pytest_plugin_with_their_own_bot(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "generated"
    write(generate(parse_target(*ACME), max_suites=3), out)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p",
                           "app.pytest_plugin", str(out), "--ivr-db", str(tmp_path / "db.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 passed" in done.stdout
