"""What a person reads: live lines while calls run, and a summary when they are done.

Two audiences read the same runs. A person at a terminal gets colour, a progress display and a
rich table; a CI log (stdout not a terminal, `NO_COLOR`, or `--no-color`) gets plain aligned text
that greps well. Every choice between the two goes through `use_rich`, so they never mix.
"""
import json
from datetime import datetime

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

PARTY_LABELS = {"caller": "Caller", "ivr": "IVR", "network": "Network"}
STATUS_STYLES = {"complete": "green", "failed": "red"}
DETAIL_INDENT = " " * 17


def party_label(entry):
    """`IVR`, `Caller` or `Network` for a transcript entry."""
    party = entry.get("party")
    return PARTY_LABELS.get(party, party or "?")


def entry_text(entry):
    """What a transcript entry said or did: the words, `press 1`, or `hangs up (reason)`; for
    the caller's speech, also what the IVR's recognizer made of it when that differs."""
    text = entry.get("text")
    heard = entry.get("heard")
    if entry.get("party") == "caller" and entry.get("kind") == "say" and heard and heard != text:
        return f"{text} (the IVR heard {json.dumps(heard)})"
    return {"press": f"press {text}", "hangup": f"hangs up ({text})"}.get(entry.get("kind"), text)


def describe_entry(entry):
    """One line of a call's transcript: `IVR: ...`, `Caller: press 1`, `Caller: hangs up`."""
    return f"{party_label(entry)}: {entry_text(entry)}"


def instruction(doc, number):
    """Step `number` (1-based) as the suite wrote it, or {} when the run does not have it."""
    steps = doc.get("instructions") or []
    step = steps[number - 1] if 0 < number <= len(steps) else {}
    return step if isinstance(step, dict) else {}


def expected_text(result):
    """The acceptable phrasings, quoted, or `(anything)` for `match: any`."""
    return " | ".join(json.dumps(p) for p in result.get("expected") or []) or "(anything)"


def heard_text(result):
    """The transcript judged, quoted, or `nothing` for a timeout."""
    return json.dumps(result["actualResult"]) if result.get("actualResult") is not None else "nothing"


def score_reason(result):
    """`score 0.94, no-match, number: expected 2, heard 1`: how close it came, and why it failed
    (the matching rule that failed, when there is one)."""
    score = f"score {result['score']:.2f}, " if result.get("score") is not None else ""
    rule = f", {result['rule']}: {result.get('ruleDetail') or ''}".rstrip(": ") if result.get("rule") else ""
    return f"{score}{result.get('reason') or 'failed'}{rule}"


def diff_text(result, prefix=""):
    """The word diff of a failed step ("press [2→1] for sales"), or "" when there is none."""
    return f"{prefix}diff: {result['diff']}" if result.get("diff") else ""


def failure_line(result, sep=", ", score_sep=" "):
    """Expected vs heard for a failed step, with the score, the reason and the word diff; one
    line by default, or split with `sep`/`score_sep` for a narrow table column."""
    return (f"step {result['step']}: expected {expected_text(result)}{sep}"
            f"heard {heard_text(result)}{score_sep}({score_reason(result)}){diff_text(result, sep)}")


def first_failure(doc):
    return next((r for r in doc.get("results", []) if r["status"] != "passed"), None)


def passed(doc):
    return doc.get("status") == "complete"


def why_failed(doc):
    """What to show for a run that did not pass: its first failed step, else why it stopped;
    a Twilio application error (code and URL) comes first, being the cause."""
    if passed(doc):
        return ""
    failure = first_failure(doc)
    cause = app_error(doc)
    if failure is None:
        return cause or doc.get("endReason") or doc.get("status") or ""
    return (f"{cause}; " if cause else "") + failure_line(failure)


def app_error(doc):
    """`Twilio error 11200 at URL` for a TwiML app that failed, else ""."""
    error = doc.get("appError")
    return error.get("summary", "") if isinstance(error, dict) else ""


def failure_cell(doc):
    """Why a run failed, over short lines that a narrow table column wraps cleanly."""
    failure = first_failure(doc) if not passed(doc) else None
    if failure is None:
        return why_failed(doc)
    return failure_line(failure, sep="\n", score_sep="\n")


def step_detail(result):
    """The verbose lines under a verdict: what was heard, what matched, how sure, what next."""
    parts = []
    if result.get("matchedPhrase") is not None:
        parts.append(f"matched {json.dumps(result['matchedPhrase'])}")
    for key, label in (("score", "score"), ("confidence", "confidence")):
        if result.get(key) is not None:
            parts.append(f"{label} {result[key]:.2f}")
    if result.get("waited") is not None:
        parts.append(f"waited {result['waited']:.1f} s")
    parts.append(f"then {result.get('action') or 'nothing'}")
    return [f"{DETAIL_INDENT}heard {heard_text(result)}", f"{DETAIL_INDENT}{', '.join(parts)}"]


def parse_iso(text):
    """A stored ISO-8601 timestamp as a datetime, or None when it is missing or unreadable."""
    try:
        return datetime.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def duration_seconds(doc):
    """How long the call took: virtual seconds offline, wall time between the timestamps live;
    None when neither is known."""
    if isinstance(doc.get("virtualSeconds"), (int, float)):
        return max(0.0, float(doc["virtualSeconds"]))
    start, end = parse_iso(doc.get("startTimestamp")), parse_iso(doc.get("endTimeStamp"))
    return max(0.0, (end - start).total_seconds()) if start and end else None


def wall_seconds(doc):
    """How long the run took in real time: measured for offline calls (`wallSeconds`), the
    timestamps' span for live ones (which are wall times); 0 when unknown."""
    if isinstance(doc.get("wallSeconds"), (int, float)):
        return max(0.0, float(doc["wallSeconds"]))
    if doc.get("mode") == "offline" or isinstance(doc.get("virtualSeconds"), (int, float)):
        return 0.0
    return duration_seconds(doc) or 0.0


def format_duration(seconds):
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def steps_cell(doc):
    return f"{doc.get('passedSteps', 0)}/{doc.get('totalSteps', 0)}"


def closing_line(docs):
    """The last line; prefixed, so CI tools that parse pytest's "N passed, N failed" skip it."""
    ok = sum(passed(d) for d in docs)
    return f"suites: {ok} passed, {len(docs) - ok} failed"


SUMMARY_HEADER = ("suite", "status", "steps", "duration", "first failure")


def summary_rows(docs):
    return [(doc.get("suite") or "", doc.get("status") or "", steps_cell(doc),
             format_duration(duration_seconds(doc)), why_failed(doc)) for doc in docs]


def summary_lines(docs):
    """The summary as plain aligned text: a table of runs, then the closing line."""
    rows = [SUMMARY_HEADER] + summary_rows(docs)
    widths = [max(len(row[i]) for row in rows) for i in range(len(SUMMARY_HEADER) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1] for row in rows]
    return [line.rstrip() for line in lines] + [closing_line(docs)]


def summary_table(docs):
    """The summary as a rich Table; the failure cell spreads expected and heard over lines,
    and is left out when every run passed."""
    any_failed = not all(passed(d) for d in docs)
    table = Table(header_style="bold")
    for name in SUMMARY_HEADER[:4] + SUMMARY_HEADER[4:] * any_failed:
        table.add_column(name, overflow="fold", no_wrap=name in ("status", "steps", "duration"))
    for doc, row in zip(docs, summary_rows(docs)):
        suite = Text(row[0])
        suite.append(f"\n{doc.get('file') or ''}", style="dim")
        status = Text(row[1], style=STATUS_STYLES.get(row[1], "yellow"))
        cells = [suite, status, row[2], row[3]] + [Text(failure_cell(doc), style="red")] * any_failed
        table.add_row(*cells)
    return table


def use_rich(console, color=None, echo=click.echo):
    """Rich output only on a terminal that allows colour. `color=False` (`--no-color`) forces
    plain text; an explicit `echo` (a test's list, a log) is a plain-text sink unless `color`
    says otherwise."""
    if color is not None:
        return bool(color)
    return echo is click.echo and console.is_terminal and not console.no_color


def print_summary(documents, coverage=None, echo=click.echo, color=None, console=None):
    """Print the closing summary: the table, the closing line, then each flow's coverage."""
    console = console or Console(highlight=False)
    coverage = coverage or {}
    notes = [f"{path}: {cov.summary()}" for path, cov in coverage.items()]
    if not use_rich(console, color, echo):
        for line in [""] + summary_lines(documents) + notes:
            echo(line)
        return
    console.print()
    if documents:
        console.print(summary_table(documents))
    ok = all(passed(d) for d in documents)
    console.print(Text(closing_line(documents), style="bold green" if ok else "bold red"))
    for note in notes:
        console.print(Text(note, style="dim"))


class ConsoleReporter:
    """Prints each call: its `IVR:`/`Caller:` lines and verdicts, then a PASS/FAIL line; with
    `quiet`, only that last line; with `verbose`, each verdict's detail too. Offline calls run
    many at a time in no wall time, so each call's lines are held and printed together when it
    ends, which keeps them readable. On a colour terminal a progress display (calls done of
    `total`, passes, failures, elapsed time) stays below the lines until `close()`."""

    def __init__(self, quiet=False, echo=click.echo, verbose=False, color=None, total=None,
                 console=None):
        self.quiet, self.verbose = quiet, verbose and not quiet
        self._echo = echo
        self.console = console or Console(highlight=False)
        self.rich = use_rich(self.console, color, echo)
        self.total = total
        self.counts = {"done": 0, "passed": 0, "failed": 0}
        self._progress = self._task = None
        self._progress_shown = False
        self._seen, self._lines = {}, {}

    # -- output -------------------------------------------------------------------------------

    def echo(self, text="", style=None):
        """Every line goes through here (the live runner's notes too), so on a terminal it
        lands above the progress display instead of tearing it."""
        if self.rich:
            self.console.print(Text(text, style=style or ""))
        else:
            self._echo(text)

    def start(self):
        """Show the progress display; it starts by itself at the first event, too, and once
        taken down stays down (runs still report their last changes after the count is full)."""
        if self._progress_shown or not (self.rich and self.console.is_terminal):
            return
        self._progress_shown = True
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        self._progress = Progress(
            TextColumn("calls"), BarColumn(), MofNCompleteColumn(),
            TextColumn("[green]{task.fields[passed]} passed[/] [red]{task.fields[failed]} failed[/]"),
            TimeElapsedColumn(), console=self.console, transient=True)
        self._task = self._progress.add_task("calls", total=self.total, passed=0, failed=0)
        self._progress.start()

    def close(self):
        """Take the progress display down; call it before printing the summary."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        self.close()

    # -- events from the runners --------------------------------------------------------------

    def heard(self, suite, entry, run_id):
        self.start()
        style = "cyan" if entry["party"] == "caller" else None
        self._hold(run_id, f"  {entry['t']:6.1f}s  {describe_entry(entry)}", style)

    def run_changed(self, session):
        self.start()
        seen = self._seen.get(session.run_id, 0)
        for result in session.results[seen:]:
            self._verdict(session.run_id, result)
        self._seen[session.run_id] = len(session.results)

    def finished(self, doc, lines=None):
        """Print a finished call; `lines` are its held lines when another process held them."""
        self.start()
        lines = self._lines.pop(doc["unique_id"], []) if lines is None else lines
        if not self.quiet:
            self.echo(f"── {doc['suite']} ({doc['file']}) → {doc.get('target')}", "bold")
            for text, style in lines:
                self.echo(text, style)
        ok = passed(doc)
        cause = f": {app_error(doc)}" if app_error(doc) else ""
        self.echo(f"{'PASS' if ok else 'FAIL'} {doc['suite']} ({doc['passedSteps']}/{doc['totalSteps']} "
                  f"steps, {doc['status']}){cause}", "bold green" if ok else "bold red")
        self._count(ok)

    def take_held(self, run_id):
        """Remove and return a call's held lines (a worker process sends them to the parent)."""
        return self._lines.pop(run_id, [])

    # -- helpers ------------------------------------------------------------------------------

    def _hold(self, run_id, text, style=None):
        self._lines.setdefault(run_id, []).append((text, style))

    def _verdict(self, run_id, result):
        ok = result["status"] == "passed"
        verdict = "passed" if ok else f"FAILED ({result['reason']})"
        score = f", score {result['score']:.2f}" if result.get("score") is not None else ""
        self._hold(run_id, f"          step {result['step']} {verdict}{score}", "green" if ok else "red")
        if not ok and result.get("diff"):
            self._hold(run_id, f"{DETAIL_INDENT}{score_reason(result)}; {diff_text(result)}", "red")
        if self.verbose:
            for line in step_detail(result):
                self._hold(run_id, line, "dim")

    def _count(self, ok):
        self.counts["done"] += 1
        self.counts["passed" if ok else "failed"] += 1
        if self._progress is not None:
            self._progress.update(self._task, completed=self.counts["done"],
                                  passed=self.counts["passed"], failed=self.counts["failed"])
            if self.total is not None and self.counts["done"] >= self.total:
                self.close()
