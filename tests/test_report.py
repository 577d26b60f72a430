"""Console output: what each mode prints, and the closing summary in plain text and rich."""
import io
import re
from pathlib import Path
from types import SimpleNamespace

import click
from rich.console import Console

from app.report import ConsoleReporter, duration_seconds, print_summary, summary_lines

ANSI = re.compile(r"\x1b\[")
STYLE = re.compile(r"\x1b\[[0-9;]*m")
ROOT = Path(__file__).resolve().parent.parent
GREETING = "Hello, and welcome to the awesome phone center, press 1 for sales."


def passing_doc(run_id="run-pass"):
    return {"unique_id": run_id, "suite": "sales line", "file": "testSuite/sales.json",
            "target": "aws-connect-contact-flows", "status": "complete", "passedSteps": 1,
            "totalSteps": 1, "virtualSeconds": 13.75, "endReason": "complete",
            "results": [step_result(1, "passed", 1.0, heard=GREETING.lower(), action="press=1")]}


def failing_doc(run_id="run-fail"):
    return {"unique_id": run_id, "suite": "greeting changed", "file": "examples/wrong.json",
            "target": "aws-connect-contact-flows", "status": "failed", "passedSteps": 0,
            "totalSteps": 1, "startTimestamp": "2026-01-01T10:00:00.000+00:00",
            "endTimeStamp": "2026-01-01T10:01:05.500+00:00", "endReason": "no-match",
            "results": [step_result(1, "failed", 0.6885, expected=["Welcome to the terrible phone center."],
                                    heard="hello and welcome", reason="no-match")]}


def step_result(step, status, score, heard, expected=(GREETING,), reason=None, action=None):
    return {"file": "f.json", "step": step, "status": status, "actualResult": heard,
            "expected": list(expected), "matchedPhrase": expected[0], "score": score,
            "confidence": 0.91, "reason": reason, "action": action, "waited": 7.8}


def play(reporter, doc, caller="1"):
    """Feed a reporter what a runner would: heard lines, the verdicts, the end."""
    run_id = doc["unique_id"]
    reporter.heard(None, {"t": 0.0, "party": "ivr", "kind": "say", "text": GREETING}, run_id)
    reporter.run_changed(SimpleNamespace(run_id=run_id, results=doc["results"]))
    reporter.heard(None, {"t": 7.8, "party": "caller", "kind": "press", "text": caller}, run_id)
    reporter.finished(doc)


def plain(**kwargs):
    lines = []
    return ConsoleReporter(echo=lines.append, **kwargs), lines


def rich_console(terminal=True):
    return Console(file=io.StringIO(), force_terminal=terminal, width=200, color_system="standard")


def test_quiet_prints_one_line_per_suite():
    reporter, lines = plain(quiet=True)
    play(reporter, passing_doc())
    play(reporter, failing_doc())
    assert lines == ["PASS sales line (1/1 steps, complete)", "FAIL greeting changed (0/1 steps, failed)"]


def test_default_prints_the_call_then_the_verdict_line():
    reporter, lines = plain()
    play(reporter, passing_doc())
    assert lines[0] == "── sales line (testSuite/sales.json) → aws-connect-contact-flows"
    assert f"IVR: {GREETING}" in lines[1] and "step 1 passed, score 1.00" in lines[2]
    assert "Caller: press 1" in lines[3] and lines[-1] == "PASS sales line (1/1 steps, complete)"
    assert not any("matched" in line for line in lines)


def test_verbose_adds_each_steps_detail():
    reporter, lines = plain(verbose=True)
    play(reporter, failing_doc())
    text = "\n".join(lines)
    assert "step 1 FAILED (no-match), score 0.69" in text
    assert 'heard "hello and welcome"' in text
    assert 'matched "Welcome to the terrible phone center."' in text
    assert "confidence 0.91" in text and "waited 7.8 s" in text and "then nothing" in text


def test_verbose_shows_the_action_taken():
    reporter, lines = plain(verbose=True)
    play(reporter, passing_doc())
    assert any("then press=1" in line for line in lines)


def test_quiet_wins_over_verbose():
    reporter, lines = plain(quiet=True, verbose=True)
    play(reporter, failing_doc())
    assert lines == ["FAIL greeting changed (0/1 steps, failed)"]


def test_a_colour_terminal_gets_rich_lines_and_a_progress_display():
    console = rich_console()
    reporter = ConsoleReporter(console=console, total=2)
    play(reporter, passing_doc())
    assert reporter._progress is not None, "shown while calls run"
    play(reporter, failing_doc())
    assert reporter._progress is None, "taken down once every call is done"
    out = console.file.getvalue()
    assert ANSI.search(out) and "PASS sales line" in out and "FAIL greeting changed" in out
    assert "calls" in out and "2/2" in out and "1 passed" in out and "1 failed" in out


def test_the_progress_display_stays_down_after_the_last_call():
    console = rich_console()
    reporter = ConsoleReporter(console=console, total=1)
    play(reporter, passing_doc())
    reporter.run_changed(SimpleNamespace(run_id="run-pass", results=passing_doc()["results"]))
    assert reporter._progress is None


def test_no_color_and_non_terminals_get_plain_text_and_no_progress():
    for reporter in (ConsoleReporter(console=rich_console(), color=False, echo=click.echo),
                     ConsoleReporter(console=rich_console(terminal=False))):
        assert not reporter.rich
        reporter.start()
        assert reporter._progress is None


def test_plain_output_goes_to_echo_even_on_a_terminal_with_no_color():
    console, lines = rich_console(), []
    reporter = ConsoleReporter(console=console, color=False, echo=lines.append)
    play(reporter, passing_doc())
    assert lines[-1] == "PASS sales line (1/1 steps, complete)" and console.file.getvalue() == ""


def test_an_explicit_echo_is_plain_text_unless_color_is_asked_for():
    lines = []
    assert not ConsoleReporter(console=rich_console(), echo=lines.append).rich
    assert ConsoleReporter(console=rich_console(), echo=lines.append, color=True).rich


def test_the_live_runners_notes_go_through_the_reporter():
    console = rich_console()
    reporter = ConsoleReporter(console=console, total=1)
    reporter.start()
    reporter.echo("calling +15551234567")
    reporter.close()
    assert "calling +15551234567" in console.file.getvalue()


def test_duration_is_virtual_seconds_offline_and_the_timestamps_live():
    assert duration_seconds(passing_doc()) == 13.75
    assert duration_seconds(failing_doc()) == 65.5
    assert duration_seconds({"status": "queued"}) is None


def test_plain_summary_is_an_aligned_table_with_the_first_failure():
    lines = summary_lines([passing_doc(), failing_doc()])
    header, passing, failing, closing = lines
    assert header.split() == ["suite", "status", "steps", "duration", "first", "failure"]
    assert passing.split()[-4:] == ["complete", "1/1", "13.8", "s"]
    assert header.index("status") == passing.index("complete") == failing.index("failed")
    assert header.index("duration") == failing.index("1 min 06 s")
    assert 'step 1: expected "Welcome to the terrible phone center.", heard "hello and welcome"' in failing
    assert "(score 0.69, no-match)" in failing
    assert closing == "suites: 1 passed, 1 failed"


def test_the_closing_line_is_not_what_ci_parses_as_pytests_own():
    for line in summary_lines([passing_doc(), failing_doc()]):
        assert not re.fullmatch(r"\d+ passed, \d+ failed", line.strip())


def test_a_run_that_never_judged_a_step_shows_why_it_stopped():
    doc = dict(failing_doc(), status="error", results=[], endReason="flow export not found")
    assert summary_lines([doc])[1].endswith("flow export not found")


def test_print_summary_plain_echoes_table_closing_line_and_coverage():
    lines = []
    coverage = {"aws-connect-contact-flows": SimpleNamespace(summary=lambda: "coverage: 4/16 blocks")}
    print_summary([passing_doc(), failing_doc()], coverage, echo=lines.append, console=rich_console())
    assert lines[0] == "" and lines[1].startswith("suite")
    assert lines[-2:] == ["suites: 1 passed, 1 failed", "aws-connect-contact-flows: coverage: 4/16 blocks"]


def test_print_summary_rich_draws_a_table_with_expected_heard_and_score():
    console, lines = rich_console(), []
    print_summary([passing_doc(), failing_doc()], echo=click.echo, console=console)
    out = STYLE.sub("", console.file.getvalue())
    assert "┃ suite" in out and "first failure" in out and lines == []
    assert "greeting changed" in out and "examples/wrong.json" in out
    assert 'expected "Welcome to the terrible phone center."' in out
    assert 'heard "hello and welcome"' in out and "score 0.69, no-match" in out
    assert "13.8 s" in out and "1 min 06 s" in out and "suites: 1 passed, 1 failed" in out


def test_print_summary_rich_drops_the_failure_column_when_all_passed():
    console = rich_console()
    print_summary([passing_doc()], console=console, color=True)
    out = console.file.getvalue()
    assert "sales line" in out and "first failure" not in out and "suites: 1 passed, 0 failed" in out


def test_a_real_offline_run_through_the_reporter(store, monkeypatch):
    from app.runner import Job, OfflineRunner
    from app.suite import load_suites
    from app.targets import resolve_target
    monkeypatch.chdir(ROOT)
    suites, _ = load_suites(["examples/failing/wrong_greeting.json", "testSuite/testSalesCall.json"])
    reporter, lines = plain(total=2)
    jobs = [Job(s, resolve_target(None, s.target, None, None)) for s in suites]
    result = OfflineRunner(store, reporter=reporter).run(jobs)
    text = "\n".join(lines)
    assert f"IVR: {GREETING}" in text and "Caller: press 1" in text
    assert "FAIL failing on purpose" in text and "PASS testSalesCall (2/2 steps, complete)" in text
    summary = summary_lines(result.documents)
    assert summary[-1] == "suites: 1 passed, 1 failed"
    assert "score 0.72, no-match, number: expected 9, heard 1" in "\n".join(summary)
    assert "diff: [+hello] [+and] welcome to the [terrible→awesome] phone center press [9→1]" in "\n".join(summary)
