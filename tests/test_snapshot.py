"""`snapshot`: a stored run becomes a suite that replays the call and passes."""
import json

import pytest
from click.testing import CliRunner

from app.cli import cli
from app.runner import Job, OfflineRunner
from app.snapshot import ivr_pauses, snapshot
from app.suite import load_suite, parse_suite
from app.targets import resolve_target


def run_offline(store, *suites, noise="realistic"):
    jobs = [Job(s, resolve_target(None, s.target, None, s.conditions.get("lexBot"))) for s in suites]
    return OfflineRunner(store, noise=noise).run(jobs).documents


def test_a_stored_run_becomes_a_suite_that_passes(store):
    doc = run_offline(store, load_suite("testSuite/menuRetry.json"))[0]
    suite = snapshot(doc)
    assert [s["expect"] for s in suite["steps"]] == [[r["actualResult"]] for r in doc["results"]]
    assert [s["then"] for s in suite["steps"]] == [None, "press=1", "say=ada lovelace", None]
    assert [s["timeout"] for s in suite["steps"]] == [3, 3, 3, 3]
    assert suite["target"] == "aws-connect-contact-flows" and suite["lexBot"] == "aws-lex-bot"
    replay = run_offline(store, parse_suite(suite, "snapshot.json"))[0]
    assert replay["status"] == "complete", replay["results"]


def test_a_failed_run_is_kept_up_to_the_step_that_failed(store):
    doc = run_offline(store, load_suite("examples/failing/wrong_branch.json"))[0]
    assert doc["status"] == "failed"
    suite = snapshot(doc)
    failed = next(i for i, r in enumerate(doc["results"]) if r["status"] == "failed")
    assert len(suite["steps"]) == failed + 1 and suite["steps"][-1]["then"] is None
    assert run_offline(store, parse_suite(suite, "snap.json"))[0]["status"] == "complete"


def test_conditions_of_the_run_are_kept(store):
    data = {"name": "closed", "hours": "closed", "steps": [
        {"expect": "Hello, and welcome to the awesome phone center, press 1 for sales.", "then": "press=2", "timeout": 3},
        {"expect": "Support is closed. Goodbye.", "timeout": 3}]}
    doc = run_offline(store, parse_suite(data, "closed.json"))[0]
    assert doc["status"] == "complete" and doc["conditions"] == {"hours": "closed"}
    assert snapshot(doc)["hours"] == "closed"


def test_a_pause_longer_than_the_timeout_raises_it():
    doc = {"unique_id": "r1", "startTimestamp": "2026-01-01T00:00:00+00:00", "status": "complete",
           "instructions": [{"expect": ["x"], "then": "press=1", "timeout": 3}, {"expect": ["y"], "timeout": 3}],
           "results": [{"status": "passed", "actualResult": "one two. three", "action": "press=1",
                        "judgedAt": "2026-01-01T00:00:10+00:00"},
                       {"status": "passed", "actualResult": "bye", "action": None,
                        "judgedAt": "2026-01-01T00:00:20+00:00"}],
           "transcript": [{"t": 0.0, "party": "ivr", "kind": "say", "text": "one two."},
                          {"t": 4.8, "party": "ivr", "kind": "say", "text": "three"},
                          {"t": 10.0, "party": "caller", "kind": "press", "text": "1"},
                          {"t": 10.5, "party": "ivr", "kind": "say", "text": "bye"}]}
    assert ivr_pauses(doc) == [4.0, 0.0]
    assert [s["timeout"] for s in snapshot(doc)["steps"]] == [5.0, 3]


def test_a_live_run_without_transcript_keeps_the_timeouts_it_ran_with():
    doc = {"unique_id": "live1", "target": "+15551234567", "status": "complete", "mode": "live",
           "instructions": [{"expect": ["a"], "then": "press=2", "timeout": 4}],
           "results": [{"status": "passed", "actualResult": "Press 2 for support.", "action": "press=2"}]}
    suite = snapshot(doc)
    assert suite["target"] == "+15551234567" and suite["steps"] == [
        {"expect": ["Press 2 for support."], "then": None, "timeout": 4}]


def test_nothing_heard_is_an_error():
    with pytest.raises(ValueError, match="nothing was heard"):
        snapshot({"unique_id": "x", "results": [{"actualResult": None}]})


def test_cli_writes_the_suite_and_names_an_unknown_run(tmp_path):
    db, out = tmp_path / "db.json", tmp_path / "snap" / "golden.json"
    runner = CliRunner()
    assert runner.invoke(cli, ["run", "testSuite/supportTransfer.json", "--db", str(db), "-q"]).exit_code == 0
    run_id = json.loads(runner.invoke(cli, ["results", "--json", "--db", str(db)]).output)[0]["unique_id"]
    result = runner.invoke(cli, ["snapshot", run_id, "-o", str(out), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert load_suite(out).steps[0].then.value == "2"
    assert runner.invoke(cli, ["run", str(out), "--db", str(db), "-q"]).exit_code == 0
    missing = runner.invoke(cli, ["snapshot", "nope", "--db", str(db)])
    assert missing.exit_code == 2 and "no run nope" in missing.output
