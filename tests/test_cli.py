import json
import re

import pytest
from click.testing import CliRunner

from app.cli import cli


@pytest.fixture
def invoke(tmp_path, monkeypatch):
    monkeypatch.delenv("IVR_TARGET", raising=False)
    db = tmp_path / "db.json"

    def call(*args):
        return CliRunner().invoke(cli, [*args, "--db", str(db)] if args[0] in ("run", "results") else list(args))
    call.db = db
    return call


def test_run_with_no_suites_runs_the_samples_and_exits_0(invoke):
    result = invoke("run", "-q")
    assert result.exit_code == 0, result.output
    runs = json.loads(invoke.db.read_text())["_default"].values()
    assert {r["status"] for r in runs} == {"complete"} and len(runs) >= 5
    assert "coverage:" in result.output


def test_failing_suite_exits_1_and_shows_expected_heard_and_score(invoke):
    result = invoke("run", "examples/failing/wrong_greeting.json")
    assert result.exit_code == 1
    assert 'step 1: expected "Welcome to the terrible phone center, press 9 for complaints."' in result.output
    assert 'heard "hello and welcome' in result.output
    assert re.search(r"score 0\.\d\d, no-match", result.output)


def test_transcript_lines_are_printed(invoke):
    result = invoke("run", "testSuite/testSalesCall.json")
    assert "IVR: Hello, and welcome" in result.output and "Caller: press 1" in result.output


def test_broken_suite_exits_2_but_the_others_still_run(invoke, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('[{"expect": ["x"], "then": "presss=1"}]')
    result = invoke("run", str(bad), "testSuite/testSalesCall.json", "-q")
    assert result.exit_code == 2
    assert f'{bad}: step 1: "then": unknown action "presss=1"' in result.output
    assert len(json.loads(invoke.db.read_text())["_default"]) == 1


def test_unknown_target_exits_2_without_a_traceback(invoke):
    result = invoke("run", "--target", "nowhere.json")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert "not a flow export file or folder" in result.output


def test_validate(invoke, tmp_path):
    assert invoke("validate", "testSuite").exit_code == 0
    (tmp_path / "typo.json").write_text('[{"expct": ["x"]}]')
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2 and 'did you mean "expect"?' in result.output


def test_results_lists_recent_runs(invoke):
    invoke("run", "testSuite/testSalesCall.json", "-q")
    result = invoke("results")
    assert result.exit_code == 0 and "testSalesCall" in result.output and "complete" in result.output
    as_json = json.loads(invoke("results", "--json").output)
    assert as_json[0]["suite"] == "testSalesCall"
