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


def test_suites_and_bare_options_mean_run(invoke):
    result = CliRunner().invoke(cli, ["testSuite/testSalesCall.json", "-q", "--db", str(invoke.db)])
    assert result.exit_code == 0, result.output
    assert "PASS testSalesCall" in result.output
    result = CliRunner().invoke(cli, ["-q", "--db", str(invoke.db)])
    assert result.exit_code == 0 and "suites: " in result.output


def test_help_and_version(invoke):
    assert CliRunner().invoke(cli, ["-h"]).output.startswith("Usage: ")
    assert "--lambda-responses" in CliRunner().invoke(cli, ["run", "-h"]).output
    from app.version import version
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output == f"ivr-test {version()}\n"


@pytest.mark.parametrize("args, env, message", [
    (["serve"], {"PORT": "abc"}, "error: PORT: expected a whole number, got 'abc'"),
    (["run", "--concurrency", "0"], {}, "error: Invalid value for '--concurrency': 0 is not in the range x>=1."),
    (["serve", "--suites", "/nonexistent"], {}, "error: /nonexistent: cannot read file: no such file"),
    (["results", "--last", "-1"], {}, "error: Invalid value for '--last': -1 is not in the range x>=1."),
    (["nosuchthing"], {}, "error: 'nosuchthing' is neither a suite file or folder nor a command"),
    (["run", "--hours", "sometimes"], {}, "error: Invalid value for '--hours'"),
    (["run", "--seed", "x"], {"IVR_SEED": "1"}, "error: Invalid value for '--seed'"),
    (["run"], {"IVR_SEED": "x"}, "error: IVR_SEED: expected a whole number, got 'x'"),
])
def test_setup_errors_are_one_line_and_exit_2(args, env, message, tmp_path):
    result = CliRunner().invoke(cli, args + ["--db", str(tmp_path / "db.json")], env=env)
    assert result.exit_code == 2, result.output
    assert result.output.startswith(message) and "Traceback" not in result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 or (args[0] == "serve" and lines[-1].startswith("error: not serving")), lines


def test_serve_on_a_busy_port_is_one_line_and_exit_2(tmp_path):
    import socket
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--port", str(port), "--db", str(tmp_path / "db.json")])
    assert result.exit_code == 2
    assert result.output == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use "
                             "(is another server using it? set PORT or pass --port)\n")
    db = tmp_path / "db.json"
    assert not db.exists() or json.loads(db.read_text())["_default"] == {}, "nothing queued"


def test_ctrl_c_exits_130(invoke, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("app.cli.execute", interrupted)
    result = invoke("run", "testSuite/testSalesCall.json", "-q")
    assert result.exit_code == 130 and "interrupted" in result.output


def test_validate_reports_every_error_in_a_file(invoke, tmp_path):
    (tmp_path / "typos.json").write_text(json.dumps([
        {"expct": ["x"], "then": "presss=1"},
        {"expect": ["y"], "timeout": 0, "match": "fuzy"},
    ]))
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error: ")]
    where = f"error: {tmp_path / 'typos.json'}: "
    assert errors == [where + 'step 1: unknown key "expct" (did you mean "expect"?)',
                      where + 'step 1: "expect": expected a non-empty list of phrases or one phrase, got null',
                      where + 'step 1: "then": unknown action "presss=1" (expected null, press=DIGITS, say=TEXT or hangup)',
                      where + 'step 2: "match": unknown mode "fuzy" (expected ' + ", ".join(__import__("app.matching").matching.MATCH_MODES) + ")",
                      where + 'step 2: "timeout": expected a number greater than 0 and at most 60, got 0']


def test_run_html_is_this_invocation_and_report_selects_by_invocation(invoke, tmp_path):
    invoke("run", "testSuite", "-q")                                  # an earlier invocation
    html = tmp_path / "this.html"
    result = invoke("run", "examples/failing", "-q", "--html", str(html))
    assert result.exit_code == 1 and f"HTML report: {html} (2 runs)" in result.output
    page = html.read_text()
    assert page.count('<details class="run"') == 2 and "the greeting changed" in page
    assert "testSalesCall" not in page
    runs = json.loads(invoke.db.read_text())["_default"].values()
    ids = {run["invocation"] for run in runs}
    assert len(ids) == 2
    older = next(run["invocation"] for run in runs if run["file"].startswith("testSuite/"))
    out = tmp_path / "older.xml"
    result = invoke("report", "--junit", str(out), "--invocation", older, "--db", str(invoke.db))
    assert result.exit_code == 0 and f"({len(runs) - 2} runs)" in result.output
    assert "wrong_greeting" not in out.read_text() and "testSalesCall.json::step 1" in out.read_text()
    last = tmp_path / "last.html"
    assert invoke("report", "--html", str(last), "--db", str(invoke.db)).exit_code == 0   # default: last
    assert last.read_text().count('<details class="run"') == 2
    result = invoke("report", "--html", str(last), "--invocation", "nope", "--db", str(invoke.db))
    assert result.exit_code == 2 and "no runs of invocation 'nope'" in result.output
