"""What a person reads: live lines while calls run, and a summary when they are done."""
import json

import click

PARTY_LABELS = {"caller": "Caller", "ivr": "IVR", "network": "Network"}


def describe_entry(entry):
    """One line of a call's transcript: `IVR: ...`, `Caller: press 1`, `Caller: hangs up`."""
    label = PARTY_LABELS.get(entry["party"], entry["party"])
    if entry["kind"] == "press":
        return f"{label}: press {entry['text']}"
    if entry["kind"] == "hangup":
        return f"{label}: hangs up ({entry['text']})"
    return f"{label}: {entry['text']}"


def describe_failure(result):
    """Expected vs heard for a failed step, with the score and the reason."""
    expected = " | ".join(json.dumps(p) for p in result.get("expected") or []) or "(anything)"
    heard = json.dumps(result["actualResult"]) if result.get("actualResult") is not None else "nothing"
    score = f"score {result['score']:.2f}, " if result.get("score") is not None else ""
    return (f"step {result['step']}: expected {expected}\n"
            f"    heard {heard} ({score}{result.get('reason') or 'failed'})")


def first_failure(doc):
    return next((r for r in doc.get("results", []) if r["status"] != "passed"), None)


def passed(doc):
    return doc.get("status") == "complete"


class ConsoleReporter:
    """Prints each call: its `IVR:`/`Caller:` lines and verdicts, then a PASS/FAIL line; with
    `quiet`, only that last line. Offline calls run many at a time in no wall time, so each
    call's lines are held and printed together when it ends, which keeps them readable."""

    def __init__(self, quiet=False, echo=click.echo):
        self.quiet, self.echo = quiet, echo
        self._seen, self._lines = {}, {}

    def heard(self, suite, entry, run_id):
        self._lines.setdefault(run_id, []).append(f"  {entry['t']:6.1f}s  {describe_entry(entry)}")

    def run_changed(self, session):
        seen = self._seen.get(session.run_id, 0)
        for result in session.results[seen:]:
            verdict = "passed" if result["status"] == "passed" else f"FAILED ({result['reason']})"
            score = f", score {result['score']:.2f}" if result.get("score") is not None else ""
            self._lines.setdefault(session.run_id, []).append(f"          step {result['step']} {verdict}{score}")
        self._seen[session.run_id] = len(session.results)

    def finished(self, doc):
        lines = self._lines.pop(doc["unique_id"], [])
        if not self.quiet:
            self.echo(f"── {doc['suite']} ({doc['file']}) → {doc.get('target')}")
            for line in lines:
                self.echo(line)
        mark = "PASS" if passed(doc) else "FAIL"
        self.echo(f"{mark} {doc['suite']} ({doc['passedSteps']}/{doc['totalSteps']} steps, {doc['status']})")


def summary_lines(docs):
    """A table of runs, then each failure as expected vs heard."""
    width = max([len(d.get("suite") or "") for d in docs] + [5])
    lines = [f"{'suite':<{width}}  {'status':<11}  steps  ivr outcome"]
    for doc in docs:
        steps = f"{doc.get('passedSteps', 0)}/{doc.get('totalSteps', 0)}"
        lines.append(f"{doc.get('suite', ''):<{width}}  {doc['status']:<11}  {steps:<5}  "
                     f"{doc.get('ivrOutcome') or doc.get('endReason') or ''}")
    for doc in docs:
        if passed(doc):
            continue
        failure = first_failure(doc)
        detail = describe_failure(failure) if failure else doc.get("endReason") or doc["status"]
        lines.append(f"FAILED {doc.get('suite')} ({doc.get('file')}): {detail}")
    ok = sum(passed(d) for d in docs)
    lines.append(f"suites: {ok} passed, {len(docs) - ok} failed")
    return lines
