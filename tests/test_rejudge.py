"""`rejudge`: stored runs judged again against an edited suite, without a call."""
import json

from click.testing import CliRunner

from app.cli import cli
from app.rejudge import rejudge, would_fail
from app.suite import parse_suite

SUITE = "testSuite/menuRetry.json"


def stored_run(tmp_path):
    db = tmp_path / "db.json"
    assert CliRunner().invoke(cli, ["run", SUITE, "--db", str(db), "-q"]).exit_code == 0
    return db, json.loads(CliRunner().invoke(cli, ["results", "--json", "--db", str(db)]).output)[0]


def edited(tmp_path, step, **changes):
    data = json.loads(open(SUITE).read())
    data["steps"][step].update(changes)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    return path


def test_the_suite_as_run_still_passes(tmp_path):
    db, doc = stored_run(tmp_path)
    result = CliRunner().invoke(cli, ["rejudge", doc["unique_id"], "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "would pass" in result.output and "0 of 1 runs would fail" in result.output


def test_an_edited_expect_shows_which_step_would_now_fail(tmp_path):
    db, doc = stored_run(tmp_path)
    path = edited(tmp_path, 2, expect=["Which band do you like best?"])
    result = CliRunner().invoke(cli, ["rejudge", doc["unique_id"], str(path), "--db", str(db)])
    assert result.exit_code == 1
    assert "would FAIL" in result.output
    assert "step 3: now fails: expected 'Which band do you like best?', heard" in result.output
    assert "1 of 1 runs would fail" in result.output


def test_a_changed_action_stops_judging_where_the_call_diverges(tmp_path):
    _, doc = stored_run(tmp_path)
    data = json.loads(open(SUITE).read())
    data["steps"][1]["then"] = "press=2"
    verdicts = rejudge(doc, parse_suite(data, "edited.json"))
    assert [v.now for v in verdicts] == [True, True, None]
    assert "the suite now does press=2 where the call did press=1" in verdicts[-1].note
    assert not would_fail(verdicts)


def test_without_the_file_the_stored_steps_are_used(tmp_path):
    _, doc = stored_run(tmp_path)
    doc["file"] = str(tmp_path / "gone.json")
    from app.generate.commands import _suite_of
    from app.suite import load_suite
    suite = _suite_of(doc, load_suite, parse_suite)
    assert len(suite.steps) == 4 and not would_fail(rejudge(doc, suite))
