"""Judge stored runs again against a suite, without placing a call.

Change an `expect` and see which stored calls would have failed: each stored step's heard text
is matched against the suite's step as it is now. Where the suite now does something else than
the caller did (another key), the stored call no longer tells what would have been heard next,
so judging stops there and says so.
"""
from dataclasses import dataclass

from app.matching import match


@dataclass
class Verdict:
    step: int                  # 1-based
    was: bool
    now: bool | None           # None: not judged (see note)
    expected: tuple = ()
    heard: str | None = None
    score: float | None = None
    note: str = ""

    def line(self):
        if self.now is None:
            return f"step {self.step}: {self.note}"
        change = ("now fails" if self.was else "still fails") if not self.now else (
            "now passes" if not self.was else "passes")
        detail = ""
        if not self.now:
            shown = " | ".join(self.expected)
            detail = f": expected {shown!r}, heard {self.heard!r}"
            detail += f" (score {self.score:.2f})" if self.score is not None else ""
        return f"step {self.step}: {change}{detail}{' - ' + self.note if self.note else ''}"


def rejudge(doc, suite):
    """[Verdict] for every step of the stored run `doc` against `suite` (a Suite)."""
    verdicts = []
    instructions = doc.get("instructions") or []
    for index, result in enumerate(doc.get("results") or []):
        number, was = index + 1, result.get("status") == "passed"
        if index >= len(suite.steps):
            verdicts.append(Verdict(number, was, None, note="the suite has no such step any more"))
            break
        step, heard = suite.steps[index], result.get("actualResult")
        if heard is None:
            verdicts.append(Verdict(number, was, False, step.expect, None, None,
                                    result.get("reason") or "nothing heard"))
            continue
        verdict = match(step.expect, heard, step.match, step.threshold)
        verdicts.append(Verdict(number, was, verdict.passed, step.expect, heard, verdict.score))
        did = (instructions[index] or {}).get("then") if index < len(instructions) else None
        if verdict.passed and did != step.then.to_json() and index + 1 < len(suite.steps):
            verdicts.append(Verdict(number + 1, False, None,
                                    note=f"not judged: the suite now does {step.then} where the call did "
                                         f"{did or 'nothing'}, so what it would hear is unknown"))
            break
    stored = len(doc.get("results") or [])
    if stored < len(suite.steps) and (not verdicts or verdicts[-1].now is not None):
        verdicts.append(Verdict(stored + 1, False, None, note="not reached by the stored call"))
    return verdicts


def would_fail(verdicts):
    """Whether the run would not pass now (steps that cannot be judged are reported, not failed)."""
    return any(v.now is False for v in verdicts)
